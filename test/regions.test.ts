import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Box } from '../lib/boxes';
import {
  boundary,
  contourMetrics,
  maskPolygons,
  objectsMask,
  oracleMask,
  predictedMask,
  regionMetrics,
  squaredDistanceTo,
  type MaskedObject,
} from '../lib/regions';
import { Rng } from '../lib/rng';
import { contourMetricsLiteral } from './oracles';
import { regionSplit } from '../lib/data/splits';
import { sceneObjects } from '../lib/evaluate';
import { iou } from '../lib/boxes';
import { targetText } from '../lib/train-sft';
import { parseBoxes } from '../lib/answer';

const B = (x1: number, y1: number, x2: number, y2: number): Box => ({ x1, y1, x2, y2 });
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

/** A W × H mask with the pixels of [x0, x1) × [y0, y1) set. */
function rect(W: number, H: number, x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * W + x] = 1;
  return m;
}
const count = (m: Uint8Array) => m.reduce((s, v) => s + v, 0);

test('boundary: a square, a mask at the image edge, an L shape (SPEC §6.2)', () => {
  // a 5 × 5 square inside a 9 × 9 image: 25 pixels, 9 interior → 16 boundary
  assert.is(count(boundary(rect(9, 9, 2, 2, 7, 7), 9, 9)), 16);
  // the whole 3 × 3 image: only the centre has all four neighbours inside
  const full = boundary(rect(3, 3, 0, 0, 3, 3), 3, 3);
  assert.is(count(full), 8);
  assert.is(full[4], 0);
  // an L two pixels thick (x 1–4 on rows 1–2, x 1–2 on rows 3–4): only its inner corner (2, 2)
  // has all four neighbours inside
  const L = rect(6, 6, 1, 1, 5, 3);
  rect(6, 6, 1, 3, 3, 5).forEach((v, i) => (L[i] |= v));
  assert.is(count(L), 12);
  const edge = boundary(L, 6, 6);
  assert.is(count(edge), 11);
  assert.is(edge[2 * 6 + 2], 0);
});

test('contour metrics: identical, shifted by 1 and by 2 pixels, and empty, hand-computed', () => {
  const W = 12,
    H = 10;
  const gt = rect(W, H, 2, 2, 6, 6); // 4 × 4 square: 12 boundary pixels
  assert.equal(contourMetrics(gt, gt, W, H), { f1At1: 1, f1At3: 1, asd: 0, hd: 0 });
  // shifted right by 1: 6 of 12 boundary pixels at distance 1 each way → ASD 12/24, HD 1, all within k = 1
  assert.equal(contourMetrics(rect(W, H, 3, 2, 7, 6), gt, W, H), { f1At1: 1, f1At3: 1, asd: 0.5, hd: 1 });
  // shifted right by 2: 8 of 12 within Chebyshev 1 each way (P = R = 2/3); distances sum to 12 per side
  const m2 = contourMetrics(rect(W, H, 4, 2, 8, 6), gt, W, H);
  close(m2.f1At1, 2 / 3);
  assert.is(m2.f1At3, 1);
  close(m2.asd, 1);
  assert.is(m2.hd, 2);
  // an empty prediction: F1 0, distances the diagonal; both empty: perfect
  const none = new Uint8Array(W * H);
  const diag = Math.hypot(W, H);
  assert.equal(contourMetrics(none, gt, W, H), { f1At1: 0, f1At3: 0, asd: diag, hd: diag });
  assert.equal(contourMetrics(none, none, W, H), { f1At1: 1, f1At3: 1, asd: 0, hd: 0 });
  assert.throws(() => contourMetrics(none, new Uint8Array(3), W, H), /12 × 10 = 120/);
});

