/**
 * Statistics for results over seeds and samples: mean ± 95% confidence intervals (Student t),
 * the Welch interval for two independent sets of runs, the paired interval for runs that share
 * their seeds, a paired bootstrap over test samples, the minimum detectable effect of a paired
 * comparison, Holm's step-down adjustment for a family of tests, and McNemar's test for paired
 * binary outcomes. Student t's CDF and quantiles come from stdlib (@stdlib/stats-base-dists-t-*).
 */
import tQuantileStdlib from '@stdlib/stats-base-dists-t-quantile';
import tCdfStdlib from '@stdlib/stats-base-dists-t-cdf';
import { Rng } from './rng';

/** CDF of Student's t with `df` degrees of freedom (df may be fractional, as in Welch). */
export function tCdf(t: number, df: number): number {
  return tCdfStdlib(t, df);
}

/** The p-quantile of Student's t. */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new Error(`tQuantile: need 0 < p < 1 and df > 0, got p=${p}, df=${df}`);
  return tQuantileStdlib(p, df);
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

/** Sample standard deviation (n − 1). NaN for fewer than 2 values. */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Mean and population std (n) of a list, for logging; NaN for an empty list. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: NaN, std: NaN };
  const m = mean(xs);
  return { mean: m, std: Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length) };
}

export type Interval = { mean: number; lo: number; hi: number; halfWidth: number; n: number };

/**
 * mean ± t_{(1+level)/2, n−1} · s/√n. With one value the half-width is NaN: a single seed has
 * no error bar, and tables say so instead of printing ± 0.
 */
export function meanCI(xs: readonly number[], level = 0.95): Interval {
  const n = xs.length;
  const m = mean(xs);
  const hw = n < 2 ? NaN : (tQuantile((1 + level) / 2, n - 1) * sampleStd(xs)) / Math.sqrt(n);
  return { mean: m, lo: m - hw, hi: m + hw, halfWidth: hw, n };
}

/**
 * Welch interval for mean(a) − mean(b) at `level`, with the Welch–Satterthwaite degrees of
 * freedom. Needs ≥ 2 values on each side (else the half-width is NaN).
 */
export function welchDiffCI(a: readonly number[], b: readonly number[], level = 0.95): Interval {
  const d = mean(a) - mean(b);
  if (a.length < 2 || b.length < 2) return { mean: d, lo: NaN, hi: NaN, halfWidth: NaN, n: a.length + b.length };
  const va = sampleStd(a) ** 2 / a.length;
  const vb = sampleStd(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { mean: d, lo: d, hi: d, halfWidth: 0, n: a.length + b.length };
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const hw = tQuantile((1 + level) / 2, df) * se;
  return { mean: d, lo: d - hw, hi: d + hw, halfWidth: hw, n: a.length + b.length };
}

/** The per-pair differences a[i] − b[i] (same seeds, same order); an error when the lengths differ. */
export function pairedDifferences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length)
    throw new Error(`paired comparison needs the same seeds on both sides, got ${a.length} vs ${b.length}`);
  return a.map((x, i) => x - b[i]);
}

/** Paired interval: Student t over the per-seed differences a[i] − b[i] (n = seeds). */
export function pairedDiffCI(a: readonly number[], b: readonly number[], level = 0.95): Interval {
  return meanCI(pairedDifferences(a, b), level);
}

/** Two-sided p-value of a one-sample t test of mean(d) = 0; 1 when it cannot be computed. */
export function pairedTTestP(d: readonly number[]): number {
  const n = d.length;
  if (n < 2) return 1;
  const s = sampleStd(d);
  const m = mean(d);
  if (s === 0) return m === 0 ? 1 : 0;
  const t = m / (s / Math.sqrt(n));
  return 2 * (1 - tCdf(Math.abs(t), n - 1));
}

/**
 * Minimum detectable effect of a paired t test over n seeds: the true mean difference that a
 * two-sided test at `alpha` detects with probability `power`, given the per-seed difference
 * std `sd` (MDE = (t_{1−α/2, n−1} + t_{power, n−1}) · sd / √n). NaN for n < 2.
 */
export function pairedMde(sd: number, n: number, alpha = 0.05, power = 0.8): number {
  if (n < 2 || !Number.isFinite(sd)) return NaN;
  return ((tQuantile(1 - alpha / 2, n - 1) + tQuantile(power, n - 1)) * sd) / Math.sqrt(n);
}

