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

/** What SFT, GRPO and evaluation train and score on: single-target grounding or multi-target regions. */
export type TaskSample = GroundingSample | RegionSample;

/** A region query (several boxes, possibly none) rather than a single-target referring expression. */
export function isRegionSample(s: TaskSample): s is RegionSample {
  return !('gt' in s);
}
