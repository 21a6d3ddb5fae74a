import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  tQuantile,
  tCdf,
  meanCI,
  welchDiffCI,
  sampleStd,
  formatCI,
  formatInterval,
  pairedDiffCI,
  pairedTTestP,
  pairedMde,
  seedsForMde,
  holmAdjust,
  bootstrapCI,
  pairedBootstrapDiffCI,
  mcnemar,
  meanStd,
} from '../lib/stats';
import { close } from './helpers';

test('Student t quantiles match published tables; df = 2 has a closed form', () => {
  // t_{0.975, df} from standard tables.
  const table: [number, number][] = [
    [1, 12.706204736],
    [2, 4.30265273],
    [3, 3.182446305],
    [4, 2.776445105],
    [10, 2.228138852],
    [30, 2.042272456],
  ];
  for (const [df, q] of table) close(tQuantile(0.975, df), q, 1e-7);
  close(tQuantile(0.95, 5), 2.015048373, 1e-7);
  close(tQuantile(0.025, 4), -2.776445105, 1e-7);
  close(tCdf(0, 7), 0.5, 1e-15);
  // F₂(t) = ½ + t/(2√(2 + t²)), and its inverse t = u√2/√(1 − u²), u = 2p − 1.
  for (const t of [-3, -0.5, 0.7, 5.7735]) close(tCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-12);
  close(tQuantile(0.8, 2), (0.6 * Math.SQRT2) / 0.8, 1e-10);
});

test('mean ± 95% CI hand-computed', () => {
  // [1, 2, 3]: mean 2, s = 1, half-width = t_{.975,2}·1/√3 = 4.3026527/1.7320508 ≈ 2.4841377.
  const ci = meanCI([1, 2, 3]);
  close(ci.mean, 2, 1e-15);
  close(ci.halfWidth, 2.4841377, 1e-6);
  close(ci.lo, 2 - 2.4841377, 1e-6);
  close(sampleStd([1, 2, 3]), 1, 1e-15);
  close(meanStd([1, 2, 3]).std, Math.sqrt(2 / 3), 1e-15);
  // One seed: no error bar.
  assert.ok(Number.isNaN(meanCI([0.4]).halfWidth));
  assert.is(formatCI(meanCI([0.4])), '40.00 (n=1)');
  assert.is(formatCI(meanCI([0.5, 0.5, 0.5])), '50.00 ± 0.00');
});

test('Welch interval hand-computed', () => {
  // a = [1,2,3], b = [4,5,6]: d = −3, va = vb = 1/3, se = √(2/3), df = (2/3)²/((1/9)/2·2) = 4,
  // half-width = 2.7764451·0.8164966 ≈ 2.2669579.
  const d = welchDiffCI([1, 2, 3], [4, 5, 6]);
  close(d.mean, -3, 1e-12);
  close(d.halfWidth, 2.2669579, 1e-6);
  assert.ok(d.hi < 0);
});

test('paired interval, p-value and MDE hand-computed (df = 2 closed forms)', () => {
  const a = [0.3, 0.35, 0.31],
    b = [0.2, 0.22, 0.24]; // d = .10, .13, .07; s = .03
  const ci = pairedDiffCI(a, b);
  close(ci.mean, 0.1, 1e-12);
  close(ci.halfWidth, (4.30265273 * 0.03) / Math.sqrt(3), 1e-8);
  const t = 0.1 / (0.03 / Math.sqrt(3));
  close(pairedTTestP([0.1, 0.13, 0.07]), 2 * (1 - (0.5 + t / (2 * Math.sqrt(2 + t * t)))), 1e-10);
  close(pairedMde(0.03, 3), ((4.30265273 + (0.6 * Math.SQRT2) / 0.8) * 0.03) / Math.sqrt(3), 1e-8);
  assert.ok(Number.isNaN(pairedMde(0.03, 1)));
  assert.is(pairedTTestP([0.05, 0.05]), 0); // no spread, non-zero mean
  assert.is(pairedTTestP([0, 0]), 1);
  assert.is(pairedTTestP([0.3]), 1); // one seed tests nothing
});

