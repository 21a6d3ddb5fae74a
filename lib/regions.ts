/**
 * Regions, masks and contours (SPEC §6.2, RemoteReasoner): a query names zero, one or several
 * objects and is answered with a list of boxes; each box becomes a mask and the mask a contour.
 *
 * The box → mask step is an **oracle**, the mini world's stand-in for SAM2: it knows every
 * object's pixels and returns the mask of the object the box covers best, cut to the box. So the
 * pixel and contour metrics here measure how the quality of the predicted boxes propagates to
 * masks and contours, not segmentation skill.
 *
 * Masks are row-major `Uint8Array`s of `width × height`, 1 inside. Pure functions, no tensors.
 */
import { contours } from 'd3-contour';
import { clipBox, isValidBox, type Box } from './boxes';
import { matchedIoU, pixelSpan } from './rewards';

/** An object the oracle can segment: its exact box and its mask over that box (as `SceneObject`). */
export type MaskedObject = { box: Box; mask: Uint8Array };

/** The pixel rectangle [x0, x1] × [y0, y1] (inclusive) of a box (SPEC §3.3 step 5), or null when invalid. */
function boxPixels(b: Box, width: number, height: number): [number, number, number, number] | null {
  if (![b.x1, b.y1, b.x2, b.y2].every(Number.isFinite)) return null;
  const c = clipBox(b, width, height);
  if (!isValidBox(c)) return null;
  const [x0, x1] = pixelSpan(c.x1, c.x2, width);
  const [y0, y1] = pixelSpan(c.y1, c.y2, height);
  return [x0, x1, y0, y1];
}

/** Whether object `o`'s mask holds pixel (x, y). */
function holds(o: MaskedObject, x: number, y: number): boolean {
  const { box } = o;
  if (x < box.x1 || x >= box.x2 || y < box.y1 || y >= box.y2) return false;
  return o.mask[(y - box.y1) * (box.x2 - box.x1) + (x - box.x1)] === 1;
}

/**
 * SPEC §6.2, the oracle segmenter: the mask of the object whose pixels cover most of the box's
 * pixels (ties: the lower index), cut to the box; an empty mask when the box holds no object pixel
 * or is invalid.
 */
export function oracleMask(box: Box, objects: readonly MaskedObject[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const px = boxPixels(box, width, height);
  if (px === null) return out;
  const [x0, x1, y0, y1] = px;
  let best = -1,
    bestCount = 0;
  objects.forEach((o, i) => {
    let n = 0;
    for (let y = Math.max(y0, o.box.y1); y <= Math.min(y1, o.box.y2 - 1); y++)
      for (let x = Math.max(x0, o.box.x1); x <= Math.min(x1, o.box.x2 - 1); x++) if (holds(o, x, y)) n++;
    if (n > bestCount) [best, bestCount] = [i, n];
  });
  if (best < 0) return out;
  const o = objects[best];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (holds(o, x, y)) out[y * width + x] = 1;
  return out;
}

/** The union of the oracle masks of a query's predicted boxes (SPEC §6.2). */
export function predictedMask(
  boxes: readonly Box[],
  objects: readonly MaskedObject[],
  width: number,
  height: number,
): Uint8Array {
  const out = new Uint8Array(width * height);
  for (const b of boxes) oracleMask(b, objects, width, height).forEach((v, i) => (out[i] |= v));
  return out;
}

/** The union of the referents' full masks: a query's ground-truth mask. */
export function objectsMask(objects: readonly MaskedObject[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (const o of objects)
    for (let y = o.box.y1; y < o.box.y2; y++)
      for (let x = o.box.x1; x < o.box.x2; x++) if (holds(o, x, y)) out[y * width + x] = 1;
  return out;
}

/** Intersection and union pixel counts of two masks. */
export function maskOverlap(a: Uint8Array, b: Uint8Array): { inter: number; union: number } {
  let inter = 0,
    union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i];
    union += a[i] | b[i];
  }
  return { inter, union };
}

