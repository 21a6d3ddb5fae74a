/**
 * Rewards for one rollout (SPEC §3; RSGround-R1 eq. 2–5) and for the other tasks
 * (SPEC §3.6; Geo-CoT counting, RemoteReasoner multi-target regions).
 *
 * Pure functions over plain numbers and `Box`; no tensors. Each states its range.
 */
import { type Box, assertValidGt, center, clipBox, diou, giou, iou, isValidBox } from './boxes';
import { answerBlock, formatReward, parseAnswer, parseBoxes, parseCount, thinkAnswerParts } from './answer';
import { maxWeightAssignment } from './hungarian';
import { num, oneOf, z } from './config';

export type ImageSize = { imageWidth: number; imageHeight: number };
export type PositionalOptions = ImageSize & {
  /** α in eq. 2: σx = α·W/2, σy = α·H/2 with W, H the ground-truth box's size. */
  alpha: number;
};

function checkPositionalOptions(o: PositionalOptions): void {
  if (!(o.alpha > 0) || !Number.isFinite(o.alpha)) {
    throw new Error(`positionalReward: alpha must be a finite number > 0, got ${o.alpha}`);
  }
  for (const k of ['imageWidth', 'imageHeight'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) {
      throw new Error(`positionalReward: ${k} must be an integer ≥ 1, got ${o[k]}`);
    }
  }
}

/**
 * The pixel indices [lo, hi] whose centres k + 0.5 lie in [a, b] (SPEC §3.3 step 5). When no
 * centre lies inside, the single pixel containing the midpoint, clamped to [0, n − 1].
 * `a`, `b` are already clipped to [0, n].
 */
export function pixelSpan(a: number, b: number, n: number): [number, number] {
  const lo = Math.ceil(a - 0.5);
  const hi = Math.floor(b - 0.5);
  if (lo <= hi) return [Math.max(lo, 0), Math.min(hi, n - 1)];
  const mid = Math.min(Math.max(Math.floor((a + b) / 2), 0), n - 1);
  return [mid, mid];
}

/** One axis of the separable kernel: mean of K̂ over pixels [lo, hi] (eq. 2–3, one factor). */
function axisMean(c: number, sigma: number, lo: number, hi: number, n: number): number {
  const inv = 1 / (2 * sigma * sigma);
  // eq. 3: the max over pixel centres is at the centre nearest to c.
  const kMax = Math.min(Math.max(Math.round(c - 0.5), 0), n - 1);
  const m = Math.exp(-((kMax + 0.5 - c) ** 2) * inv);
  let s = 0;
  for (let k = lo; k <= hi; k++) s += Math.exp(-((k + 0.5 - c) ** 2) * inv);
  return s / (hi - lo + 1) / m;
}

/**
 * Positional reward R_pos in [0, 1] (SPEC §3.3, eq. 2–4): the mean of the max-normalised
 * Gaussian kernel centred on the ground truth over the pixels of the (clipped) predicted box.
 * Uses the kernel's separability: O(box width + box height), not O(area).
 * An invalid or non-finite prediction earns 0; an invalid ground truth throws.
 */
export function positionalReward(pred: Box, gt: Box, opts: PositionalOptions): number {
  assertValidGt(gt, 'positionalReward');
  checkPositionalOptions(opts);
  const { alpha, imageWidth: W, imageHeight: H } = opts;
  if (pred == null) return 0;
  if (![pred.x1, pred.y1, pred.x2, pred.y2].every(Number.isFinite)) return 0;
  const p = clipBox(pred, W, H);
  if (!isValidBox(p)) return 0;
  const [cx, cy] = center(gt);
  const sx = (alpha * (gt.x2 - gt.x1)) / 2;
  const sy = (alpha * (gt.y2 - gt.y1)) / 2;
  const [i0, i1] = pixelSpan(p.x1, p.x2, W);
  const [j0, j1] = pixelSpan(p.y1, p.y2, H);
  return axisMean(cx, sx, i0, i1, W) * axisMean(cy, sy, j0, j1, H);
}

/** R_GIoU = (giou + 1) / 2 in [0, 1] (SPEC §3.4); 0 for a missing or invalid prediction. */
export function giouReward(pred: Box | null, gt: Box): number {
  return pred == null ? 0 : (giou(pred, gt) + 1) / 2;
}

/** R_DIoU = (diou + 1) / 2 in [0, 1] (SPEC §3.4); 0 for a missing or invalid prediction. */
export function diouReward(pred: Box | null, gt: Box): number {
  return pred == null ? 0 : (diou(pred, gt) + 1) / 2;
}

