/**
 * Boxes and the overlap measures between them (SPEC §1–§2).
 *
 * A box is in absolute pixels of the image the model sees, x to the right, y downwards,
 * (x1, y1) the top-left corner, continuous coordinates: area = (x2 - x1) * (y2 - y1).
 * Pure functions over plain numbers; no tensors.
 */

export type Box = { x1: number; y1: number; x2: number; y2: number };

/** SPEC §1: all four numbers finite and x2 > x1, y2 > y1. */
export function isValidBox(b: Box | null | undefined): b is Box {
  return (
    b != null &&
    Number.isFinite(b.x1) &&
    Number.isFinite(b.y1) &&
    Number.isFinite(b.x2) &&
    Number.isFinite(b.y2) &&
    b.x2 > b.x1 &&
    b.y2 > b.y1
  );
}

/**
 * A ground-truth box must be valid: an invalid one means broken data (SPEC §1).
 * Throws an error naming the sample and the box.
 */
export function assertValidGt(b: Box, sampleId = '(unknown sample)'): void {
  if (!isValidBox(b)) {
    throw new Error(
      `invalid ground-truth box for sample ${sampleId}: ${JSON.stringify(b)} ` +
        `(need finite x1 < x2 and y1 < y2, SPEC §1)`,
    );
  }
}

export function area(b: Box): number {
  return (b.x2 - b.x1) * (b.y2 - b.y1);
}

export function center(b: Box): [number, number] {
  return [(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2];
}

/** Area of a ∩ b (0 when disjoint). Both boxes assumed valid. */
export function intersectionArea(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Intersection and union areas; both 0 when either box is invalid. For cIoU (SPEC §6). */
export function overlap(a: Box | null, b: Box): { inter: number; union: number } {
  if (!isValidBox(a) || !isValidBox(b)) return { inter: 0, union: isValidBox(b) ? area(b) : 0 };
  const inter = intersectionArea(a, b);
  return { inter, union: area(a) + area(b) - inter };
}

/** IoU in [0, 1]; 0 for an invalid input (SPEC §2). Matches torchvision `box_iou`. */
export function iou(a: Box, b: Box): number {
  if (!isValidBox(a) || !isValidBox(b)) return 0;
  const inter = intersectionArea(a, b);
  return inter / (area(a) + area(b) - inter);
}

/** Smallest box enclosing both. */
export function enclosing(a: Box, b: Box): Box {
  return {
    x1: Math.min(a.x1, b.x1),
    y1: Math.min(a.y1, b.y1),
    x2: Math.max(a.x2, b.x2),
    y2: Math.max(a.y2, b.y2),
  };
}

/**
 * Generalized IoU in [−1, 1]: IoU − (C − U) / C, C the enclosing box's area, U the union
 * (SPEC §2). −1 for an invalid input. Matches torchvision `generalized_box_iou`.
 */
export function giou(a: Box, b: Box): number {
  if (!isValidBox(a) || !isValidBox(b)) return -1;
  const inter = intersectionArea(a, b);
  const union = area(a) + area(b) - inter;
  const c = area(enclosing(a, b));
  return inter / union - (c - union) / c;
}

/**
 * Distance IoU in (−1, 1]: IoU − ρ² / c², ρ the distance between centres, c the diagonal of
 * the enclosing box (SPEC §2). −1 for an invalid input. Matches torchvision `distance_box_iou`.
 */
export function diou(a: Box, b: Box): number {
  if (!isValidBox(a) || !isValidBox(b)) return -1;
  const [ax, ay] = center(a);
  const [bx, by] = center(b);
  const rho2 = (ax - bx) ** 2 + (ay - by) ** 2;
  const e = enclosing(a, b);
  const c2 = (e.x2 - e.x1) ** 2 + (e.y2 - e.y1) ** 2;
  return iou(a, b) - rho2 / c2;
}

/** Clip a box to [0, width] × [0, height]. The result may be invalid (zero width). */
export function clipBox(b: Box, width: number, height: number): Box {
  const c = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return { x1: c(b.x1, width), y1: c(b.y1, height), x2: c(b.x2, width), y2: c(b.y2, height) };
}

/** `[x1, y1, x2, y2]` with integers rounded, as the policy writes it (SPEC §3.1). */
export function formatBox(b: Box): string {
  return `[${Math.round(b.x1)}, ${Math.round(b.y1)}, ${Math.round(b.x2)}, ${Math.round(b.y2)}]`;
}
