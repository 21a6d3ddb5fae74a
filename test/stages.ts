/** Stage specs the scheduler, plan and report tests share (importing the pipeline, so not in helpers.ts). */
import { type BaseSpec, DEFAULT_SFT } from '../lib/pipeline';
import { TINY } from './helpers';

/** A tiny base-model stage spec: the TINY policy, a one-phase curriculum of 4 generic samples. */
export function tinyBase(seed: number, steps = 3): BaseSpec {
  return {
    kind: 'base',
    arch: { ...TINY, stemHidden: 0, positionReadout: true },
    seed,
    sft: { ...DEFAULT_SFT, steps },
    curriculum: [{ until: 1, data: { split: 'generic', count: 4 } }],
    eval: { split: 'val', count: 2 },
  };
}
