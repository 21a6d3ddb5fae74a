/**
 * GRPO group statistics on plain arrays (SPEC §4): advantages, the spatial-consistency weight w
 * (RSGround-R1 eq. 6–8) and the per-step diagnostics. The tensor loss is in `loss.ts`.
 *
 * Deliberate conventions (SPEC §4):
 * - advantages use the *sample* std (divide by G − 1) plus 1e-4, as VLM-R1 and TRL do;
 * - Var(IoU) in eq. 7 is the *population* variance over the group itself.
 */

import { num, validate, z } from './config';
import { meanStd } from './stats';

export const ADVANTAGE_EPS = 1e-4;

/** 'std': SPEC §4's A = (R − mean) / (std + 1e-4); 'none': A = R − mean (Dr. GRPO). */
export const ADVANTAGE_SCALES = ['std', 'none'] as const;
export type AdvantageScale = (typeof ADVANTAGE_SCALES)[number];

/**
 * A_i = (R_i − mean(R)) / (std(R) + 1e-4), sample std (scale 'std', the default); or
 * A_i = R_i − mean(R) (scale 'none'). A group of one has advantage 0.
 */
export function groupAdvantages(rewards: readonly number[], scale: AdvantageScale = 'std'): number[] {
  const g = rewards.length;
  if (g <= 1) return rewards.map(() => 0);
  const mean = rewards.reduce((s, r) => s + r, 0) / g;
  if (scale === 'none') return rewards.map((r) => r - mean);
  const std = Math.sqrt(rewards.reduce((s, r) => s + (r - mean) ** 2, 0) / (g - 1));
  return rewards.map((r) => (r - mean) / (std + ADVANTAGE_EPS));
}

export type ConsistencyConfig = {
  /** λm in eq. 8 (0 removes the mean term, Table 5) */
  lambdaM: number;
  /** λv in eq. 8 (0 removes the variance term, Table 5) */
  lambdaV: number;
  /** w_min: lower clip of w */
  wMin: number;
  /** w_max: upper clip of w */
  wMax: number;
};

export const DEFAULT_CONSISTENCY: Readonly<ConsistencyConfig> = Object.freeze({
  lambdaM: 1.2,
  lambdaV: 1,
  wMin: 0.5,
  wMax: 3.0,
});

export const CONSISTENCY_SCHEMA = z
  .strictObject({ lambdaM: num.finite(), lambdaV: num.finite(), wMin: num.positive(), wMax: num.positive() })
  .refine((c) => c.wMin <= c.wMax, {
    message: 'need wMin ≤ wMax',
    path: ['wMax'],
  }) satisfies z.ZodType<ConsistencyConfig>;

export function validateConsistency(c: ConsistencyConfig, where = 'consistency'): ConsistencyConfig {
  return validate(CONSISTENCY_SCHEMA, c, where);
}

/** eq. 6: m(IoU), the group's mean IoU reward. */
export function meanIoU(ious: readonly number[]): number {
  return ious.reduce((s, x) => s + x, 0) / ious.length;
}

/** eq. 7: Var(IoU), the population variance of the group's IoU rewards. */
export function varIoU(ious: readonly number[]): number {
  const m = meanIoU(ious);
  return ious.reduce((s, x) => s + (x - m) ** 2, 0) / ious.length;
}

/**
 * eq. 8 with clipping: w = clip(exp(λm·(1 − m) + λv·Var), wMin, wMax) over the group's IoU
 * rewards. With λm = λv = 0 (no L_SC) w = 1 whenever 1 ∈ [wMin, wMax].
 */
export function spatialConsistencyWeight(ious: readonly number[], opts: Partial<ConsistencyConfig> = {}): number {
  if (ious.length === 0) throw new Error('spatialConsistencyWeight: empty group');
  const c = validateConsistency({ ...DEFAULT_CONSISTENCY, ...opts });
  const w = Math.exp(c.lambdaM * (1 - meanIoU(ious)) + c.lambdaV * varIoU(ious));
  return Math.min(Math.max(w, c.wMin), c.wMax);
}

/** One rollout's reward terms, as the group diagnostics need them. */
export type RolloutScore = { total: number; format: number; iou: number; aux: number };

export type GroupDiagnostics = {
  /** fraction of groups whose total rewards all tie (zero advantage everywhere) */
  zeroStdFrac: number;
  /** fraction of rollouts with IoU = 0 but R_aux > 0 — the case R_pos exists for */
  iouZeroAuxPosFrac: number;
  /** mean over groups of the within-group (population) std of the total reward (Figure 5) */
  rewardStdInGroup: number;
  /** mean over groups of the within-group std of the IoU reward */
  iouStdInGroup: number;
};

/** SPEC §4 diagnostics over a batch of groups (each group: G rollout scores). */
export function groupDiagnostics(groups: readonly (readonly RolloutScore[])[]): GroupDiagnostics {
  let ties = 0,
    zeroAux = 0,
    n = 0,
    rStd = 0,
    iStd = 0;
  for (const g of groups) {
    const totals = g.map((r) => r.total);
    if (totals.every((t) => t === totals[0])) ties++;
    rStd += meanStd(totals).std;
    iStd += meanStd(g.map((r) => r.iou)).std;
    for (const r of g) {
      n++;
      if (r.iou === 0 && r.aux > 0) zeroAux++;
    }
  }
  const G = Math.max(groups.length, 1);
  return {
    zeroStdFrac: ties / G,
    iouZeroAuxPosFrac: n ? zeroAux / n : 0,
    rewardStdInGroup: rStd / G,
    iouStdInGroup: iStd / G,
  };
}

/**
 * How a batch's advantage mass Σ|A| splits over the quartiles of its groups' reward spread
 * (sample std; tied groups, which carry no advantage, are left out). With `scale` 'std' every
 * group carries about the same mass whatever its spread; with 'none' (Dr. GRPO) a group's mass
 * grows with its spread. Returns four shares summing to 1 (all 0 when every group ties).
 */
export function advantageShareByStdQuartile(groups: readonly (readonly number[])[], scale: AdvantageScale): number[] {
  const rows = groups
    .map((r) => {
      const m = r.reduce((a, x) => a + x, 0) / r.length;
      const sd = r.length > 1 ? Math.sqrt(r.reduce((a, x) => a + (x - m) ** 2, 0) / (r.length - 1)) : 0;
      return { sd, mass: groupAdvantages(r, scale).reduce((a, x) => a + Math.abs(x), 0) };
    })
    .filter((g) => g.sd > 0)
    .sort((a, b) => a.sd - b.sd);
  const total = rows.reduce((a, g) => a + g.mass, 0);
  if (!rows.length || total === 0) return [0, 0, 0, 0];
  const n = rows.length;
  return [0, 1, 2, 3].map(
    (q) => rows.slice(Math.floor((q * n) / 4), Math.floor(((q + 1) * n) / 4)).reduce((a, g) => a + g.mass, 0) / total,
  );
}
