/**
 * The reward of one rollout, by task: one GRPO loop scores single-target grounding (RSGround-R1,
 * SPEC §3.5) and multi-target regions (RemoteReasoner, SPEC §3.7) through this registry, chosen
 * by the sample, not by a second trainer.
 */
import type { RolloutScore } from './grpo';
import { groundingReward, multiTargetReward, type GroundingRewardConfig, type Matching } from './rewards';
import { isRegionSample, type TaskSample } from './data/samples';
import { num, oneOf, z } from './config';

/** RemoteReasoner's reward knobs (SPEC §3.7), ablated by the remotereasoner experiment. */
export type RegionRewardConfig = {
  /** R_IoU's matching: eq. 4 as printed ('max', the default) or one-to-one Hungarian */
  matching: Matching;
  /** weight of R_count in R = R_format + R_IoU + R_count (eq. 6: 1; 0 drops it) */
  countWeight: number;
};

export const DEFAULT_REGION_REWARD: Readonly<RegionRewardConfig> = Object.freeze({ matching: 'max', countWeight: 1 });

export const REGION_REWARD_SCHEMA = z.strictObject({
  matching: oneOf(['max', 'hungarian'] as const),
  countWeight: num.nonNegative(),
}) satisfies z.ZodType<RegionRewardConfig>;

export type TaskRewardConfig = { reward: GroundingRewardConfig; region?: RegionRewardConfig };

/**
 * The reward terms of one completion of `sample`, scored against `target`'s truth (the sample
 * itself, or another query of the batch in the negative control). `aux` is β·R_aux's R_aux for
 * grounding and R_count for regions; `iou` feeds the spatial-consistency weight either way.
 */
export function rolloutReward(
  text: string,
  sample: TaskSample,
  target: TaskSample,
  cfg: TaskRewardConfig,
): RolloutScore & { task: 'grounding' | 'region' } {
  if (isRegionSample(sample)) {
    if (!isRegionSample(target)) throw new Error(`rolloutReward: ${sample.id} is a region query, its target is not`);
    const rc = cfg.region ?? DEFAULT_REGION_REWARD;
    const r = multiTargetReward(text, target.boxes, rc.matching);
    return {
      task: 'region',
      format: r.format,
      iou: r.iou,
      aux: r.count,
      total: r.format + r.iou + rc.countWeight * r.count,
    };
  }
  if (isRegionSample(target)) throw new Error(`rolloutReward: ${sample.id} is a grounding query, its target is not`);
  const size = { imageWidth: sample.image.width, imageHeight: sample.image.height };
  const r = groundingReward(text, target.gt, size, cfg.reward);
  return { task: 'grounding', format: r.format, iou: r.iou, aux: r.aux, total: r.total };
}
