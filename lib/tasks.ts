/**
 * The reward of one rollout, by task: one GRPO loop scores single-target grounding (RSGround-R1,
 * SPEC §3.5), multi-target regions (RemoteReasoner, SPEC §3.7) and Geo-CoT's counting (§3.6),
 * detection (§6.3) and VQA through this registry, chosen by the sample, not by a second trainer.
 */
import type { RolloutScore } from './grpo';
import {
  countRewardFromText,
  countingFormatReward,
  groundingReward,
  multiTargetFormatReward,
  multiTargetReward,
  vqaFormatReward,
  vqaScore,
  type GroundingRewardConfig,
  type Matching,
} from './rewards';
import { parseBoxes } from './answer';
import { detectionF1 } from './detection';
import { taskOf, type TaskName, type TaskSample } from './data/samples';
import type { Box } from './boxes';
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

/** The truth a completion of Geo-CoT's counting, detection or VQA tasks is scored against. */
export type AnswerTruth =
  | { task: 'counting'; count: number }
  | { task: 'detection'; boxes: readonly Box[] }
  | { task: 'vqa'; answer: string; near: readonly string[] };

/**
 * R_format and the task's score of a counting (R_count, SPEC §3.6), detection (F1@0.5, §6.3) or
 * VQA (1 / 0.6 for a near answer / 0) completion; R = their sum. Never throws on the text.
 */
export function answerReward(text: string, truth: AnswerTruth): { format: number; score: number } {
  switch (truth.task) {
    case 'counting':
      return { format: countingFormatReward(text), score: countRewardFromText(text, truth.count) };
    case 'detection':
      return { format: multiTargetFormatReward(text), score: detectionF1(parseBoxes(text) ?? [], truth.boxes) };
    case 'vqa':
      return { format: vqaFormatReward(text), score: vqaScore(text, truth.answer, truth.near) };
  }
}

/**
 * The reward terms of one completion of `sample`, scored against `target`'s truth (the sample
 * itself, or another query of the batch in the negative control, which must then be of the same
 * task). `iou` is the task's accuracy term — R_IoU for boxes, R_count for counting, F1@0.5 for
 * detection, the VQA score — and feeds the spatial-consistency weight; `aux` is β·R_aux's R_aux
 * for grounding, R_count for regions and 0 for the rest. R = R_format + that term (+ aux terms).
 */
export function rolloutReward(
  text: string,
  sample: TaskSample,
  target: TaskSample,
  cfg: TaskRewardConfig,
): RolloutScore & { task: TaskName } {
  const task = taskOf(sample);
  if (taskOf(target) !== task)
    throw new Error(
      `rolloutReward: ${sample.id} is a ${task} query, its target ${target.id} is a ${taskOf(target)} one`,
    );
  const plain = (format: number, score: number) => ({ task, format, iou: score, aux: 0, total: format + score });
  if (task === 'region' && 'boxes' in target) {
    const rc = cfg.region ?? DEFAULT_REGION_REWARD;
    const r = multiTargetReward(text, target.boxes, rc.matching);
    return { task, format: r.format, iou: r.iou, aux: r.count, total: r.format + r.iou + rc.countWeight * r.count };
  }
  if (task === 'grounding' && 'gt' in target) {
    const size = { imageWidth: sample.image.width, imageHeight: sample.image.height };
    const r = groundingReward(text, target.gt, size, cfg.reward);
    return { task, format: r.format, iou: r.iou, aux: r.aux, total: r.total };
  }
  if ('task' in target) {
    const r = answerReward(text, target);
    return plain(r.format, r.score);
  }
  throw new Error(`rolloutReward: no reward for the ${task} task of ${sample.id}`);
}