/** The fewest seeds whose paired MDE is ≤ `target` for a per-seed difference std `sd` (capped at `max`). */
export function seedsForMde(sd: number, target: number, alpha = 0.05, power = 0.8, max = 1000): number {
  if (!(sd >= 0) || !(target > 0)) return NaN;
  for (let n = 2; n <= max; n++) if (pairedMde(sd, n, alpha, power) <= target) return n;
  return Infinity;
}

/**
 * Holm's step-down adjustment of a family of p-values (controls the family-wise error rate):
 * sort ascending, p_(i) · (m − i + 1), running maximum, capped at 1. Returned in input order.
 */
export function holmAdjust(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, p * (m - k)));
    out[i] = running;
  });
  return out;
}

/**
 * Percentile bootstrap interval of `stat` over paired samples: resample indices 0 … n − 1 with
 * replacement `reps` times (seeded), and take the (1 ± level)/2 quantiles of stat(indices).
 */
export function bootstrapCI(
  n: number,
  stat: (idx: Int32Array) => number,
  opts: { reps?: number; level?: number; seed?: number } = {},
): Interval {
  const reps = opts.reps ?? 2000,
    level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 0);
  const all = new Int32Array(n).map((_, i) => i);
  const point = stat(all);
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, halfWidth: NaN, n };
  const vals = new Float64Array(reps);
  const idx = new Int32Array(n);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(0, n - 1);
    vals[r] = stat(idx);
  }
  vals.sort();
  const q = (p: number) => vals[Math.min(reps - 1, Math.max(0, Math.floor(p * reps)))];
  const lo = q((1 - level) / 2),
    hi = q((1 + level) / 2);
  return { mean: point, lo, hi, halfWidth: (hi - lo) / 2, n };
}

/** Paired bootstrap interval of mean(a) − mean(b) over samples (a[i], b[i] from the same sample). */
export function pairedBootstrapDiffCI(
  a: readonly number[],
  b: readonly number[],
  opts: { reps?: number; level?: number; seed?: number } = {},
): Interval {
  const d = pairedDifferences(a, b);
  return bootstrapCI(
    d.length,
    (idx) => {
      let s = 0;
      for (const i of idx) s += d[i];
      return s / idx.length;
    },
    opts,
  );
}

/**
 * McNemar's test for paired binary outcomes (e.g. Acc@0.5 of two models on the same samples):
 * b = pairs right only under the first, c = right only under the second. Exact two-sided
 * binomial p-value (min(1, 2·P[X ≤ min(b, c)]), X ~ Bin(b + c, ½)).
 */
export function mcnemar(first: readonly boolean[], second: readonly boolean[]): { b: number; c: number; p: number } {
  if (first.length !== second.length) throw new Error(`mcnemar: ${first.length} vs ${second.length} outcomes`);
  let b = 0,
    c = 0;
  first.forEach((x, i) => {
    if (x && !second[i]) b++;
    else if (!x && second[i]) c++;
  });
  const n = b + c,
    k = Math.min(b, c);
  if (n === 0) return { b, c, p: 1 };
  // log C(n, i) accumulated, so large n stays finite.
  let logC = 0,
    tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return { b, c, p: Math.min(1, 2 * tail) };
}

/** "6.00 [3.03, 12.97]": an interval's mean and bounds (×scale, e.g. as points); one seed: "6.00 (n=1)". */
export function formatInterval(ci: Interval, scale = 100, digits = 2): string {
  const f = (x: number) => (x * scale).toFixed(digits);
  return Number.isFinite(ci.halfWidth) ? `${f(ci.mean)} [${f(ci.lo)}, ${f(ci.hi)}]` : `${f(ci.mean)} (n=${ci.n})`;
}

/** "63.25 ± 1.20" for a fraction interval shown as percentages (single seed: "63.25 (n=1)"). */
export function formatCI(ci: Interval, scale = 100, digits = 2): string {
  const m = (ci.mean * scale).toFixed(digits);
  return Number.isFinite(ci.halfWidth) ? `${m} ± ${(ci.halfWidth * scale).toFixed(digits)}` : `${m} (n=${ci.n})`;
}
