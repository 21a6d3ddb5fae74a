import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  positionalReward,
  giouReward,
  diouReward,
  centerReward,
  groundingReward,
  auxReward,
  pixelSpan,
  countReward,
  countRewardFromText,
  multiTargetIoU,
  matchedIoU,
  multiTargetCountReward,
  multiTargetReward,
  multiTargetFormatReward,
  AUX_REWARDS,
} from '../lib/rewards';
import { iou, type Box } from '../lib/boxes';
import { Rng } from '../lib/rng';
import { positionalRewardPerPixel } from './oracles';

const B = (x1: number, y1: number, x2: number, y2: number): Box => ({ x1, y1, x2, y2 });
const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b} (eps ${eps})`);
const O = { alpha: 2.5, imageWidth: 8, imageHeight: 8 };

test('R_pos hand-computed: prediction = GT with its centre between pixel centres', () => {
  // gt [2,2,4,4]: centre (3,3), W = H = 2, σ = 2.5·2/2 = 2.5, 2σ² = 12.5.
  // Nearest pixel centres are 0.5 away → M per axis = exp(−0.25/12.5) = exp(−0.02).
  // P(p): columns 2, 3 (centres 2.5, 3.5), each 0.5 from the centre → K̂ = 1 → R_pos = 1.
  close(positionalReward(B(2, 2, 4, 4), B(2, 2, 4, 4), O), 1);
});

test('R_pos hand-computed: same-size box shifted two pixels right', () => {
  // columns 4, 5 (centres 4.5, 5.5) are 1.5 and 2.5 from cx = 3:
  // K̂x = exp(−2.25/12.5 + 0.02) = exp(−0.16), exp(−6.25/12.5 + 0.02) = exp(−0.48); rows: K̂y = 1.
  // R_pos = (e^−0.16 + e^−0.48)/2 ≈ 0.735464.
  const expected = (Math.exp(-0.16) + Math.exp(-0.48)) / 2;
  close(positionalReward(B(4, 2, 6, 4), B(2, 2, 4, 4), O), expected);
  close(expected, 0.7354636, 1e-6);
  // IoU is 0 here: exactly the case R_pos exists for (paper Fig. 2(ii)).
  assert.is(iou(B(4, 2, 6, 4), B(2, 2, 4, 4)), 0);
});

test('R_pos hand-computed: GT centre on a pixel centre → M = 1, centre pixel scores 1', () => {
  // gt [2,2,5,5]: centre (3.5, 3.5) is pixel (3,3)'s centre, so M = 1.
  close(positionalReward(B(3, 3, 4, 4), B(2, 2, 5, 5), O), 1);
  // A 1×1 prediction one pixel to the right: K̂ = exp(−1/(2·3.75²)) = exp(−1/28.125).
  close(positionalReward(B(4, 3, 5, 4), B(2, 2, 5, 5), O), Math.exp(-1 / 28.125));
});

test('R_pos: a box containing no pixel centre uses the pixel holding its centre', () => {
  // [3.6, 3.6, 3.9, 3.9] contains no centre (3.5 < 3.6 and 4.5 > 3.9) → pixel floor(3.75) = 3.
  assert.equal(pixelSpan(3.6, 3.9, 8), [3, 3]);
  close(positionalReward(B(3.6, 3.6, 3.9, 3.9), B(2, 2, 5, 5), O), 1);
  // Clamped to the image: [7.9, 0, 8, 1] → column 7.
  assert.equal(pixelSpan(7.9, 8, 8), [7, 7]);
});

test('R_pos: invalid, non-finite or fully clipped predictions earn 0; invalid GT throws', () => {
  const gt = B(2, 2, 4, 4);
  assert.is(positionalReward(B(4, 4, 2, 2), gt, O), 0);
  assert.is(positionalReward(B(NaN, 0, 3, 3), gt, O), 0);
  assert.is(positionalReward(B(0, 0, Infinity, 3), gt, O), 0);
  assert.is(positionalReward(B(9, 9, 12, 12), gt, O), 0); // clipped to [8,8,8,8]: empty
  assert.throws(() => positionalReward(B(0, 0, 1, 1), B(3, 3, 3, 5), O), /invalid ground-truth box/);
  assert.throws(() => positionalReward(B(0, 0, 1, 1), gt, { ...O, alpha: 0 }), /alpha/);
});

test('R_pos separable form agrees with the per-pixel oracle on 1,500 random cases to 1e-9', () => {
  const rng = new Rng(3);
  for (let k = 0; k < 1500; k++) {
    const W = rng.int(4, 48),
      H = rng.int(4, 48);
    const gw = rng.uniform(0.5, W / 2),
      gh = rng.uniform(0.5, H / 2);
    const gx = rng.uniform(0, W - gw),
      gy = rng.uniform(0, H - gh);
    const gt = B(gx, gy, gx + gw, gy + gh);
    // Predictions: anywhere, sometimes off-image, sometimes tiny, sometimes integer.
    let x1 = rng.uniform(-W / 2, W * 1.2),
      y1 = rng.uniform(-H / 2, H * 1.2);
    let x2 = x1 + rng.uniform(0.05, W),
      y2 = y1 + rng.uniform(0.05, H);
    if (k % 3 === 0) [x1, y1, x2, y2] = [x1, y1, x2, y2].map(Math.round);
    const opts = { alpha: rng.uniform(0.3, 5), imageWidth: W, imageHeight: H };
    const p = B(x1, y1, x2, y2);
    close(positionalReward(p, gt, opts), positionalRewardPerPixel(p, gt, opts), 1e-9);
  }
});

test('R_pos properties: in [0,1], maximal at the GT centre pixel, decreasing as a box moves away', () => {
  const rng = new Rng(4);
  const size = { imageWidth: 64, imageHeight: 64 };
  for (let k = 0; k < 200; k++) {
    const w = rng.int(2, 12),
      h = rng.int(2, 12);
    const x = rng.int(0, 64 - w),
      y = rng.int(0, 64 - h);
    const gt = B(x, y, x + w, y + h);
    const alpha = rng.uniform(0.5, 4);
    const o = { ...size, alpha };
    // The pixel containing the GT centre attains the maximum over all 1×1 boxes.
    const ci = Math.floor(x + w / 2),
      cj = Math.floor(y + h / 2);
    const best = positionalReward(B(ci, cj, ci + 1, cj + 1), gt, o);
    for (let t = 0; t < 20; t++) {
      const i = rng.int(0, 63),
        j = rng.int(0, 63);
      const r = positionalReward(B(i, j, i + 1, j + 1), gt, o);
      assert.ok(r >= 0 && r <= best + 1e-12);
    }
    // Moving a same-size box away from the GT (to the right, unclipped) never increases R_pos.
    let prev = Infinity;
    for (let dx = 0; x + dx + w <= 64; dx++) {
      const r = positionalReward(B(x + dx, y, x + dx + w, y + h), gt, o);
      assert.ok(r <= prev + 1e-12, `not decreasing at dx=${dx}`);
      assert.ok(r >= 0 && r <= 1 + 1e-12);
      prev = r;
    }
  }
});

test('R_pos is translation invariant when nothing is clipped', () => {
  const rng = new Rng(5);
  for (let k = 0; k < 300; k++) {
    const gt = B(20, 20, 20 + rng.int(2, 10), 20 + rng.int(2, 10));
    const p = B(rng.int(10, 30), rng.int(10, 30), 0, 0);
    p.x2 = p.x1 + rng.int(1, 10);
    p.y2 = p.y1 + rng.int(1, 10);
    const o = { alpha: 2.5, imageWidth: 128, imageHeight: 128 };
    const dx = rng.int(-10, 40),
      dy = rng.int(-10, 40);
    const t = (b: Box) => B(b.x1 + dx, b.y1 + dy, b.x2 + dx, b.y2 + dy);
    close(positionalReward(t(p), t(gt), o), positionalReward(p, gt, o), 1e-12);
  }
});

test('alternative rewards (SPEC §3.4) hand-computed and mapped to [0, 1]', () => {
  // giou([0,0,2,2],[1,1,3,3]) = −5/63 → (1 − 5/63)/2 = 29/63; diou = 2/63 → (1 + 2/63)/2 = 65/126.
  close(giouReward(B(0, 0, 2, 2), B(1, 1, 3, 3)), 29 / 63);
  close(diouReward(B(0, 0, 2, 2), B(1, 1, 3, 3)), 65 / 126);
  // centres (1,1) and (2,2): ρ = √2; 8×8 image: D = 8√2 → 1 − 1/8 = 0.875.
  close(centerReward(B(0, 0, 2, 2), B(1, 1, 3, 3), O), 0.875);
  // Far apart in a tiny image: ρ > D → clipped to 0.
  assert.is(centerReward(B(0, 0, 1, 1), B(50, 50, 51, 51), O), 0);
  for (const f of [giouReward, diouReward]) assert.is(f(null, B(1, 1, 3, 3)), 0);
  assert.is(centerReward(null, B(1, 1, 3, 3), O), 0);
  assert.is(giouReward(B(3, 3, 1, 1), B(1, 1, 3, 3)), 0);
});

test('total reward of eq. 5 for each aux choice', () => {
  const gt = B(2, 2, 4, 4);
  const size = { imageWidth: 8, imageHeight: 8 };
  const text = '<think>right of it</think><answer>[4, 2, 6, 4]</answer>';
  const rpos = (Math.exp(-0.16) + Math.exp(-0.48)) / 2;
  const r = groundingReward(text, gt, size, { aux: 'pos', beta: 0.1, alpha: 2.5, iouWeight: 1 });
  assert.is(r.format, 1);
  assert.is(r.iou, 0);
  close(r.aux, rpos);
  close(r.total, 1 + 0.1 * rpos);
  assert.is(groundingReward(text, gt, size, { aux: 'none', beta: 0.1, alpha: 2.5, iouWeight: 1 }).total, 1);
  for (const aux of AUX_REWARDS) {
    const x = groundingReward(text, gt, size, { aux, beta: 0.5, alpha: 2.5, iouWeight: 1 });
    close(x.aux, auxReward(aux, B(4, 2, 6, 4), gt, { ...size, alpha: 2.5 }));
    close(x.total, 1 + 0.5 * x.aux);
  }
  // The positive control's reward: R_IoU weighted 0 leaves R_format (+ β·R_aux).
  const hit = '<think>x</think><answer>[2, 2, 4, 4]</answer>';
  assert.equal(groundingReward(hit, gt, size, { aux: 'none', beta: 0.1, alpha: 2.5, iouWeight: 0 }), {
    format: 1,
    iou: 1,
    aux: 0,
    total: 1,
    parsed: true,
  });
  // Perfect answer: 1 + 1 + β·1.
  close(groundingReward('<think>x</think><answer>[2, 2, 4, 4]</answer>', gt, size).total, 2.1);
  // Malformed completions earn 0 everywhere, whatever the aux.
  for (const bad of ['', 'garbage', '<answer>[1,2', '<think>x</think><answer>[9, 9, 1, 1]</answer>']) {
    for (const aux of AUX_REWARDS) {
      const m = groundingReward(bad, gt, size, { aux, beta: 0.1, alpha: 2.5, iouWeight: 1 });
      assert.is(m.iou, 0);
      assert.is(m.aux, 0);
    }
  }
  assert.throws(() => groundingReward(text, B(4, 4, 4, 5), size), /invalid ground-truth/);
});

test('counting reward (Geo-CoT), hand-computed', () => {
  // n = 4, n* = 6: 1 − 2/6 = 2/3; n = 0, n* = 0: 1; n = 12, n* = 3: max(0, 1 − 9/12) = 0.25; n = 9, n* = 3: 1 − 6/9 =
  // 1/3.
  close(countReward(4, 6), 2 / 3);
  close(countReward(0, 0), 1);
  close(countReward(12, 3), 0.25);
  close(countReward(9, 3), 1 / 3);
  close(countReward(0, 5, 2), 0);
  assert.is(countReward(null, 3), 0);
  close(countRewardFromText('<think>x</think><answer>There are 4 vehicles.</answer>', 6), 2 / 3);
});

test('multi-target IoU: Hungarian vs literal eq. 4, hand-computed', () => {
  const g1 = B(0, 0, 2, 2),
    g2 = B(10, 10, 12, 12);
  // One box covering g1 exactly and nothing near g2: (1 + 0)/2 = 0.5 either way.
  close(multiTargetIoU([g1], [g1, g2]), 0.5);
  // Two GTs, one predicted box between them that overlaps both equally?
  // Box b = [1,1,3,3] vs g1 = 1/7; g3 = [2,2,4,4] vs b = 1/7.
  const g3 = B(2, 2, 4, 4),
    b = B(1, 1, 3, 3);
  // Literal eq. 4: each GT takes its best box, b reused → (1/7 + 1/7)/2 = 1/7.
  close(multiTargetIoU([b], [g1, g3], 'max'), 1 / 7);
  // Hungarian: b serves one GT only → (1/7 + 0)/2 = 1/14.
  close(multiTargetIoU([b], [g1, g3], 'hungarian'), 1 / 14);
  // Perfect, permuted prediction scores 1 under both.
  close(multiTargetIoU([g2, g1], [g1, g2]), 1);
  close(multiTargetIoU([g2, g1], [g1, g2], 'hungarian'), 1);
  // Extra boxes (K > J): eq. 4 ignores them, Hungarian divides by max(K, J) (SPEC §3.7).
  close(multiTargetIoU([g1, g2, b], [g1]), 1);
  close(multiTargetIoU([g1, g2, b], [g1], 'hungarian'), 1 / 3);
  close(matchedIoU([g1, g2, b], [g1]), 1 / 3);
  for (const m of ['max', 'hungarian'] as const) {
    assert.is(multiTargetIoU([], [], m), 1);
    assert.is(multiTargetIoU([g1], [], m), 0);
    assert.is(multiTargetIoU([], [g1], m), 0);
  }
  assert.is(matchedIoU([], []), 1);
});

test('matched IoU agrees with brute force over every one-to-one matching', () => {
  const rng = new Rng(7);
  const box = () => {
    const x = rng.int(0, 20),
      y = rng.int(0, 20);
    return B(x, y, x + 1 + rng.int(0, 10), y + 1 + rng.int(0, 10));
  };
  // best total IoU over injective maps of the smaller side into the larger, by recursion
  const brute = (p: Box[], g: Box[]): number => {
    if (p.length === 0 || g.length === 0) return 0;
    const [first, ...rest] = g;
    let best = brute(p, rest); // g[0] unmatched
    p.forEach(
      (b, k) =>
        (best = Math.max(
          best,
          iou(b, first) +
            brute(
              p.filter((_, i) => i !== k),
              rest,
            ),
        )),
    );
    return best;
  };
  for (let t = 0; t < 200; t++) {
    const p = Array.from({ length: rng.int(1, 5) }, box),
      g = Array.from({ length: rng.int(1, 5) }, box);
    close(matchedIoU(p, g), brute(p, g) / Math.max(p.length, g.length));
  }
});

test('multi-target count reward (RemoteReasoner eq. 5), hand-computed', () => {
  assert.is(multiTargetCountReward(0, 0), 1);
  assert.is(multiTargetCountReward(2, 0), 0);
  close(multiTargetCountReward(3, 3), 1);
  close(multiTargetCountReward(1, 2), Math.exp(-1)); // exp(−2·1/2)
  close(multiTargetCountReward(5, 4), Math.exp(-0.5)); // exp(−2·1/4)
});

test('multi-target reward and format from text', () => {
  const gts = [B(0, 0, 2, 2), B(10, 10, 12, 12)];
  const good = '<think>two tanks</think><answer>[[0, 0, 2, 2], [10, 10, 12, 12]]</answer>';
  assert.equal(multiTargetReward(good, gts), { format: 1, iou: 1, count: 1, total: 3 });
  assert.is(multiTargetFormatReward('<think>none</think><answer>[]</answer>'), 1);
  assert.is(multiTargetFormatReward('<think>x</think><answer>[[0, 0, 2.5, 2]]</answer>'), 0);
  assert.is(multiTargetFormatReward('<think>x</think><answer>[[0, 0, 2, 2],]</answer>'), 0);
  assert.is(multiTargetFormatReward(`<think>x</think><answer>[${'[1,2,3,4],'.repeat(50_000)}]</answer>`), 0);
  // unreadable: what an empty answer to a non-empty query earns (SPEC §3.7), never the "no object" marks
  const e2 = Math.exp(-2);
  assert.equal(multiTargetReward('nothing', gts), { format: 0, iou: 0, count: e2, total: e2 });
  const empty = multiTargetReward('<think>x</think><answer>[]</answer>', gts);
  assert.equal(empty, { format: 1, iou: 0, count: e2, total: 1 + e2 });
  assert.equal(multiTargetReward('<think>x</think><answer>none</answer>', []), {
    format: 0,
    iou: 0,
    count: 0,
    total: 0,
  });
  assert.equal(multiTargetReward('<think>x</think><answer>[]</answer>', []), { format: 1, iou: 1, count: 1, total: 3 });
});

test.run();
