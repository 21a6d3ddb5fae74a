/**
 * Numbers for the rewards explainer (paper Figure 2(ii)): how IoU and the distance-aware
 * rewards respond as a predicted box slides past the target, and R_pos landscapes over the
 * image for several α. Pure functions; the figures are built from these by plots.ts.
 */
import type { Box } from '../boxes';
import { iou } from '../boxes';
import { centerReward, diouReward, giouReward, positionalReward } from '../rewards';

export type SlideCurves = {
  shift: number[];
  iou: number[];
  pos: number[];
  giou: number[];
  diou: number[];
  center: number[];
};

/** Rewards for a copy of `gt` shifted horizontally by each of `shifts` pixels. */
export function slideCurves(gt: Box, imageSize: number, alpha: number, shifts: number[]): SlideCurves {
  const size = { imageWidth: imageSize, imageHeight: imageSize };
  const out: SlideCurves = { shift: shifts, iou: [], pos: [], giou: [], diou: [], center: [] };
  for (const dx of shifts) {
    const p = { x1: gt.x1 + dx, y1: gt.y1, x2: gt.x2 + dx, y2: gt.y2 };
    out.iou.push(iou(p, gt));
    out.pos.push(positionalReward(p, gt, { ...size, alpha }));
    out.giou.push(giouReward(p, gt));
    out.diou.push(diouReward(p, gt));
    out.center.push(centerReward(p, gt, size));
  }
  return out;
}

/** R_pos of a GT-sized box centred on each pixel (rows = y, columns = x). */
export function posLandscape(gt: Box, imageSize: number, alpha: number): number[][] {
  const w = gt.x2 - gt.x1,
    h = gt.y2 - gt.y1;
  const size = { imageWidth: imageSize, imageHeight: imageSize, alpha };
  return Array.from({ length: imageSize }, (_, y) =>
    Array.from({ length: imageSize }, (_, x) => {
      const p = { x1: x + 0.5 - w / 2, y1: y + 0.5 - h / 2, x2: x + 0.5 + w / 2, y2: y + 0.5 + h / 2 };
      return positionalReward(p, gt, size);
    }),
  );
}