/**
 * SPEC §6.2: the contour of a mask, its boundary pixels: mask pixels with at least one of the 4
 * neighbours outside the mask or outside the image.
 */
export function boundary(mask: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] === 1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (!inside(x, y)) continue;
      if (!inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1)) out[y * width + x] = 1;
    }
  return out;
}

/**
 * One-dimensional squared Euclidean distance transform (Felzenszwalb & Huttenlocher 2012): the
 * lower envelope of parabolas rooted at every finite `f[q]`.
 */
function edt1d(f: Float64Array): Float64Array {
  const n = f.length;
  const d = new Float64Array(n).fill(Infinity);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    let s = -Infinity;
    while (k >= 0) {
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
      if (s > z[k]) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = k === 0 ? -Infinity : s;
    z[k + 1] = Infinity;
  }
  if (k < 0) return d;
  for (let q = 0, j = 0; q < n; q++) {
    while (z[j + 1] < q) j++;
    d[q] = (q - v[j]) ** 2 + f[v[j]];
  }
  return d;
}

/** Squared Euclidean distance from every pixel centre to the nearest pixel of `set` (∞ when empty). */
export function squaredDistanceTo(set: Uint8Array, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  const col = new Float64Array(height);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) col[y] = set[y * width + x] ? 0 : Infinity;
    const d = edt1d(col);
    for (let y = 0; y < height; y++) out[y * width + x] = d[y];
  }
  const row = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) row[x] = out[y * width + x];
    out.set(edt1d(row), y * width);
  }
  return out;
}

/** 1 on every pixel within Chebyshev distance ≤ k of `set`: a (2k + 1)² square dilation. */
function dilate(set: Uint8Array, width: number, height: number, k: number): Uint8Array {
  const rows = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (!set[y * width + x]) continue;
      for (let u = Math.max(0, x - k); u <= Math.min(width - 1, x + k); u++) rows[y * width + u] = 1;
    }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (!rows[y * width + x]) continue;
      for (let v = Math.max(0, y - k); v <= Math.min(height - 1, y + k); v++) out[v * width + x] = 1;
    }
  return out;
}

export type ContourMetrics = { f1At1: number; f1At3: number; asd: number; hd: number };

/**
 * SPEC §6.2: contour agreement of a predicted and a ground-truth mask (row-major, 1 = inside).
 * F1@k (k = 1, 3) counts boundary pixels within Chebyshev distance k of the other boundary, as
 * fractions in [0, 1]; ASD and HD are Euclidean distances between pixel centres, in pixels. Both
 * contours empty: F1 1, distances 0; one empty: F1 0, distances the image diagonal.
 */
export function contourMetrics(pred: Uint8Array, gt: Uint8Array, width: number, height: number): ContourMetrics {
  if (pred.length !== width * height || gt.length !== width * height)
    throw new Error(`contourMetrics: masks must hold ${width} × ${height} = ${width * height} pixels`);
  const p = boundary(pred, width, height);
  const g = boundary(gt, width, height);
  const np = p.reduce((s, v) => s + v, 0);
  const ng = g.reduce((s, v) => s + v, 0);
  if (np === 0 && ng === 0) return { f1At1: 1, f1At3: 1, asd: 0, hd: 0 };
  if (np === 0 || ng === 0) {
    const diag = Math.hypot(width, height);
    return { f1At1: 0, f1At3: 0, asd: diag, hd: diag };
  }
  const f1 = (k: number) => {
    const nearG = dilate(g, width, height, k);
    const nearP = dilate(p, width, height, k);
    let tp = 0,
      tg = 0;
    for (let i = 0; i < p.length; i++) {
      tp += p[i] & nearG[i];
      tg += g[i] & nearP[i];
    }
    const precision = tp / np,
      recall = tg / ng;
    return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  };
  const toG = squaredDistanceTo(g, width, height);
  const toP = squaredDistanceTo(p, width, height);
  let sum = 0,
    hd = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]) {
      const d = Math.sqrt(toG[i]);
      sum += d;
      hd = Math.max(hd, d);
    }
    if (g[i]) {
      const d = Math.sqrt(toP[i]);
      sum += d;
      hd = Math.max(hd, d);
    }
  }
  return { f1At1: f1(1), f1At3: f1(3), asd: sum / (np + ng), hd };
}

