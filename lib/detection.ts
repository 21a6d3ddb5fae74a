/**
 * Detection (SPEC §6.3, Geo-CoT): an answer lists every instance of a class as boxes, in the
 * order the model ranks them. The reward is F1@0.5 of a one-to-one matching; the metric is VOC
 * AP@0.5 with the answer order as the ranking, averaged over classes (mAP@0.5). Pure functions
 * over `Box`.
 */
import { iou, type Box } from './boxes';
import { maxWeightAssignment } from './hungarian';

/** IoU at which a predicted box counts as a detection. */
export const DETECTION_IOU = 0.5;

/**
 * SPEC §6.3: true positives of a one-to-one matching of maximum total IoU among the pairs with
 * IoU ≥ 0.5 (pairs below it cannot match).
 */
export function detectionMatches(pred: readonly Box[], gts: readonly Box[]): number {
  if (pred.length === 0 || gts.length === 0) return 0;
  const w = gts.map((g) =>
    pred.map((b) => {
      const v = iou(b, g);
      return v >= DETECTION_IOU ? v : 0;
    }),
  );
  return maxWeightAssignment(w).filter((k, j) => k >= 0 && w[j][k] >= DETECTION_IOU).length;
}

/**
 * SPEC §6.3, the detection reward: F1@0.5 = 2PR/(P + R) with P = TP/K, R = TP/J, in [0, 1];
 * 1 when K = J = 0, 0 when exactly one of them is 0.
 */
export function detectionF1(pred: readonly Box[], gts: readonly Box[]): number {
  if (pred.length === 0 && gts.length === 0) return 1;
  const tp = detectionMatches(pred, gts);
  if (tp === 0) return 0;
  const p = tp / pred.length,
    r = tp / gts.length;
  return (2 * p * r) / (p + r);
}

/**
 * SPEC §6.3: AP@0.5 of one ranked answer (image, class), VOC all-point interpolation. Walking the
 * answer in order, a box is a true positive when its best-IoU ground truth has IoU ≥ 0.5 and is
 * not taken yet (VOC's rule); AP = Σ_i (r_i − r_{i−1}) · max_{j ≥ i} p_j. With no ground truth,
 * 1 for an empty answer and 0 otherwise.
 */
export function averagePrecision(ranked: readonly Box[], gts: readonly Box[]): number {
  if (gts.length === 0) return ranked.length === 0 ? 1 : 0;
  const taken = new Array<boolean>(gts.length).fill(false);
  const precision: number[] = [],
    recall: number[] = [];
  let tp = 0;
  ranked.forEach((b, i) => {
    let best = -1,
      bestIoU = 0;
    gts.forEach((g, j) => {
      const v = iou(b, g);
      if (v > bestIoU) [best, bestIoU] = [j, v];
    });
    if (best >= 0 && bestIoU >= DETECTION_IOU && !taken[best]) {
      taken[best] = true;
      tp++;
    }
    precision.push(tp / (i + 1));
    recall.push(tp / gts.length);
  });
  // the precision envelope, right to left, then the area under the recall steps
  for (let i = precision.length - 2; i >= 0; i--) precision[i] = Math.max(precision[i], precision[i + 1]);
  let ap = 0,
    prev = 0;
  recall.forEach((r, i) => {
    ap += (r - prev) * precision[i];
    prev = r;
  });
  return ap;
}

/** mAP@0.5: AP per answer, averaged within each class, then over classes (SPEC §6.3). NaN for no answers. */
export function meanAveragePrecision(
  answers: readonly { cls: string; ranked: readonly Box[]; gts: readonly Box[] }[],
): { map: number; byClass: Record<string, number> } {
  const sums = new Map<string, { s: number; n: number }>();
  for (const a of answers) {
    const e = sums.get(a.cls) ?? { s: 0, n: 0 };
    e.s += averagePrecision(a.ranked, a.gts);
    e.n++;
    sums.set(a.cls, e);
  }
  const byClass = Object.fromEntries([...sums].map(([k, e]) => [k, e.s / e.n]));
  const vals = Object.values(byClass);
  return { map: vals.length ? vals.reduce((s, v) => s + v, 0) / vals.length : NaN, byClass };
}
