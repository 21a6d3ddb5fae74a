/**
 * Verdicts on the paper's claims, decided by confidence intervals over seeds, not by hope:
 * a claim "A beats B" is `reproduced` when the 95% Welch interval of mean(A) − mean(B) lies
 * above 0, `contradicted` when it lies below 0, and `inconclusive at this scale` otherwise.
 */
import { welchDiffCI, type Interval } from '../stats';

export type Verdict = 'reproduced' | 'contradicted' | 'inconclusive at this scale' | 'not run';

export type Claim = {
  id: string;
  /** the paper's words */
  text: string;
  /** where the paper says it */
  source: string;
};

export type ClaimResult = Claim & { verdict: Verdict; diff: Interval | null; evidence: string };

/** "A beats B" on per-seed values (fractions). */
export function judgeGreater(claim: Claim, a: number[] | null, b: number[] | null, what: string): ClaimResult {
  if (!a || !b || a.length === 0 || b.length === 0) return { ...claim, verdict: 'not run', diff: null, evidence: 'no runs' };
  const d = welchDiffCI(a, b);
  const verdict: Verdict = !Number.isFinite(d.halfWidth) ? 'inconclusive at this scale' : d.lo > 0 ? 'reproduced' : d.hi < 0 ? 'contradicted' : 'inconclusive at this scale';
  const pts = (x: number) => (100 * x).toFixed(2);
  const ci = Number.isFinite(d.lo) && Number.isFinite(d.hi) ? `95% CI [${pts(d.lo)}, ${pts(d.hi)}]` : 'no CI (needs ≥ 2 seeds per side)';
  const evidence = `${what}: difference ${pts(d.mean)} points, ${ci} (n = ${a.length} vs ${b.length} seeds)`;
  return { ...claim, verdict, diff: d, evidence };
}

/** "A is lower than B" (e.g. reward std with L_SC). */
export function judgeLess(claim: Claim, a: number[] | null, b: number[] | null, what: string): ClaimResult {
  const r = judgeGreater(claim, b, a, what);
  if (!r.diff) return r;
  const pts = (x: number) => x.toFixed(4);
  const ci = Number.isFinite(r.diff.lo) && Number.isFinite(r.diff.hi) ? `95% CI [${pts(r.diff.lo)}, ${pts(r.diff.hi)}]` : 'no CI (needs ≥ 2 seeds per side)';
  return { ...r, evidence: `${what}: reduction ${pts(r.diff.mean)}, ${ci} (n = ${a!.length} vs ${b!.length} seeds)` };
}
