/**
 * Statistics for results over seeds: mean ± 95% confidence interval (Student t), and the
 * Welch interval for a difference of two means (used to decide REPORT verdicts).
 */

/** ln Γ(x) for x > 0: Lanczos with the 14-term coefficients of Numerical Recipes (3rd ed.), |error| ≲ 2e-15. */
export function logGamma(xx: number): number {
  const cof = [
    57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199,
    0.339946499848118887e-4, 0.465236289270485756e-4, -0.983744753048795646e-4,
    0.158088703224912494e-3, -0.210264441724104883e-3, 0.217439618115212643e-3,
    -0.164318106536763890e-3, 0.844182239838527433e-4, -0.261908384015814087e-4,
    0.368991826595316234e-5,
  ];
  if (!(xx > 0)) throw new Error(`logGamma: need x > 0, got ${xx}`);
  let y = xx;
  let tmp = xx + 5.2421875;
  tmp = (xx + 0.5) * Math.log(tmp) - tmp;
  let ser = 0.999999999999997092;
  for (const c of cof) ser += c / ++y;
  return tmp + Math.log((2.5066282746310005 * ser) / xx);
}

/** Continued fraction for the regularized incomplete beta (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** I_x(a, b), the regularized incomplete beta function. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const bt = Math.exp(lbt);
  return x < (a + 1) / (a + b + 2)
    ? (bt * betaContinuedFraction(a, b, x)) / a
    : 1 - (bt * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** CDF of Student's t with `df` degrees of freedom (df may be fractional, as in Welch). */
export function tCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (bisection on the CDF to 1e-12). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new Error(`tQuantile: need 0 < p < 1 and df > 0, got p=${p}, df=${df}`);
  if (p === 0.5) return 0;
  let lo = -1e4, hi = 1e4;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
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

/** "63.25 ± 1.20" for a fraction interval shown as percentages (single seed: "63.25 (n=1)"). */
export function formatCI(ci: Interval, scale = 100, digits = 2): string {
  const m = (ci.mean * scale).toFixed(digits);
  return Number.isFinite(ci.halfWidth) ? `${m} ± ${(ci.halfWidth * scale).toFixed(digits)}` : `${m} (n=${ci.n})`;
}
