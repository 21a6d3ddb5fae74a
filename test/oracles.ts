/**
 * Independent, literal reference implementations used only as test oracles (and by the
 * benchmark as the slow baseline). Written from SPEC's words, deliberately naive.
 */
import type { Box } from '../lib/boxes';

/** SPEC §3.3 literally: loop over every pixel of the image for M, then over P(p). */
export function positionalRewardPerPixel(
  pred: Box,
  gt: Box,
  o: { alpha: number; imageWidth: number; imageHeight: number },
): number {
  const W = o.imageWidth,
    H = o.imageHeight;
  if (![pred.x1, pred.y1, pred.x2, pred.y2].every(Number.isFinite)) return 0;
  const cx = (gt.x1 + gt.x2) / 2,
    cy = (gt.y1 + gt.y2) / 2;
  const sx = (o.alpha * (gt.x2 - gt.x1)) / 2,
    sy = (o.alpha * (gt.y2 - gt.y1)) / 2;
  const K = (u: number, v: number) => Math.exp(-((u - cx) ** 2) / (2 * sx * sx) - (v - cy) ** 2 / (2 * sy * sy));
  let M = 0;
  for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) M = Math.max(M, K(i + 0.5, j + 0.5));
  const x1 = Math.min(Math.max(pred.x1, 0), W),
    x2 = Math.min(Math.max(pred.x2, 0), W);
  const y1 = Math.min(Math.max(pred.y1, 0), H),
    y2 = Math.min(Math.max(pred.y2, 0), H);
  if (!(x2 > x1 && y2 > y1)) return 0;
  let cols: number[] = [];
  for (let i = 0; i < W; i++) if (x1 <= i + 0.5 && i + 0.5 <= x2) cols.push(i);
  if (cols.length === 0) cols = [Math.min(Math.max(Math.floor((x1 + x2) / 2), 0), W - 1)];
  let rows: number[] = [];
  for (let j = 0; j < H; j++) if (y1 <= j + 0.5 && j + 0.5 <= y2) rows.push(j);
  if (rows.length === 0) rows = [Math.min(Math.max(Math.floor((y1 + y2) / 2), 0), H - 1)];
  let s = 0;
  for (const j of rows) for (const i of cols) s += K(i + 0.5, j + 0.5) / M;
  return s / (rows.length * cols.length);
}

/**
 * IoU by counting cells of size 1/res inside each box: exact when every coordinate is a
 * multiple of 1/res. An oracle for iou() that shares no code with it.
 */
export function iouByCells(a: Box, b: Box, res = 2): number {
  const lo = Math.floor(Math.min(a.x1, b.x1, a.y1, b.y1) * res);
  const hi = Math.ceil(Math.max(a.x2, b.x2, a.y2, b.y2) * res);
  let inA = 0,
    inB = 0,
    both = 0;
  for (let y = lo; y < hi; y++) {
    for (let x = lo; x < hi; x++) {
      const px = (x + 0.5) / res,
        py = (y + 0.5) / res;
      const ia = px > a.x1 && px < a.x2 && py > a.y1 && py < a.y2;
      const ib = px > b.x1 && px < b.x2 && py > b.y1 && py < b.y2;
      if (ia) inA++;
      if (ib) inB++;
      if (ia && ib) both++;
    }
  }
  const union = inA + inB - both;
  return union === 0 ? 0 : both / union;
}

/** Brute-force maximum-weight assignment by enumerating injections rows → columns ∪ {none}. */
export function bruteAssignmentValue(w: number[][]): number {
  const rows = w.length,
    cols = rows ? w[0].length : 0;
  let best = 0;
  const used = new Array(cols).fill(false);
  const rec = (r: number, acc: number) => {
    if (r === rows) {
      best = Math.max(best, acc);
      return;
    }
    rec(r + 1, acc);
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = true;
      rec(r + 1, acc + w[r][c]);
      used[c] = false;
    }
  };
  rec(0, 0);
  return best;
}

/**
 * SPEC §6.2 contour metrics literally: boundary pixels by their 4 neighbours, F1@k by checking
 * every pair's Chebyshev distance, ASD and HD by every pair's Euclidean distance.
 */
export function contourMetricsLiteral(
  pred: Uint8Array,
  gt: Uint8Array,
  W: number,
  H: number,
): { f1At1: number; f1At3: number; asd: number; hd: number } {
  const edge = (m: Uint8Array) => {
    const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < W && y < H && m[y * W + x] === 1;
    const pts: [number, number][] = [];
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        if (
          inside(x, y) &&
          [
            [-1, 0],
            [1, 0],
            [0, -1],
            [0, 1],
          ].some(([dx, dy]) => !inside(x + dx, y + dy))
        )
          pts.push([x, y]);
    return pts;
  };
  const P = edge(pred),
    G = edge(gt);
  if (P.length === 0 && G.length === 0) return { f1At1: 1, f1At3: 1, asd: 0, hd: 0 };
  if (P.length === 0 || G.length === 0) return { f1At1: 0, f1At3: 0, asd: Math.hypot(W, H), hd: Math.hypot(W, H) };
  const near = (a: [number, number], B: [number, number][], k: number) =>
    B.some((b) => Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1])) <= k);
  const f1 = (k: number) => {
    const p = P.filter((a) => near(a, G, k)).length / P.length;
    const r = G.filter((a) => near(a, P, k)).length / G.length;
    return p + r === 0 ? 0 : (2 * p * r) / (p + r);
  };
  const dist = (a: [number, number], B: [number, number][]) =>
    Math.min(...B.map((b) => Math.hypot(a[0] - b[0], a[1] - b[1])));
  const all = [...P.map((a) => dist(a, G)), ...G.map((a) => dist(a, P))];
  return { f1At1: f1(1), f1At3: f1(3), asd: all.reduce((s, d) => s + d, 0) / all.length, hd: Math.max(...all) };
}

/**
 * VOC devkit's `voc_ap` (all-point, VOC2010+) on a ranked list of true/false positives: sentinel
 * points at recall 0 and 1, the precision envelope, then the sum over points where recall changes.
 */
export function vocAp(isTp: readonly boolean[], nGt: number): number {
  let tp = 0;
  const rec: number[] = [],
    prec: number[] = [];
  isTp.forEach((t, i) => {
    if (t) tp++;
    rec.push(tp / nGt);
    prec.push(tp / (i + 1));
  });
  const mrec = [0, ...rec, 1],
    mpre = [0, ...prec, 0];
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let ap = 0;
  for (let i = 1; i < mrec.length; i++) if (mrec[i] !== mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
  return ap;
}
