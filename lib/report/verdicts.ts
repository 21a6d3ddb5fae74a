/**
 * Verdicts on the paper's claims, decided by paired statistics, not by hope. Every variant of a
 * comparison trains from the same seeded lineage and is evaluated on the same samples, so a
 * claim "A beats B" is judged on the per-seed differences A[s] − B[s]:
 *
 * - `reproduced` when the 95% Student-t interval of the mean difference (over seeds) lies above
 *   0, `contradicted` when it lies below 0, `inconclusive at this scale` otherwise;
 * - beside it, a paired bootstrap over the evaluation samples (seeds fixed): how much of the
 *   uncertainty is sample noise rather than seed noise;
 * - the minimum detectable effect (80% power, α = 0.05) of the comparison, from the measured
 *   spread of the per-seed differences, and the seeds that would bring it to 2 points;
 * - the raw p-value, and a Holm-adjusted verdict over the whole family of claims (`adjustFamily`).
 *
 * A claim of "no gain" (A is not better than B) is judged against a margin: reproduced when the
 * interval's upper bound lies below it, contradicted when the lower bound lies above 0.
 */
import {
  type Interval,
  holmAdjust,
  meanCI,
  pairedBootstrapDiffCI,
  pairedDifferences,
  pairedMde,
  pairedTTestP,
  sampleStd,
  seedsForMde,
} from '../stats';

export type Verdict = 'reproduced' | 'contradicted' | 'inconclusive at this scale' | 'not run' | 'uninterpretable';

export type Claim = {
  id: string;
  /** the paper's words */
  text: string;
  /** where the paper says it */
  source: string;
};

/** Per seed, one value per evaluation sample (e.g. 1/0 for Acc@0.5), in the same sample order for every variant. */
export type PerSample = number[][];

export type ClaimResult = Claim & {
  verdict: Verdict;
  /** the paired interval over seeds of mean(A − B) */
  diff: Interval | null;
  /** the paired bootstrap interval over samples (seeds fixed), when per-sample values were given */
  sampleCI: Interval | null;
  /** two-sided p of the paired t test */
  p: number;
  /** Holm-adjusted p over the report's family (set by adjustFamily) */
  pHolm?: number;
  verdictHolm?: Verdict;
  /** minimum detectable effect (80% power, α = 0.05) with these seeds */
  mde: number;
  /** seeds needed for an MDE of 2 points (from the measured spread) */
  seedsFor2: number;
  /**
   * the test's direction: 'greater' (A beats B), 'less' (A is lower), 'not-greater' (A no better than B, within
   * `margin`)
   */
  kind: 'greater' | 'less' | 'not-greater';
  margin?: number;
  /** what was compared, in words */
  what: string;
  /** scale of the numbers in `evidence`: 100 for fractions shown as points, 1 otherwise */
  scale: number;
  evidence: string;
};

const notRun = (claim: Claim, what: string, kind: ClaimResult['kind']): ClaimResult => ({
  ...claim,
  verdict: 'not run',
  diff: null,
  sampleCI: null,
  p: NaN,
  mde: NaN,
  seedsFor2: NaN,
  kind,
  what,
  scale: 100,
  evidence: 'no runs',
});

function fmt(x: number, scale: number): string {
  return scale === 100 ? (100 * x).toFixed(2) : x.toFixed(4);
}

function describe(r: Omit<ClaimResult, 'evidence'>, n: number): string {
  const d = r.diff!;
  const unit = r.scale === 100 ? ' points' : '';
  const ci = Number.isFinite(d.halfWidth)
    ? `95% CI [${fmt(d.lo, r.scale)}, ${fmt(d.hi, r.scale)}] over seeds`
    : 'no CI (needs ≥ 2 seeds)';
  const samp =
    r.sampleCI && Number.isFinite(r.sampleCI.halfWidth)
      ? `; over samples [${fmt(r.sampleCI.lo, r.scale)}, ${fmt(r.sampleCI.hi, r.scale)}]`
      : '';
  const mde = Number.isFinite(r.mde) ? `; MDE ${fmt(r.mde, r.scale)}${unit}` : '';
  return `${r.what}: difference ${fmt(d.mean, r.scale)}${unit}, ${ci}${samp}${mde} (paired, n = ${n} seeds)`;
}