/**
 * Polygons of a mask's outline for display (marching squares, d3-contour), in pixel coordinates
 * (a pixel (x, y) spans [x, x + 1] × [y, y + 1]). The metrics use `boundary`, not these.
 */
export function maskPolygons(mask: Uint8Array, width: number, height: number): [number, number][][][] {
  const [level] = contours().size([width, height]).thresholds([0.5])(Array.from(mask));
  return level.coordinates.map((poly) => poly.map((ring) => ring.map(([x, y]) => [x, y] as [number, number])));
}

/** One region query's prediction and truth, for `regionMetrics`. */
export type RegionResult = {
  /** the parsed boxes; null when the answer could not be read (matched IoU 0, count wrong) */
  pred: readonly Box[] | null;
  gts: readonly Box[];
  /** predicted and ground-truth masks (oracle), when pixel and contour metrics are wanted */
  predMask?: Uint8Array;
  gtMask?: Uint8Array;
  width?: number;
  height?: number;
};

export type RegionMetrics = {
  /** share of queries whose matched IoU (SPEC §6.2) is ≥ 0.5 */
  acc50: number;
  /** mean matched IoU */
  meanIoU: number;
  /** share of queries with K = J */
  countAcc: number;
  /** mean mask IoU over queries (1 when both are empty), and Σ inter / Σ union */
  gIoU: number;
  cIoU: number;
  /** contour metrics averaged over queries whose ground-truth mask is not empty */
  f1At1: number;
  f1At3: number;
  asd: number;
  hd: number;
  /** among those, the share whose predicted contour is empty */
  emptyContourRate: number;
  n: number;
};

/** SPEC §6.2 over a list of region queries. Pixel and contour fields are NaN without masks. */
export function regionMetrics(results: readonly RegionResult[]): RegionMetrics {
  let acc = 0,
    sumIoU = 0,
    countOk = 0,
    masks = 0,
    gSum = 0,
    inter = 0,
    union = 0,
    withGt = 0,
    empty = 0;
  const c = { f1At1: 0, f1At3: 0, asd: 0, hd: 0 };
  for (const r of results) {
    // an unreadable answer scores 0 and miscounts, as an unparseable box does in SPEC §6.1
    const m = r.pred === null ? 0 : matchedIoU(r.pred, r.gts);
    sumIoU += m;
    if (m >= 0.5) acc++;
    if (r.pred !== null && r.pred.length === r.gts.length) countOk++;
    if (r.predMask && r.gtMask && r.width && r.height) {
      masks++;
      const o = maskOverlap(r.predMask, r.gtMask);
      gSum += o.union === 0 ? 1 : o.inter / o.union;
      inter += o.inter;
      union += o.union;
      if (r.gtMask.some((v) => v === 1)) {
        withGt++;
        const cm = contourMetrics(r.predMask, r.gtMask, r.width, r.height);
        for (const k of ['f1At1', 'f1At3', 'asd', 'hd'] as const) c[k] += cm[k];
        if (!r.predMask.some((v) => v === 1)) empty++;
      }
    }
  }
  const n = results.length;
  const per = (x: number, d: number) => (d > 0 ? x / d : NaN);
  return {
    acc50: per(acc, n),
    meanIoU: per(sumIoU, n),
    countAcc: per(countOk, n),
    gIoU: per(gSum, masks),
    cIoU: masks > 0 ? (union === 0 ? 1 : inter / union) : NaN,
    f1At1: per(c.f1At1, withGt),
    f1At3: per(c.f1At3, withGt),
    asd: per(c.asd, withGt),
    hd: per(c.hd, withGt),
    emptyContourRate: per(empty, withGt),
    n,
  };
}