test('contour metrics agree with the literal all-pairs oracle on random masks', () => {
  const rng = new Rng(11);
  for (let t = 0; t < 60; t++) {
    const W = rng.int(3, 20),
      H = rng.int(3, 20);
    const blob = () => {
      const m = new Uint8Array(W * H);
      for (let k = rng.int(0, 3); k > 0; k--) {
        const x = rng.int(0, W - 1),
          y = rng.int(0, H - 1);
        rect(W, H, x, y, Math.min(W, x + rng.int(1, 8)), Math.min(H, y + rng.int(1, 8))).forEach((v, i) => (m[i] |= v));
      }
      return m;
    };
    const p = blob(),
      g = blob();
    const a = contourMetrics(p, g, W, H),
      b = contourMetricsLiteral(p, g, W, H);
    for (const k of ['f1At1', 'f1At3', 'asd', 'hd'] as const) close(a[k], b[k], 1e-9);
  }
});

test('the distance transform is exact (brute force over every pair)', () => {
  const rng = new Rng(3);
  const W = 17,
    H = 13;
  const set = new Uint8Array(W * H).map(() => (rng.bool(0.05) ? 1 : 0));
  set[5] = 1;
  const d = squaredDistanceTo(set, W, H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let best = Infinity;
      for (let v = 0; v < H; v++)
        for (let u = 0; u < W; u++) if (set[v * W + u]) best = Math.min(best, (x - u) ** 2 + (y - v) ** 2);
      assert.is(d[y * W + x], best);
    }
  assert.ok(squaredDistanceTo(new Uint8Array(W * H), W, H).every((v) => v === Infinity));
});

test('the oracle segmenter: the best-covered object, cut to the box (SPEC §6.2)', () => {
  const W = 10,
    H = 8;
  // object 0: a 4 × 4 square at (1, 1); object 1: a 3 × 3 square at (5, 1) with a hole at its centre
  const a: MaskedObject = { box: B(1, 1, 5, 5), mask: new Uint8Array(16).fill(1) };
  const holed = new Uint8Array(9).fill(1);
  holed[4] = 0;
  const b: MaskedObject = { box: B(5, 1, 8, 4), mask: holed };
  const objects = [a, b];
  // a box over object 1 only: its mask (8 pixels, no hole)
  assert.equal(oracleMask(B(5, 1, 8, 4), objects, W, H), objectsMask([b], W, H));
  assert.is(count(oracleMask(B(5, 1, 8, 4), objects, W, H)), 8);
  // a box over both, covering 4 pixels of a (x 3–4, y 1–2) and 2 of b (x 5, y 1–2): a, cut to the box
  const cut = oracleMask(B(3, 1, 6, 3), objects, W, H);
  assert.equal(cut, rect(W, H, 3, 1, 5, 3));
  // a tie (2 pixels each) goes to the lower index
  assert.equal(oracleMask(B(4, 1, 6, 2), objects, W, H), rect(W, H, 4, 1, 5, 2));
  // no object pixel, an invalid box, a non-finite box: empty
  assert.is(count(oracleMask(B(0, 6, 10, 8), objects, W, H)), 0);
  assert.is(count(oracleMask(B(4, 4, 2, 2), objects, W, H)), 0);
  assert.is(count(oracleMask(B(NaN, 0, 3, 3), objects, W, H)), 0);
  // a box beyond the image is clipped first
  assert.equal(oracleMask(B(-5, -5, 50, 50), objects, W, H), objectsMask([a], W, H));
  // the union over a query's boxes
  assert.equal(predictedMask([B(1, 1, 5, 5), B(5, 1, 8, 4)], objects, W, H), objectsMask(objects, W, H));
});

test('mask polygons enclose exactly the mask pixels (d3-contour)', () => {
  const W = 9,
    H = 7;
  const m = rect(W, H, 2, 1, 6, 4);
  m[5 * W + 7] = 1;
  const polys = maskPolygons(m, W, H);
  assert.is(polys.length, 2);
  const inRing = (x: number, y: number, ring: [number, number][]) => {
    let c = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i],
        [xj, yj] = ring[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
    }
    return c;
  };
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const inside = polys.some((p) => inRing(x + 0.5, y + 0.5, p[0]));
      assert.is(inside, m[y * W + x] === 1, `pixel (${x}, ${y})`);
    }
  assert.equal(maskPolygons(new Uint8Array(W * H), W, H), []);
});

