import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  advantageShareByStdQuartile,
  groupAdvantages,
  spatialConsistencyWeight,
  meanIoU,
  varIoU,
  groupDiagnostics,
  ADVANTAGE_EPS,
} from '../lib/grpo';
import { Rng } from '../lib/rng';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

test('advantages hand-computed: [1, 2, 3] → mean 2, sample std 1', () => {
  const a = groupAdvantages([1, 2, 3]);
  close(a[0], -1 / (1 + ADVANTAGE_EPS));
  close(a[1], 0);
  close(a[2], 1 / (1 + ADVANTAGE_EPS));
});

test("advantages with scale 'none' (Dr. GRPO) are only centred: [1, 2, 6] → [−2, −1, 3]", () => {
  assert.equal(groupAdvantages([1, 2, 6], 'none'), [-2, -1, 3]);
  assert.equal(groupAdvantages([0.7, 0.7], 'none'), [0, 0]);
  assert.equal(groupAdvantages([2.1], 'none'), [0]);
  // The default scale divides the same centred values by the sample std (√7 here).
  groupAdvantages([1, 2, 6]).forEach((a, i) => close(a, [-2, -1, 3][i] / (Math.sqrt(7) + ADVANTAGE_EPS)));
});

test('advantage mass by std quartile, hand-computed: equal per group with std, ∝ spread without', () => {
  // Four two-rollout groups with spreads 0.1, 0.2, 0.3, 0.4 (|r1 − r2|), plus a tied group that is left out.
  const groups = [
    [0, 0.1],
    [0, 0.2],
    [1, 1],
    [0.5, 0.8],
    [0, 0.4],
  ];
  // With std: each group's Σ|A| = 2·(d/2)/(d/√2 + 1e-4) ≈ √2, so a quarter each.
  advantageShareByStdQuartile(groups, 'std').forEach((s) => close(s, 0.25, 1e-3));
  // Without: Σ|A| = d, so shares are d / (0.1 + 0.2 + 0.3 + 0.4).
  advantageShareByStdQuartile(groups, 'none').forEach((s, i) => close(s, [0.1, 0.2, 0.3, 0.4][i], 1e-12));
  assert.equal(
    advantageShareByStdQuartile(
      [
        [1, 1],
        [2, 2],
      ],
      'none',
    ),
    [0, 0, 0, 0],
  );
});

test('advantages: a tied group is all zero; a group of one is zero', () => {
  assert.equal(groupAdvantages([0.7, 0.7, 0.7, 0.7]), [0, 0, 0, 0]);
  assert.equal(groupAdvantages([2.1]), [0]);
  assert.equal(groupAdvantages([]), []);
});

test('advantages sum to ~0 with sample std ~1 (G ≥ 2, random groups)', () => {
  const rng = new Rng(21);
  for (let k = 0; k < 500; k++) {
    const G = rng.int(2, 16);
    const r = Array.from({ length: G }, () => rng.uniform(0, 2.1));
    const a = groupAdvantages(r);
    const sum = a.reduce((s, x) => s + x, 0);
    close(sum, 0, 1e-9);
    const sd = Math.sqrt(a.reduce((s, x) => s + x * x, 0) / (G - 1));
    // Sample std of A is std/(std + 1e-4), just under 1.
    const m = r.reduce((s, x) => s + x, 0) / G;
    const std = Math.sqrt(r.reduce((s, x) => s + (x - m) ** 2, 0) / (G - 1));
    close(sd, std / (std + ADVANTAGE_EPS), 1e-9);
    assert.ok(sd < 1 && sd > 0.99, `sd ${sd}`);
  }
});

test('w hand-computed (eq. 6–8, population variance)', () => {
  // [0.5, 0.5]: m = 0.5, Var = 0 → exp(1.2·0.5) = exp(0.6).
  close(spatialConsistencyWeight([0.5, 0.5]), Math.exp(0.6));
  // [0, 1]: m = 0.5, Var = 0.25 (population) → exp(0.6 + 0.25) = exp(0.85) ≈ 2.3396.
  close(spatialConsistencyWeight([0, 1]), Math.exp(0.85));
  close(varIoU([0, 1]), 0.25);
  close(meanIoU([0, 1]), 0.5);
  // [0, 0, 0, 0]: exp(1.2) ≈ 3.32 → clipped to wMax = 3.
  assert.is(spatialConsistencyWeight([0, 0, 0, 0]), 3);
  // Perfect group: exp(0) = 1.
  assert.is(spatialConsistencyWeight([1, 1, 1]), 1);
  // λm = λv = 0 removes L_SC: w = 1.
  assert.is(spatialConsistencyWeight([0, 0.3, 1], { lambdaM: 0, lambdaV: 0 }), 1);
  // Only the variance term: [0, 1] → exp(0.25).
  close(spatialConsistencyWeight([0, 1], { lambdaM: 0 }), Math.exp(0.25));
  // Only the mean term: [0, 1] → exp(0.6).
  close(spatialConsistencyWeight([0, 1], { lambdaV: 0 }), Math.exp(0.6));
  // Below wMin: λm = −2, m = 0 → exp(−2) ≈ 0.135 → 0.5.
  assert.is(spatialConsistencyWeight([0, 0], { lambdaM: -2 }), 0.5);
});

test('w is always within [wMin, wMax] (random groups and λ)', () => {
  const rng = new Rng(22);
  for (let k = 0; k < 500; k++) {
    const ious = Array.from({ length: rng.int(1, 12) }, () => (rng.bool(0.3) ? 0 : rng.float()));
    const o = {
      lambdaM: rng.uniform(-3, 3),
      lambdaV: rng.uniform(-3, 3),
      wMin: rng.uniform(0.1, 1),
      wMax: rng.uniform(1, 5),
    };
    const w = spatialConsistencyWeight(ious, o);
    assert.ok(w >= o.wMin && w <= o.wMax);
  }
});

test('w rejects bad options with the offending value', () => {
  assert.throws(() => spatialConsistencyWeight([0.5], { wMin: 2, wMax: 1 }), /consistency.wMax = 1: need wMin ≤ wMax/);
  assert.throws(() => spatialConsistencyWeight([0.5], { lambdaM: NaN }), /lambdaM/);
  assert.throws(() => spatialConsistencyWeight([]), /empty group/);
});

test('group diagnostics, hand-computed', () => {
  const r = (total: number, iou: number, aux: number) => ({ total, format: 1, iou, aux });
  const d = groupDiagnostics([
    [r(1, 0, 0.2), r(1, 0, 0.2)], // tied, both IoU=0 with R_pos>0
    [r(2, 1, 1), r(1, 0, 0)], // std of totals = 0.5, IoU std 0.5
  ]);
  assert.is(d.zeroStdFrac, 0.5);
  assert.is(d.iouZeroAuxPosFrac, 0.5);
  close(d.rewardStdInGroup, 0.25);
  close(d.iouStdInGroup, 0.25);
});

test.run();
