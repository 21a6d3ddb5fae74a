/**
 * The rows of the paper's tables as variants, defined once: identical rows in different
 * experiments resolve to identical stage specs, so they share runs.
 */
import type { Variant } from './specs';

const IOU_ONLY = { aux: 'none' as const };
/**
 * The completion budget of the Geo-CoT rows: their traces run to ~80 tokens (p90 ~100), and at the
 * scale's 64 most SFT targets would lose their answer.
 */
export const GEOCOT_BUDGET = 128;
export const V = {
  base: { id: 'base', label: 'base model (no RFT)', init: 'base', grpo: null },
  sft: { id: 'sft', label: 'SFT (answer-only)', init: 'sft', grpo: null },
  cotsft: { id: 'cotsft', label: 'CoT-SFT (no RFT)', init: 'cotsft', grpo: null },
  grpo: {
    id: 'grpo',
    label: 'GRPO (R_format + R_IoU)',
    init: 'base',
    grpo: { reward: IOU_ONLY, spatialConsistency: false },
  },
  grpoCot: {
    id: 'grpo-cot',
    label: 'CoT-SFT → GRPO',
    init: 'cotsft',
    grpo: { reward: IOU_ONLY, spatialConsistency: false },
  },
  grpoPos: {
    id: 'grpo-pos',
    label: 'GRPO + R_pos',
    init: 'base',
    grpo: { reward: { aux: 'pos' }, spatialConsistency: false },
  },
  grpoSc: { id: 'grpo-sc', label: 'GRPO + L_SC', init: 'base', grpo: { reward: IOU_ONLY, spatialConsistency: true } },
  grpoPosSc: {
    id: 'grpo-pos-sc',
    label: 'GRPO + R_pos + L_SC',
    init: 'base',
    grpo: { reward: { aux: 'pos' }, spatialConsistency: true },
  },
  // Dr. GRPO advantages (centred, not divided by the group's std): the knob that made GRPO learn on val.
  grpoDr: {
    id: 'grpo-dr',
    label: 'GRPO, Dr. GRPO advantages',
    init: 'base',
    grpo: { reward: IOU_ONLY, spatialConsistency: false, advantageScale: 'none' },
  },
  grpoPosScDr: {
    id: 'grpo-pos-sc-dr',
    label: 'GRPO + R_pos + L_SC, Dr. GRPO advantages',
    init: 'base',
    grpo: { reward: { aux: 'pos' }, spatialConsistency: true, advantageScale: 'none' },
  },
  full: {
    id: 'full',
    label: 'RSGround-R1 (CoT-SFT → GRPO + R_pos + L_SC)',
    init: 'cotsft',
    grpo: { reward: { aux: 'pos' }, spatialConsistency: true },
  },
  grpoGiou: {
    id: 'grpo-giou',
    label: 'GRPO + GIoU',
    init: 'base',
    grpo: { reward: { aux: 'giou' }, spatialConsistency: false },
  },
  grpoDiou: {
    id: 'grpo-diou',
    label: 'GRPO + DIoU',
    init: 'base',
    grpo: { reward: { aux: 'diou' }, spatialConsistency: false },
  },
  grpoCenter: {
    id: 'grpo-center',
    label: 'GRPO + centre distance',
    init: 'base',
    grpo: { reward: { aux: 'center' }, spatialConsistency: false },
  },
  grpoScM: {
    id: 'grpo-sc-m',
    label: 'GRPO + L_SC (m only)',
    init: 'base',
    grpo: { reward: IOU_ONLY, spatialConsistency: true, consistency: { lambdaM: 1.2, lambdaV: 0 } },
  },
  grpoScV: {
    id: 'grpo-sc-v',
    label: 'GRPO + L_SC (Var only)',
    init: 'base',
    grpo: { reward: IOU_ONLY, spatialConsistency: true, consistency: { lambdaM: 0, lambdaV: 1 } },
  },
  // Geo-CoT traces (experiments/geocot.ts), with room for them: GEOCOT_BUDGET tokens.
  cotsftGeocot: {
    id: 'cotsft-geocot',
    label: 'CoT-SFT, Geo-CoT traces (no RFT)',
    init: 'cotsft',
    cot: 'geocot',
    budget: GEOCOT_BUDGET,
    grpo: null,
  },
  // GRPO from the Geo-CoT CoT-SFT checkpoint with and without the KL term,
  // its traces' structure and repetition logged every step.
  geocotKl: {
    id: 'geocot-kl',
    label: 'CoT-SFT (Geo-CoT) → GRPO, with KL',
    init: 'cotsft',
    cot: 'geocot',
    budget: GEOCOT_BUDGET,
    grpo: { reward: IOU_ONLY, spatialConsistency: false, traceDiagnostics: true },
  },
  geocotNoKl: {
    id: 'geocot-nokl',
    label: 'CoT-SFT (Geo-CoT) → GRPO, no KL',
    init: 'cotsft',
    cot: 'geocot',
    budget: GEOCOT_BUDGET,
    grpo: { reward: IOU_ONLY, spatialConsistency: false, traceDiagnostics: true, betaKL: 0 },
  },
  sftGrpo: {
    id: 'sft-grpo',
    label: 'SFT (answer-only) → GRPO',
    init: 'sft',
    grpo: { reward: IOU_ONLY, spatialConsistency: false },
  },
  // Controls (experiments/controls.ts): can this scale resolve a reward's effect at all?
  grpoFormatOnly: {
    id: 'grpo-format-only',
    label: 'GRPO, R_format only (positive control)',
    init: 'base',
    grpo: { reward: { aux: 'none', iouWeight: 0 }, spatialConsistency: false },
  },
  grpoWrongBox: {
    id: 'grpo-wrong-box',
    label: "GRPO, R_IoU against another query's box (negative control)",
    init: 'base',
    grpo: { reward: IOU_ONLY, spatialConsistency: false, rewardTarget: 'other-sample' },
  },
  grpoAA: {
    id: 'grpo-aa',
    label: 'GRPO (R_format + R_IoU), second GRPO seed set (A/A control)',
    init: 'base',
    grpo: { reward: IOU_ONLY, spatialConsistency: false },
    seedOffset: 1000,
  },
} satisfies Record<string, Variant>;

/** λm, λv as a variant (GRPO + L_SC from the base model, IoU reward). λm = λv = 0 is the baseline. */
export function lambdaVariant(lambdaM: number, lambdaV: number): Variant {
  if (lambdaM === 0 && lambdaV === 0) return V.grpo;
  if (lambdaM === 1.2 && lambdaV === 1) return V.grpoSc;
  if (lambdaM === 1.2 && lambdaV === 0) return V.grpoScM;
  if (lambdaM === 0 && lambdaV === 1) return V.grpoScV;
  return {
    id: `grpo-sc-m${lambdaM}-v${lambdaV}`,
    label: `L_SC λm=${lambdaM}, λv=${lambdaV}`,
    init: 'base',
    grpo: { reward: IOU_ONLY, spatialConsistency: true, consistency: { lambdaM, lambdaV } },
  };
}

/** α, β of R_pos as a variant (GRPO + R_pos from the base model). β = 0 is the baseline. */
export function alphaBetaVariant(alpha: number, beta: number): Variant {
  if (beta === 0) return V.grpo;
  if (alpha === 2.5 && beta === 0.1) return V.grpoPos;
  return {
    id: `grpo-pos-a${alpha}-b${beta}`,
    label: `R_pos α=${alpha}, β=${beta}`,
    init: 'base',
    grpo: { reward: { aux: 'pos', alpha, beta }, spatialConsistency: false },
  };
}