test('region metrics: matched IoU, count accuracy, mask and contour averages, hand-computed', () => {
  const W = 12,
    H = 10;
  const g1 = B(0, 0, 4, 4),
    g2 = B(6, 6, 10, 10);
  const gtMask = rect(W, H, 0, 0, 4, 4);
  const r = regionMetrics([
    // perfect two-box answer: m = 1, counts agree
    { pred: [g2, g1], gts: [g1, g2] },
    // one of two boxes: m = 1/2 (≥ 0.5), counts differ
    { pred: [g1], gts: [g1, g2] },
    // an unreadable answer, even to a no-target query: m = 0, count wrong
    { pred: null, gts: [] },
    // a box where there is nothing: m = 0
    { pred: [g1], gts: [], predMask: rect(W, H, 0, 0, 4, 4), gtMask: new Uint8Array(W * H), width: W, height: H },
    // masks: identical (mask IoU 1) and half overlapping (8 / 24)
    { pred: [g1], gts: [g1], predMask: gtMask, gtMask, width: W, height: H },
    { pred: [g1], gts: [g1], predMask: rect(W, H, 2, 0, 6, 4), gtMask, width: W, height: H },
  ]);
  close(r.acc50, 4 / 6);
  close(r.meanIoU, (1 + 0.5 + 0 + 0 + 1 + 1) / 6);
  close(r.countAcc, 3 / 6); // queries 2, 3 and 4 miscount
  close(r.gIoU, (0 + 1 + 8 / 24) / 3);
  close(r.cIoU, (0 + 16 + 8) / (16 + 16 + 24));
  // contours over the two queries with a ground-truth mask
  const shifted = contourMetrics(rect(W, H, 2, 0, 6, 4), gtMask, W, H);
  close(r.f1At1, (1 + shifted.f1At1) / 2);
  close(r.asd, (0 + shifted.asd) / 2);
  assert.is(r.emptyContourRate, 0);
  assert.is(r.n, 6);
  assert.ok(Number.isNaN(regionMetrics([{ pred: [], gts: [] }]).gIoU));
  // an empty answer to a no-target query is right
  assert.is(regionMetrics([{ pred: [], gts: [] }]).acc50, 1);
});

test('on the mini world, the true boxes through the oracle give the true masks; a shifted answer scores lower', () => {
  const samples = regionSplit('region-test', { count: 60 });
  const perfect = [],
    shifted = [];
  for (const s of samples) {
    const objects = sceneObjects(s);
    const { width, height } = s.image;
    const gtMask = objectsMask(
      objects.filter((o) => s.boxes.some((b) => iou(b, o.box) === 1)),
      width,
      height,
    );
    // the SFT target lists exactly the sample's boxes
    const pred = parseBoxes(targetText(s, 'short'))!;
    assert.is(pred.length, s.boxes.length);
    perfect.push({ pred, gts: s.boxes, predMask: predictedMask(pred, objects, width, height), gtMask, width, height });
    const off = pred.map((b) => B(b.x1 + 3, b.y1 + 3, b.x2 + 3, b.y2 + 3));
    shifted.push({
      pred: off,
      gts: s.boxes,
      predMask: predictedMask(off, objects, width, height),
      gtMask,
      width,
      height,
    });
  }
  const a = regionMetrics(perfect),
    b = regionMetrics(shifted);
  assert.is(a.acc50, 1);
  assert.is(a.countAcc, 1);
  assert.ok(a.gIoU > 0.97, `gIoU ${a.gIoU}`);
  assert.ok(a.f1At1 > 0.97, `F1@1 ${a.f1At1}`);
  assert.ok(b.gIoU < a.gIoU && b.f1At1 < a.f1At1 && b.asd > a.asd, JSON.stringify(b));
});

test.run();
