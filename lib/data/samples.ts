/** The sample types every data source produces (synthetic world and real-dataset loaders). */
import type { Box } from '../boxes';
import type { Letterbox } from './conventions';

export type SampleImage = {
  width: number;
  height: number;
  /** HWC, 0–255, when decoded */
  rgb?: Uint8Array;
  /** a file to decode lazily (real datasets) */
  path?: string;
};

/** One referring expression and its single target (SPEC §1 boxes). */
export type GroundingSample = {
  /** stable, unique within its dataset */
  id: string;
  image: SampleImage;
  /** the referring expression */
  query: string;
  /** absolute pixels (SPEC §1) */
  gt: Box;
  category: string;
  /** the only object of its class in the image (VRSBench's notion) */
  unique: boolean;
  /** cue type, distractors, objects, masks, CoT traces, … */
  meta?: Record<string, unknown>;
  /**
   * A real image fitted to the policy's input (lib/data/fit.ts): `image` and `gt` are then in the
   * letterboxed square, and this is the original frame, in which every metric is computed.
   */
  original?: OriginalFrame;
};

/** The original image size and box of a letterboxed sample, and the letterbox between the two. */
export type OriginalFrame = { width: number; height: number; gt: Box; letterbox: Letterbox };

/** Counting (Geo-CoT): "how many vehicles are there ?" */
export type CountingSample = {
  task: 'counting';
  id: string;
  image: SampleImage;
  query: string;
  category: string;
  count: number;
  /** the counted objects, for grounded evidence */
  boxes: Box[];
  meta?: Record<string, unknown>;
};

/** Multi-target regions (RemoteReasoner): "all storage tanks on the left" → every target box. */
export type RegionSample = {
  id: string;
  image: SampleImage;
  query: string;
  category: string;
  boxes: Box[];
  meta?: Record<string, unknown>;
};

/**
 * Detection (Geo-CoT, SPEC §6.3): "find every ship ." → every instance of one class, as a list of
 * boxes; rewarded by F1@0.5, measured by AP@0.5 with the answer order as the ranking.
 */
export type DetectionSample = {
  task: 'detection';
  id: string;
  image: SampleImage;
  query: string;
  category: string;
  boxes: Box[];
  meta?: Record<string, unknown>;
};

/**
 * A closed-form visual question of the mini world (Geo-CoT's VQA task): presence ("are there
 * ships ?" → "there are" or "no"), class, colour and count-in-a-half questions. `near` lists the
 * answers that earn the paper's partial credit (0.6), e.g. a count off by one.
 */
export type VqaSample = {
  task: 'vqa';
  id: string;
  image: SampleImage;
  query: string;
  /** the kind of question: presence, class, color or count */
  kind: 'presence' | 'class' | 'color' | 'count';
  answer: string;
  near: string[];
  category: string;
  meta?: Record<string, unknown>;
};

/** What SFT, GRPO and evaluation train and score on, one task per sample. */
export type TaskSample = GroundingSample | RegionSample | CountingSample | DetectionSample | VqaSample;

export const TASKS = ['grounding', 'region', 'counting', 'detection', 'vqa'] as const;
export type TaskName = (typeof TASKS)[number];

/**
 * The task of a sample. Counting, detection and VQA samples name theirs; grounding and region
 * samples (the first two, whose shape fixed the on-disk format) are told apart by their target:
 * one box `gt` or a list `boxes`.
 */
export function taskOf(s: TaskSample): TaskName {
  if ('task' in s) return s.task;
  return 'gt' in s ? 'grounding' : 'region';
}

/** A region query (several boxes, possibly none) rather than a single-target referring expression. */
export function isRegionSample(s: TaskSample): s is RegionSample {
  return taskOf(s) === 'region';
}

/** A single-target referring expression (RSVG). */
export function isGroundingSample(s: TaskSample): s is GroundingSample {
  return taskOf(s) === 'grounding';
}
