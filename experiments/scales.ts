/**
 * The configuration every experiment starts from: one `CommonConfig` per scale. `default` is
 * written out in full; `quick` and `full` are the default with their differences spread over
 * it. Every section is complete (no optional fields), so the resolved config printed by
 * `--show-config` is exactly what trains, and `--set` can reach any field.
 */
import { type PolicyArch, ARCH_SCHEMA, DEFAULT_POLICY } from '../lib/model/network';
import { type GrpoConfig, DEFAULT_GRPO, GRPO_SCHEMA } from '../lib/train-grpo';
import { type CotStyle, COT_STYLES } from '../lib/data/cot';
import { num, oneOf, z } from '../lib/config';
import { DATASETS, type DatasetName } from '../lib/data/datasets';

export const SCALE_NAMES = ['quick', 'default', 'full'] as const;
export type Scale = (typeof SCALE_NAMES)[number];

export type CommonConfig = {
  /** policy architecture */
  arch: PolicyArch;
  /** base pretraining on the generic corpus (one base per seed) */
  base: { steps: number; batchSize: number; lr: number; count: number };
  /** the SFT baseline and CoT-SFT */
  sft: { steps: number; batchSize: number; lr: number };
  /** the CoT style CoT-SFT imitates */
  cot: CotStyle;
  /** GRPO settings shared by every variant (variants override some) */
  grpo: GrpoConfig;
  /** how many samples of each split */
  data: { train: number; val: number; test: number; ood: number };
  /**
   * where SFT, GRPO and evaluation read their data: the mini world, or a real benchmark in `root`
   * (images letterboxed to the policy's input, metrics in original pixels). Base pretraining
   * always reads the mini world's generic corpus.
   */
  dataset: { name: DatasetName; root: string };
  seeds: number[];
};

const stepsBatchLr = { steps: num.int(1), batchSize: num.int(1), lr: num.positive() };

export const COMMON_SCHEMA = z.strictObject({
  arch: ARCH_SCHEMA,
  base: z.strictObject({ ...stepsBatchLr, count: num.int(1) }),
  sft: z.strictObject(stepsBatchLr),
  cot: oneOf(COT_STYLES),
  grpo: GRPO_SCHEMA,
  data: z.strictObject({ train: num.int(1), val: num.int(1), test: num.int(1), ood: num.int(1) }),
  dataset: z.strictObject({ name: oneOf(DATASETS), root: z.string() }),
  seeds: z.array(num.int(0), { error: 'must be a list of integers ≥ 0' }).min(1, 'needs at least one seed'),
}) satisfies z.ZodType<CommonConfig>;

// Calibrated on the baseline rows only (start model, SFT, plain GRPO), on val, before any
// component result existed at this scale: experiments/CALIBRATION.md, candidate C4b. GRPO's lr
// is 3× the library default, which moved val accuracy by half as much in 600 steps.
const DEFAULT: CommonConfig = {
  arch: { ...DEFAULT_POLICY },
  base: { steps: 3000, batchSize: 32, lr: 2e-3, count: 8000 },
  sft: { steps: 2000, batchSize: 32, lr: 1e-3 },
  cot: 'rsground',
  // val only at the end of a GRPO stage: the suite reads no stage's midpoints but fig6-extended's,
  // which asks for them (withValCurve), and the step-0 one repeats the start model's last.
  grpo: { ...DEFAULT_GRPO, lr: 3e-4, steps: 400, queriesPerStep: 8, group: 8, evalEvery: 0, checkpointEvery: 50 },
  data: { train: 20000, val: 500, test: 1000, ood: 500 },
  dataset: { name: 'synthetic', root: '' },
  seeds: [1, 2, 3, 4, 5],
};

export const SCALES: Record<Scale, CommonConfig> = {
  // Quick: a plumbing scale (CI, a first look): the default policy with short stages, one seed.
  // Its numbers show that every stage runs, not what a component does.
  quick: {
    ...DEFAULT,
    base: { ...DEFAULT.base, steps: 600, count: 2000 },
    sft: { ...DEFAULT.sft, steps: 100 },
    grpo: { ...DEFAULT.grpo, steps: 40, checkpointEvery: 20 },
    data: { train: 2000, val: 200, test: 300, ood: 200 },
    seeds: [1],
  },
  default: DEFAULT,
  full: {
    ...DEFAULT,
    arch: { ...DEFAULT.arch, dModel: 128, nEncLayers: 3, nDecLayers: 3 },
    base: { ...DEFAULT.base, steps: 8000, batchSize: 64, lr: 1.5e-3 },
    sft: { ...DEFAULT.sft, steps: 3000, batchSize: 64 },
    grpo: { ...DEFAULT.grpo, steps: 600, queriesPerStep: 16, checkpointEvery: 50 },
  },
};

/**
 * The config with GRPO evaluated on val `points` times over the scale's run (and at step 0), for
 * experiments that plot a val curve; the scales evaluate only at the end.
 */
export function withValCurve(c: CommonConfig, points = 4): CommonConfig {
  return { ...c, grpo: { ...c.grpo, evalEvery: Math.max(1, Math.round(c.grpo.steps / points)) } };
}
