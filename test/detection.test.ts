import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { iou, type Box } from '../lib/boxes';
import { averagePrecision, detectionF1, detectionMatches, meanAveragePrecision } from '../lib/detection';
import { Rng } from '../lib/rng';
import { close } from './helpers';
import { vocAp } from './oracles';

const B = (x1: number, y1: number, x2: number, y2: number): Box => ({ x1, y1, x2, y2 });
const g1 = B(0, 0, 10, 10),
  g2 = B(20, 20, 30, 30),
  miss = B(40, 40, 50, 50);

test('detection F1@0.5 (SPEC §6.3), hand-computed', () => {
  // one of two found, one false alarm: P = R = 1/2
  close(detectionF1([g1, miss], [g1, g2]), 0.5);
  // IoU 0.4 is not a detection: [0, 0, 10, 4] covers 40% of g1
  close(iou(B(0, 0, 10, 4), g1), 0.4);
  assert.is(detectionF1([B(0, 0, 10, 4)], [g1]), 0);
  // one box cannot serve two ground truths
  assert.is(detectionMatches([g1], [g1, g1]), 1);
  close(detectionF1([g1], [g1, g1]), 2 / 3); // P 1, R 1/2
  // the matching maximises total IoU among pairs ≥ 0.5, so both pairs match here
  const b1 = B(0, 0, 10, 9); // IoU 0.9 with g1
  const b2 = B(0, 0, 10, 6); // IoU 0.6 with g1, 0.75 with [0, 0, 10, 8]
  assert.is(detectionMatches([b1, b2], [g1, B(0, 0, 10, 8)]), 2);
  // pairs under 0.5 weigh nothing in the matching: A–h1 0.692 alone beats A–h2 0.294 + B–h1 0.438
  // (0.732 in total IoU, but no pair of it is a detection), so one box is found: P = R = 1/2
  const h1 = B(0, 0, 10, 10),
    h2 = B(8, 0, 18, 10),
    A = B(1, 0, 13, 10),
    Bx = B(-6, 0, 7, 10);
  close(iou(A, h1), 0.692, 1e-3);
  close(iou(A, h2) + iou(Bx, h1), 0.732, 1e-3);
  assert.is(detectionMatches([A, Bx], [h1, h2]), 1);
  close(detectionF1([A, Bx], [h1, h2]), 0.5);
  assert.is(detectionF1([], []), 1);
  assert.is(detectionF1([g1], []), 0);
  assert.is(detectionF1([], [g1]), 0);
});

test('AP@0.5 with the answer order as the ranking, hand-computed', () => {
  // TP, FP, TP over two ground truths: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 → 1/2·1 + 1/2·2/3
  close(averagePrecision([g1, miss, g2], [g1, g2]), 0.5 + 1 / 3);
  // the same boxes, ranked better: AP 1
  close(averagePrecision([g1, g2, miss], [g1, g2]), 1);
  // a duplicate of a found object is a false positive after it, costing nothing at full recall
  close(averagePrecision([g1, g1], [g1]), 1);
  // a false positive first halves the precision at recall 1
  close(averagePrecision([miss, g1], [g1]), 0.5);
  assert.is(averagePrecision([], [g1]), 0);
  assert.is(averagePrecision([], []), 1);
  assert.is(averagePrecision([g1], []), 0);
});

test('AP agrees with the VOC devkit formulation on random answers', () => {
  const rng = new Rng(5);
  const box = () => {
    const x = rng.int(0, 30),
      y = rng.int(0, 30);
    return B(x, y, x + rng.int(4, 12), y + rng.int(4, 12));
  };
  for (let t = 0; t < 300; t++) {
    const gts = Array.from({ length: rng.int(1, 5) }, box);
    // answers mixing near copies of the truth and random boxes
    const ranked = Array.from({ length: rng.int(0, 7) }, () => {
      if (rng.bool(0.6)) {
        const g = gts[rng.int(0, gts.length - 1)];
        const d = rng.int(0, 3);
        return B(g.x1 + d, g.y1, g.x2 + d, g.y2);
      }
      return box();
    });
    // the VOC rule, written out: best-IoU ground truth, a TP if ≥ 0.5 and not taken
    const taken = new Set<number>();
    const isTp = ranked.map((b) => {
      const ious = gts.map((g) => iou(b, g));
      const j = ious.indexOf(Math.max(...ious));
      if (ious[j] >= 0.5 && !taken.has(j)) {
        taken.add(j);
        return true;
      }
      return false;
    });
    close(averagePrecision(ranked, gts), vocAp(isTp, gts.length), 1e-12);
  }
});

test('mAP averages within a class, then over classes', () => {
  const r = meanAveragePrecision([
    { cls: 'ship', ranked: [g1], gts: [g1] }, // 1
    { cls: 'ship', ranked: [miss, g1], gts: [g1] }, // 0.5
    { cls: 'vehicle', ranked: [], gts: [g2] }, // 0
  ]);
  close(r.byClass.ship, 0.75);
  close(r.byClass.vehicle, 0);
  close(r.map, 0.375);
  assert.ok(Number.isNaN(meanAveragePrecision([]).map));
});

test.run();
