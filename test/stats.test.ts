import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tQuantile, tCdf, meanCI, welchDiffCI, sampleStd, formatCI } from '../lib/stats';

const close = (a: number, b: number, eps: number) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

test('Student t quantiles match published tables', () => {
  // t_{0.975, df} from standard tables.
  const table: [number, number][] = [[1, 12.706204736], [2, 4.302652730], [3, 3.182446305], [4, 2.776445105], [10, 2.228138852], [30, 2.042272456]];
  for (const [df, q] of table) close(tQuantile(0.975, df), q, 1e-7);
  close(tQuantile(0.95, 5), 2.015048373, 1e-7);
  close(tQuantile(0.025, 4), -2.776445105, 1e-7);
  close(tCdf(0, 7), 0.5, 1e-15);
});

test('mean ± 95% CI hand-computed', () => {
  // [1, 2, 3]: mean 2, s = 1, half-width = t_{.975,2}·1/√3 = 4.3026527/1.7320508 ≈ 2.4841377.
  const ci = meanCI([1, 2, 3]);
  close(ci.mean, 2, 1e-15); close(ci.halfWidth, 2.4841377, 1e-6); close(ci.lo, 2 - 2.4841377, 1e-6);
  close(sampleStd([1, 2, 3]), 1, 1e-15);
  // One seed: no error bar.
  assert.ok(Number.isNaN(meanCI([0.4]).halfWidth));
  assert.is(formatCI(meanCI([0.4])), '40.00 (n=1)');
  assert.is(formatCI(meanCI([0.5, 0.5, 0.5])), '50.00 ± 0.00');
});

test('Welch interval hand-computed', () => {
  // a = [1,2,3], b = [4,5,6]: d = −3, va = vb = 1/3, se = √(2/3), df = (2/3)²/((1/9)/2·2) = 4,
  // half-width = 2.7764451·0.8164966 ≈ 2.2669579.
  const d = welchDiffCI([1, 2, 3], [4, 5, 6]);
  close(d.mean, -3, 1e-12); close(d.halfWidth, 2.2669579, 1e-6);
  assert.ok(d.hi < 0);
});

test.run();