/** R_center = max(0, 1 − ρ / D) in [0, 1], D the image diagonal (SPEC §3.4). */
export function centerReward(pred: Box | null, gt: Box, size: ImageSize): number {
  if (!isValidBox(pred)) return 0;
  const [px, py] = center(pred);
  const [gx, gy] = center(gt);
  const rho = Math.hypot(px - gx, py - gy);
  return Math.max(0, 1 - rho / Math.hypot(size.imageWidth, size.imageHeight));
}

/** The auxiliary reward in the β slot of eq. 5 (SPEC §3.5). */
export const AUX_REWARDS = ['none', 'pos', 'giou', 'diou', 'center'] as const;
export type AuxReward = (typeof AUX_REWARDS)[number];

export type GroundingRewardConfig = {
  /** Which distance-aware term fills the β slot of eq. 5 (Table 4). */
  aux: AuxReward;
  /** β in eq. 5. */
  beta: number;
  /** α in eq. 2 (used by `pos` only). */
  alpha: number;
  /** The weight of R_IoU in eq. 5: 1 as the paper writes it; 0 leaves R_format alone (the positive control). */
  iouWeight: number;
};

export const GROUNDING_REWARD_SCHEMA = z.strictObject({
  aux: oneOf(AUX_REWARDS),
  beta: num.nonNegative(),
  alpha: num.positive(),
  iouWeight: num.range(0, 1),
}) satisfies z.ZodType<GroundingRewardConfig>;

export const DEFAULT_GROUNDING_REWARD: Readonly<GroundingRewardConfig> = Object.freeze({
  aux: 'pos',
  beta: 0.1,
  alpha: 2.5,
  iouWeight: 1,
});

export type GroundingReward = {
  /** R_format ∈ {0, 1} */
  format: number;
  /** R_IoU ∈ [0, 1] */
  iou: number;
  /** R_aux ∈ [0, 1] before β (0 when aux = none) */
  aux: number;
  /** R = R_format + R_IoU + β·R_aux (R_IoU times its weight, 1 unless a control) */
  total: number;
  /** whether an answer box could be parsed at all */
  parsed: boolean;
};

/** The auxiliary reward R_aux ∈ [0, 1] of a parsed prediction (SPEC §3.4). */
export function auxReward(kind: AuxReward, pred: Box | null, gt: Box, opts: PositionalOptions): number {
  switch (kind) {
    case 'none':
      return 0;
    case 'pos':
      return pred == null ? 0 : positionalReward(pred, gt, opts);
    case 'giou':
      return giouReward(pred, gt);
    case 'diou':
      return diouReward(pred, gt);
    case 'center':
      return centerReward(pred, gt, opts);
  }
}

/**
 * The total grounding reward of eq. 5 for one completion (SPEC §3.5):
 * R = R_format + R_IoU + β·R_aux. A malformed completion earns 0 in every parsed term.
 */
export function groundingReward(
  text: string,
  gt: Box,
  size: ImageSize,
  cfg: GroundingRewardConfig = DEFAULT_GROUNDING_REWARD,
): GroundingReward {
  assertValidGt(gt, 'groundingReward');
  const pred = parseAnswer(text);
  const format = formatReward(text);
  const r_iou = pred == null ? 0 : iou(pred, gt);
  const aux = auxReward(cfg.aux, pred, gt, { ...size, alpha: cfg.alpha });
  return { format, iou: r_iou, aux, total: format + cfg.iouWeight * r_iou + cfg.beta * aux, parsed: pred != null };
}

// ── Other tasks (SPEC §3.6) ─────────────────────────────────────────────────────────────

/** Geo-CoT counting reward: max(0, 1 − a·|n − n*| / max(n, n*, 1)) in [0, 1]. */
export function countReward(predicted: number | null, target: number, a = 1): number {
  if (predicted == null || !Number.isFinite(predicted)) return 0;
  return Math.max(0, 1 - (a * Math.abs(predicted - target)) / Math.max(predicted, target, 1));
}

/** Counting reward straight from a completion's text (0 when no count can be read). */
export function countRewardFromText(text: string, target: number, a = 1): number {
  return countReward(parseCount(text), target, a);
}

/** Counting format (SPEC §3.1 rules 1–2): think/answer structure, the answer one plain non-negative integer. */
export function countingFormatReward(text: string): number {
  const parts = thinkAnswerParts(text);
  return parts !== null && /^\s*\d+\s*$/.test(parts.answer) ? 1 : 0;
}

/** Geo-CoT's partial credit for a near answer of a VQA question (e.g. a count off by one). */
export const VQA_NEAR_CREDIT = 0.6;

/** An answer as the VQA reward compares it: lower case, single spaces, no trailing full stop. */
export function normalizeVqaAnswer(a: string): string {
  return a
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s*\.$/, '');
}