test('seedsForMde is the first n whose MDE reaches the target', () => {
  for (const [sd, target] of [
    [0.03, 0.02],
    [0.01, 0.02],
    [0.05, 0.01],
  ]) {
    const n = seedsForMde(sd, target);
    assert.ok(pairedMde(sd, n) <= target, `n=${n}`);
    if (n > 2) assert.ok(pairedMde(sd, n - 1) > target, `n−1=${n - 1}`);
  }
  // Large-n oracle: MDE → (z.975 + z.80)·sd/√n = 2.8016·sd/√n.
  close(pairedMde(1, 10000) * 100, 1.95996 + 0.84162, 2e-3);
  // Two seeds can be enough: (t.975,1 + t.80,1)·sd/√2 = (12.7062 + 1.3764)·0.1/√2 = 0.9958 ≤ 2
  close(pairedMde(0.1, 2), ((12.7062047 + 1.37638192) * 0.1) / Math.SQRT2, 1e-6);
  assert.is(seedsForMde(0.1, 2), 2);
  assert.is(seedsForMde(0.1, 0.99), 3); // 0.9958 > 0.99 at n = 2
  assert.ok(Number.isNaN(seedsForMde(0.1, 0)));
  assert.ok(Number.isNaN(seedsForMde(NaN, 0.02)) && Number.isNaN(seedsForMde(-0.1, 0.02))); // no spread measured
  assert.is(seedsForMde(1, 1e-6, 0.05, 0.8, 50), Infinity); // not within the cap
});

test('Holm step-down adjustment hand-computed', () => {
  // sorted .01·3 = .03, .03·2 = .06, .04·1 = .04 → running max .06; in input order:
  assert.equal(
    holmAdjust([0.01, 0.04, 0.03]).map((x) => +x.toFixed(10)),
    [0.03, 0.06, 0.06],
  );
  assert.equal(holmAdjust([0.5, 0.9]), [1, 1]);
  assert.equal(holmAdjust([0.6, 0.7]), [1, 1]); // 1.2 and 0.7 before the cap at 1
  assert.equal(holmAdjust([]), []);
});

test('bootstrap: degenerate for constants; SE agrees with the analytic one for a large sample', () => {
  const c = bootstrapCI(50, (idx) => (idx.length / idx.length) * 3);
  assert.is(c.lo, 3);
  assert.is(c.hi, 3);
  // 2000 differences of ±1 with p = .3 of +1: SE of the mean = √(p(1−p))·2/√n ≈ .02049; 95% half-width ≈ .0402.
  const d = Array.from({ length: 2000 }, (_, i) => (i % 10 < 3 ? 1 : -1));
  const r = pairedBootstrapDiffCI(
    d,
    d.map(() => 0),
    { reps: 4000, seed: 3 },
  );
  close(r.mean, -0.4, 1e-12);
  assert.ok(Math.abs(r.halfWidth - 1.96 * 0.020494) < 0.004, `half-width ${r.halfWidth}`);
  // each bound at its own quantile, 2.5% and 97.5% (the 5% quantile would sit 0.0065 higher)
  assert.ok(Math.abs(r.lo - (-0.4 - 1.96 * 0.020494)) < 0.003, `lo ${r.lo}`);
  assert.ok(Math.abs(r.hi - (-0.4 + 1.96 * 0.020494)) < 0.003, `hi ${r.hi}`);
});

test('McNemar exact binomial p-values', () => {
  const T = true,
    F = false;
  // b = 2 (right only first), c = 1: P(X ≤ 1 | n = 3) = 4/8 → p = 1.
  assert.equal(mcnemar([T, T, T, F, F, T], [F, F, T, T, F, T]), { b: 2, c: 1, p: 1 });
  // b = 5, c = 0: 2·(1/32) = .0625.
  assert.equal(mcnemar([T, T, T, T, T], [F, F, F, F, F]).p, 0.0625);
  // large n stays finite: b = 600, c = 400 → p ≈ 2.6e-10 (normal approximation z = 200/√1000 = 6.32).
  const big = mcnemar([...Array(600).fill(T), ...Array(400).fill(F)], [...Array(600).fill(F), ...Array(400).fill(T)]);
  assert.ok(big.p > 0 && big.p < 1e-8, `${big.p}`);
});

test('formatInterval: mean [lo, hi] as points, by hand; one seed: the mean and n = 1', () => {
  // 0.08, 0.10, 0.06: mean 8, sd 2 points, t(0.975, 2) = 4.3027 → half-width 4.968
  assert.is(formatInterval(meanCI([0.08, 0.1, 0.06])), '8.00 [3.03, 12.97]');
  assert.is(formatInterval(meanCI([0.4])), '40.00 (n=1)');
  assert.is(formatInterval(meanCI([0.5, 0.5])), '50.00 [50.00, 50.00]');
  assert.is(formatInterval(meanCI([0.001, 0.003]), 1, 4), '0.0020 [-0.0107, 0.0147]');
});

test.run();