/**
 * Judge a paired comparison from per-seed values `a`, `b` (same seeds, same order), with the
 * per-sample values behind them when there are any (for the bootstrap over samples).
 * kind 'greater': "A beats B"; 'less': "A is lower than B"; 'not-greater': "A is no better
 * than B" (within `margin`, in the values' units).
 */
export function judgePaired(
  claim: Claim,
  a: number[] | null,
  b: number[] | null,
  o: {
    what: string;
    kind?: ClaimResult['kind'];
    margin?: number;
    samplesA?: PerSample;
    samplesB?: PerSample;
    scale?: number;
  },
): ClaimResult {
  const kind = o.kind ?? 'greater';
  if (!a || !b || a.length === 0 || b.length === 0) return notRun(claim, o.what, kind);
  // 'less' is 'greater' with the sides swapped: judge B − A.
  const [x, y] = kind === 'less' ? [b, a] : [a, b];
  const dv = pairedDifferences(x, y);
  const diff = meanCI(dv);
  const sd = sampleStd(dv);
  let sampleCI: Interval | null = null;
  if (o.samplesA && o.samplesB) {
    const [sx, sy] = kind === 'less' ? [o.samplesB, o.samplesA] : [o.samplesA, o.samplesB];
    // Seed-averaged per-sample values, resampled over samples: the noise of a finite test split alone.
    const avg = (s: PerSample) => s[0].map((_, i) => s.reduce((acc, seed) => acc + seed[i], 0) / s.length);
    sampleCI = pairedBootstrapDiffCI(avg(sx), avg(sy), { seed: 7 });
  }
  const p = pairedTTestP(dv);
  let verdict: Verdict;
  if (!Number.isFinite(diff.halfWidth)) verdict = 'inconclusive at this scale';
  else if (kind === 'not-greater') {
    const m = o.margin ?? 0;
    verdict = diff.hi < m ? 'reproduced' : diff.lo > 0 ? 'contradicted' : 'inconclusive at this scale';
  } else verdict = diff.lo > 0 ? 'reproduced' : diff.hi < 0 ? 'contradicted' : 'inconclusive at this scale';
  const r = {
    ...claim,
    verdict,
    diff,
    sampleCI,
    p,
    mde: pairedMde(sd, dv.length),
    seedsFor2: seedsForMde(sd, (o.scale ?? 100) === 100 ? 0.02 : NaN),
    kind,
    margin: o.margin,
    what: o.what,
    scale: o.scale ?? 100,
  };
  return { ...r, evidence: describe(r, dv.length) };
}

/**
 * Holm's adjustment over a family of claims (every claim judged at one scale): each result gets
 * its adjusted p and the verdict the adjusted test gives. 'not-greater' claims are tests of a
 * different kind (non-superiority) and keep their raw verdict.
 */
export function adjustFamily(results: ClaimResult[]): ClaimResult[] {
  const tested = results.filter((r) => r.verdict !== 'not run' && r.kind !== 'not-greater' && Number.isFinite(r.p));
  const adj = holmAdjust(tested.map((r) => r.p));
  const byId = new Map(tested.map((r, i) => [r, adj[i]]));
  return results.map((r) => {
    const pHolm = byId.get(r);
    if (pHolm === undefined) return { ...r, verdictHolm: r.verdict };
    const verdictHolm: Verdict =
      pHolm < 0.05 ? (r.diff!.mean > 0 ? 'reproduced' : 'contradicted') : 'inconclusive at this scale';
    return { ...r, pHolm, verdictHolm };
  });
}

/** Every verdict of a scale marked uninterpretable (a control failed there). */
export function markUninterpretable(results: ClaimResult[]): ClaimResult[] {
  return results.map((r) =>
    r.verdict === 'not run' ? r : { ...r, verdict: 'uninterpretable', verdictHolm: 'uninterpretable' },
  );
}
