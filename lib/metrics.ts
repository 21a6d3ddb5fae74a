/**
 * Evaluation metrics (SPEC §6) from one list of per-sample IoUs (greedy decoding; an
 * unparseable answer counts with IoU 0). Values are fractions in [0, 1]; tables print them as
 * percentages with two decimals.
 */
import { type Box, overlap, iou } from './boxes';
import { mean } from './stats';

/** Acc@τ: fraction of IoUs ≥ τ (VRSBench's convention, SPEC §6). */
export function accuracyAt(ious: readonly number[], tau: number): number {
  if (ious.length === 0) return NaN;
  return ious.filter((x) => x >= tau).length / ious.length;
}

/** cIoU = Σ intersection / Σ union. */
export function cumulativeIoU(inters: readonly number[], unions: readonly number[]): number {
  const u = unions.reduce((s, x) => s + x, 0);
  return u === 0 ? 0 : inters.reduce((s, x) => s + x, 0) / u;
}

export type GroundingMetrics = { acc50: number; acc70: number; miou: number; ciou: number; n: number };

/** SPEC §6 metrics from per-sample IoUs and their intersections/unions. */
export function groundingMetrics(
  ious: readonly number[],
  inters: readonly number[],
  unions: readonly number[],
): GroundingMetrics {
  return {
    acc50: accuracyAt(ious, 0.5),
    acc70: accuracyAt(ious, 0.7),
    miou: mean(ious),
    ciou: cumulativeIoU(inters, unions),
    n: ious.length,
  };
}

/** SPEC §6 metrics straight from predicted boxes (null = unparseable) and ground truths. */
export function evaluateBoxes(preds: readonly (Box | null)[], gts: readonly Box[]): GroundingMetrics {
  if (preds.length !== gts.length)
    throw new Error(`evaluateBoxes: ${preds.length} predictions for ${gts.length} targets`);
  const ious: number[] = [],
    inters: number[] = [],
    unions: number[] = [];
  preds.forEach((p, i) => {
    const o = overlap(p, gts[i]);
    ious.push(p == null ? 0 : iou(p, gts[i]));
    inters.push(o.inter);
    unions.push(o.union);
  });
  return groundingMetrics(ious, inters, unions);
}

/** A fraction as a percentage with two decimals ("63.25"). */
export function pct(x: number): string {
  return Number.isFinite(x) ? (100 * x).toFixed(2) : '–';
}