/**
 * The VQA reward of Geo-CoT: 1 for the answer, 0.6 for a near answer (`near`, e.g. a count off
 * by one), else 0; compared after `normalizeVqaAnswer`. No answer block scores 0.
 */
export function vqaScore(text: string, answer: string, near: readonly string[] = []): number {
  const a = answerBlock(text);
  if (a === null) return 0;
  const got = normalizeVqaAnswer(a);
  if (got === normalizeVqaAnswer(answer)) return 1;
  return near.some((n) => normalizeVqaAnswer(n) === got) ? VQA_NEAR_CREDIT : 0;
}

/** VQA format (SPEC §3.1 rules 1–2): think/answer structure with a non-blank answer. */
export function vqaFormatReward(text: string): number {
  const parts = thinkAnswerParts(text);
  return parts !== null && parts.answer.trim() !== '' ? 1 : 0;
}

export type Matching = 'hungarian' | 'max';

/**
 * RemoteReasoner's multi-target IoU reward (SPEC §3.7) in [0, 1]. `max` (default, eq. 4 as
 * printed): (1/J) Σ_j max_k IoU(b_k, g_j), each ground truth takes its best box and boxes may be
 * reused. `hungarian` (the paper's text says "optimal Hungarian matching"): the one-to-one
 * matching of maximum total IoU, Σ matched IoU / max(K, J), so extra boxes cost. No ground
 * truth: 1 when no box was predicted, else 0.
 */
export function multiTargetIoU(pred: readonly Box[], gts: readonly Box[], matching: Matching = 'max'): number {
  gts.forEach((g, j) => assertValidGt(g, `multi-target ground truth #${j}`));
  if (gts.length === 0) return pred.length === 0 ? 1 : 0;
  if (pred.length === 0) return 0;
  if (matching === 'max') return gts.reduce((s, g) => s + Math.max(...pred.map((b) => iou(b, g))), 0) / gts.length;
  return matchedIoU(pred, gts);
}

/**
 * SPEC §6.2: the one-to-one, maximum-total-IoU matching of predicted boxes to ground truths,
 * Σ matched IoU / max(K, J), in [0, 1]; 1 when K = J = 0. A query's region score.
 */
export function matchedIoU(pred: readonly Box[], gts: readonly Box[]): number {
  if (gts.length === 0 && pred.length === 0) return 1;
  if (gts.length === 0 || pred.length === 0) return 0;
  const m = gts.map((g) => pred.map((b) => iou(b, g))); // [J][K]
  const assign = maxWeightAssignment(m);
  const total = assign.reduce((s, k, j) => s + (k >= 0 ? m[j][k] : 0), 0);
  return total / Math.max(pred.length, gts.length);
}

/** RemoteReasoner's count reward (eq. 5): 1 if J = K = 0; 0 if J = 0 < K; else exp(−2|K − J|/J). */
export function multiTargetCountReward(predictedCount: number, targetCount: number): number {
  if (targetCount === 0) return predictedCount === 0 ? 1 : 0;
  return Math.exp((-2 * Math.abs(predictedCount - targetCount)) / targetCount);
}

export type MultiTargetReward = { format: number; iou: number; count: number; total: number };

/** RemoteReasoner eq. 6: R = R_IoU + R_count + R_format, from a completion's text. */
export function multiTargetReward(text: string, gts: readonly Box[], matching: Matching = 'max'): MultiTargetReward {
  const boxes = parseBoxes(text);
  const format = multiTargetFormatReward(text);
  // SPEC §3.7: an unreadable answer earns what an empty answer to a non-empty query earns
  // (R_IoU 0, R_count exp(−2) when J > 0), and never the full marks of "no such object"
  if (boxes == null) {
    const count = gts.length > 0 ? multiTargetCountReward(0, gts.length) : 0;
    return { format, iou: 0, count, total: format + count };
  }
  const r_iou = multiTargetIoU(boxes, gts, matching);
  const count = multiTargetCountReward(boxes.length, gts.length);
  return { format, iou: r_iou, count, total: format + r_iou + count };
}

const INT_BOX = String.raw`\[\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\]\s*`;
/**
 * `[]` or `[[x1, y1, x2, y2], …]` with plain-digit integers; each repetition starts with a literal comma, so matching
 * is linear.
 */
const BOX_LIST = new RegExp(String.raw`^\s*\[\s*(${INT_BOX}(,\s*${INT_BOX})*)?\]\s*$`);

/**
 * Format check for multi-target answers: `<think>T</think><answer>[[…], …]</answer>` with the
 * same tag rules as SPEC §3.1, the answer a (possibly empty) list of integer boxes.
 */
export function multiTargetFormatReward(text: string): number {
  const parts = thinkAnswerParts(text);
  return parts !== null && BOX_LIST.test(parts.answer) ? 1 : 0;
}
