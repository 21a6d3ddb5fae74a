/**
 * Variants (one table row each) turned into pipeline stage specs. A variant names where RFT
 * starts and how its GRPO differs from the scale's; identical rows in different experiments
 * resolve to identical specs, so they share runs.
 */
import { type BaseSpec, type DataRef, type GrpoSpec, type SftSpec, type StageSpec, DEFAULT_SFT } from '../lib/pipeline';
import type { GrpoConfig } from '../lib/train-grpo';
import type { CotStyle } from '../lib/data/cot';
import type { CommonConfig } from './scales';

/** GRPO settings to override; `reward` and `consistency` merge field by field. */
export type GrpoOverrides = Partial<Omit<GrpoConfig, 'reward' | 'consistency'>> & {
  reward?: Partial<GrpoConfig['reward']>;
  consistency?: Partial<GrpoConfig['consistency']>;
};

/** One table row: where RFT starts, and how its GRPO differs (null = no RFT: evaluate the init model). */
export type Variant = {
  id: string;
  label: string;
  /** where RFT starts: the base model, answer-only SFT, or CoT-SFT (with the scale's CoT style, or `cot`) */
  init: 'base' | 'sft' | 'cotsft';
  /** the CoT style of a CoT-SFT init, when not the scale's */
  cot?: CotStyle;
  grpo: GrpoOverrides | null;
  /**
   * Added to the seed of the GRPO stage only (the lineage it starts from keeps the row's seed):
   * the A/A control runs one config under a disjoint set of GRPO seeds.
   */
  seedOffset?: number;
  /**
   * A longer completion budget than the scale's, for CoT traces that do not fit it: the row's
   * CoT-SFT stage gives the seed's base that many decoder positions, and its GRPO rollouts may run
   * that long. The base is the scale's, shared with every other row of the seed.
   */
  budget?: number;
};

/** `base` with `o` applied; reward and consistency merge field by field. */
export function mergeGrpo(base: GrpoConfig, o: GrpoOverrides): GrpoConfig {
  return {
    ...base,
    ...o,
    reward: { ...base.reward, ...o.reward },
    consistency: { ...base.consistency, ...o.consistency },
  };
}

/** A split of the config's dataset: the mini world's, or the real benchmark's under its root. */
export function dataRef(c: CommonConfig, split: 'train' | 'val' | 'test', count: number): DataRef {
  return c.dataset.name === 'synthetic'
    ? { split, count }
    : { split, count, dataset: c.dataset.name, root: c.dataset.root };
}

/** The base model of a seed: every seed pretrains its own (pretraining variance belongs in every interval). */
export function baseSpec(c: CommonConfig, seed: number): BaseSpec {
  return {
    kind: 'base',
    arch: c.arch,
    seed,
    sft: {
      ...DEFAULT_SFT,
      steps: c.base.steps,
      batchSize: c.base.batchSize,
      lr: c.base.lr,
      target: 'short',
      checkpointEvery: Math.max(50, Math.round(c.base.steps / 10)),
    },
    // A curriculum: scenes of 1–3 objects, then 2–6, then full scenes. Without it the policy does
    // not learn to ground in full scenes in thousands of steps (measured: ~1% Acc@0.5 vs 24%).
    curriculum: [
      { until: 0.3, data: { split: 'generic-easy', count: c.base.count } },
      { until: 0.6, data: { split: 'generic-mid', count: c.base.count } },
      { until: 1, data: { split: 'generic', count: c.base.count } },
    ],
    eval: { split: 'val', count: c.data.val },
  };
}

/** SFT of a seed's base on the scale's train split (or on `on`, e.g. the region splits). */
export function sftSpec(
  c: CommonConfig,
  target: CotStyle,
  seed: number,
  on: { data: DataRef; eval: DataRef } = {
    data: dataRef(c, 'train', c.data.train),
    eval: dataRef(c, 'val', c.data.val),
  },
  budget?: number,
): SftSpec {
  return {
    kind: 'sft',
    from: baseSpec(c, seed),
    seed,
    sft: {
      ...DEFAULT_SFT,
      steps: c.sft.steps,
      batchSize: c.sft.batchSize,
      lr: c.sft.lr,
      target,
      warmup: 20,
      checkpointEvery: Math.max(25, Math.round(c.sft.steps / 4)),
    },
    data: on.data,
    eval: on.eval,
    ...(budget !== undefined && budget > c.arch.maxCompletionLen ? { maxCompletionLen: budget } : {}),
  };
}

/** The stage a variant's row is read from (GRPO, or its init model when it has no RFT). */
export function variantSpec(c: CommonConfig, v: Variant, seed: number): StageSpec {
  if (v.budget !== undefined && v.init === 'base')
    throw new Error(`variant ${v.id}: a longer budget is given by an SFT stage; this row starts from the base`);
  const init: BaseSpec | SftSpec =
    v.init === 'base'
      ? baseSpec(c, seed)
      : sftSpec(c, v.init === 'sft' ? 'short' : (v.cot ?? c.cot), seed, undefined, v.budget);
  if (!v.grpo) return init;
  const spec: GrpoSpec = {
    kind: 'grpo',
    from: init,
    grpo: mergeGrpo(c.grpo, v.budget !== undefined ? { ...v.grpo, maxLen: Math.max(v.budget, c.grpo.maxLen) } : v.grpo),
    seed: seed + (v.seedOffset ?? 0),
    data: dataRef(c, 'train', c.data.train),
    eval: dataRef(c, 'val', c.data.val),
  };
  return spec;
}

export function specsOf(c: CommonConfig, variants: Variant[]): StageSpec[] {
  return variants.flatMap((v) => c.seeds.map((s) => variantSpec(c, v, s)));
}
