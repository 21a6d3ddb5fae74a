/**
 * The mini world: procedural top-down "aerial" scenes (DESIGN.md, "The mini world").
 *
 * A scene is a terrain background (field patchwork, water, roads, sensor noise) with 2–12
 * objects of DIOR-RSVG-like classes, each a distinct shape, with a colour, size and
 * orientation. Dense clusters of look-alike instances of one class are the norm, so that
 * only position tells them apart. Every object has its pixel mask and the exact box of that
 * mask (SPEC §1: [min x, min y, max x + 1, max y + 1]).
 */
import type { Box } from '../boxes';
import { Rng } from '../rng';

export const OBJECT_CLASSES = [
  'airplane',
  'ship',
  'storage tank',
  'vehicle',
  'tennis court',
  'ground track field',
] as const;
export type ObjectClass = (typeof OBJECT_CLASSES)[number];

export const PLURAL: Record<ObjectClass, string> = {
  airplane: 'airplanes',
  ship: 'ships',
  'storage tank': 'storage tanks',
  vehicle: 'vehicles',
  'tennis court': 'tennis courts',
  'ground track field': 'ground track fields',
};

export const COLORS = {
  white: [236, 236, 230],
  gray: [128, 130, 134],
  red: [200, 44, 40],
  blue: [40, 84, 204],
  black: [28, 28, 34],
  yellow: [232, 200, 40],
  green: [52, 150, 64],
} as const;
export type ColorName = keyof typeof COLORS;

type ClassSpec = {
  colors: ColorName[];
  /** size range in pixels at objectScale 1 (length of the long side for elongated shapes) */
  size: [number, number];
  /** free rotation (airplanes, ships) or 0°/90° only */
  rotate: 'free' | 'right';
};

export const CLASS_SPECS: Record<ObjectClass, ClassSpec> = {
  airplane: { colors: ['white', 'gray'], size: [9, 14], rotate: 'free' },
  ship: { colors: ['white', 'gray', 'red'], size: [7, 12], rotate: 'free' },
  'storage tank': { colors: ['white', 'gray'], size: [5, 10], rotate: 'right' },
  vehicle: { colors: ['red', 'blue', 'white', 'black', 'yellow'], size: [5, 8], rotate: 'right' },
  'tennis court': { colors: ['green', 'blue'], size: [9, 13], rotate: 'right' },
  'ground track field': { colors: ['red', 'blue'], size: [13, 18], rotate: 'right' },
};

export type Palette = {
  name: string;
  fields: [number, number, number][];
  water: [number, number, number];
  road: [number, number, number];
};

export const PALETTES: Record<string, Palette> = {
  temperate: {
    name: 'temperate',
    fields: [
      [92, 124, 62],
      [118, 138, 70],
      [138, 120, 82],
      [104, 98, 68],
      [80, 110, 58],
    ],
    water: [46, 88, 136],
    road: [112, 112, 110],
  },
  arid: {
    name: 'arid',
    fields: [
      [196, 168, 118],
      [206, 180, 130],
      [176, 146, 100],
      [188, 158, 120],
    ],
    water: [72, 140, 150],
    road: [150, 138, 118],
  },
  volcanic: {
    name: 'volcanic',
    fields: [
      [74, 70, 66],
      [90, 82, 74],
      [62, 64, 60],
      [98, 92, 80],
    ],
    water: [38, 72, 98],
    road: [132, 128, 122],
  },
};

export type WorldConfig = {
  /** image width and height in pixels */
  imageSize: number;
  minObjects: number;
  maxObjects: number;
  /** multiplies every class's size range */
  objectScale: number;
  /** terrain palette (a key of PALETTES) */
  palette: string;
  /** probability that the scene's dominant class is placed as a tight cluster */
  clusterProb: number;
  /** range of instances of the scene's dominant class */
  dominantCount: [number, number];
  /** per-pixel Gaussian noise std (0–255 scale) */
  noise: number;
  /** which classes may appear */
  classes: readonly ObjectClass[];
};

/**
 * The RSVG splits' world: 2–8 objects, 1.5× the classes' base sizes, 2–4 look-alikes of the
 * scene's dominant class — calibrated so that supervision and GRPO both have something to learn at
 * the default scale (experiments/CALIBRATION.md); the out-of-domain splits vary it.
 */
export const DEFAULT_WORLD: Readonly<WorldConfig> = Object.freeze({
  imageSize: 64,
  minObjects: 2,
  maxObjects: 8,
  objectScale: 1.5,
  palette: 'temperate',
  clusterProb: 0.5,
  dominantCount: [2, 4] as [number, number],
  noise: 7,
  classes: OBJECT_CLASSES,
});

export function validateWorld(c: WorldConfig): WorldConfig {
  const bad = (field: string, v: unknown, allowed: string) => {
    throw new Error(`world config: ${field} = ${JSON.stringify(v)} is invalid (allowed: ${allowed})`);
  };
  if (!Number.isInteger(c.imageSize) || c.imageSize < 16 || c.imageSize > 4096)
    bad('imageSize', c.imageSize, 'integer in [16, 4096]');
  if (!Number.isInteger(c.minObjects) || c.minObjects < 1) bad('minObjects', c.minObjects, 'integer ≥ 1');
  if (!Number.isInteger(c.maxObjects) || c.maxObjects < c.minObjects)
    bad('maxObjects', c.maxObjects, `integer ≥ minObjects (${c.minObjects})`);
  if (!(c.objectScale > 0)) bad('objectScale', c.objectScale, '> 0');
  if (!(c.palette in PALETTES)) bad('palette', c.palette, Object.keys(PALETTES).join(', '));
  if (!(c.clusterProb >= 0 && c.clusterProb <= 1)) bad('clusterProb', c.clusterProb, '[0, 1]');
  const [d0, d1] = c.dominantCount;
  if (!(Number.isInteger(d0) && Number.isInteger(d1) && d0 >= 1 && d1 >= d0))
    bad('dominantCount', c.dominantCount, '[lo, hi] integers with 1 ≤ lo ≤ hi');
  if (!(c.noise >= 0)) bad('noise', c.noise, '≥ 0');
  for (const k of c.classes) if (!OBJECT_CLASSES.includes(k)) bad('classes', k, OBJECT_CLASSES.join(', '));
  if (c.classes.length === 0) bad('classes', c.classes, 'a non-empty list');
  return c;
}

export type SceneObject = {
  cls: ObjectClass;
  color: ColorName;
  /** exact box of the mask (SPEC §1) */
  box: Box;
  /** orientation in degrees (0 = long side horizontal) */
  angle: number;
  /** mask pixels inside `box`, row-major over the box: (box.x2 − box.x1) × (box.y2 − box.y1) */
  mask: Uint8Array;
  /** number of mask pixels */
  area: number;
};

export type Scene = {
  width: number;
  height: number;
  /** HWC, 0–255 */
  rgb: Uint8Array;
  objects: SceneObject[];
  /** 1 where the terrain is water (ships prefer it) */
  water: Uint8Array;
  palette: string;
};

// ── Shapes: a predicate over local, unrotated coordinates (u along the long side) ─────────

type Shape = { halfW: number; halfH: number; inside: (u: number, v: number) => 0 | 1 | 2 };
// 0 = outside, 1 = body, 2 = detail (drawn darker or white: a tank's rim, a court's line)

function shapeFor(cls: ObjectClass, len: number, rng: Rng): Shape {
  switch (cls) {
    case 'storage tank': {
      const r = len / 2;
      return {
        halfW: r,
        halfH: r,
        inside: (u, v) => {
          const d = Math.hypot(u, v);
          return d <= r ? (d <= r * 0.35 ? 2 : 1) : 0;
        },
      };
    }
    case 'vehicle': {
      const hw = len / 2,
        hh = Math.max(1.2, len * rng.uniform(0.3, 0.42));
      return {
        halfW: hw,
        halfH: hh,
        inside: (u, v) => (Math.abs(u) <= hw && Math.abs(v) <= hh ? (u > hw * 0.35 ? 2 : 1) : 0),
      };
    }
    case 'airplane': {
      const hl = len / 2,
        span = len * 0.45,
        fw = Math.max(1, len * 0.09),
        ww = Math.max(1, len * 0.1);
      return {
        halfW: hl,
        halfH: span,
        inside: (u, v) => {
          if (Math.abs(v) <= fw && Math.abs(u) <= hl) return 1; // fuselage
          const wu = u - hl * 0.05; // wings, swept
          if (Math.abs(wu + Math.abs(v) * 0.35) <= ww && Math.abs(v) <= span) return 1;
          if (Math.abs(u + hl * 0.8) <= ww * 0.8 && Math.abs(v) <= span * 0.4) return 1; // tail
          return 0;
        },
      };
    }
    case 'ship': {
      const hl = len / 2,
        hw = Math.max(1.2, len * rng.uniform(0.15, 0.22));
      return {
        halfW: hl,
        halfH: hw,
        inside: (u, v) => {
          const taper = u > hl * 0.4 ? 1 - (u - hl * 0.4) / (hl * 0.6) : 1; // pointed bow
          return Math.abs(u) <= hl && Math.abs(v) <= hw * taper ? (Math.abs(u + hl * 0.2) < hl * 0.15 ? 2 : 1) : 0;
        },
      };
    }
    case 'tennis court': {
      const hw = len / 2,
        hh = len * rng.uniform(0.3, 0.4);
      return {
        halfW: hw,
        halfH: hh,
        inside: (u, v) => {
          if (Math.abs(u) > hw || Math.abs(v) > hh) return 0;
          return Math.abs(u) < 0.6 || Math.abs(v) >= hh - 0.8 || Math.abs(u) >= hw - 0.8 ? 2 : 1;
        },
      };
    }
    case 'ground track field': {
      const a = len / 2,
        b = len * rng.uniform(0.32, 0.42);
      return {
        halfW: a,
        halfH: b,
        inside: (u, v) => {
          const d = (u / a) ** 2 + (v / b) ** 2;
          if (d > 1) return 0;
          return (u / (a * 0.72)) ** 2 + (v / (b * 0.62)) ** 2 <= 1 ? 2 : 1; // track ring, green infield
        },
      };
    }
  }
}

const DETAIL: Record<ObjectClass, (c: readonly number[]) => [number, number, number]> = {
  'storage tank': (c) => [c[0] * 0.72, c[1] * 0.72, c[2] * 0.72],
  vehicle: (c) => [c[0] * 0.55 + 20, c[1] * 0.55 + 20, c[2] * 0.55 + 30],
  airplane: (c) => [c[0], c[1], c[2]],
  ship: (c) => [c[0] * 0.6, c[1] * 0.6, c[2] * 0.6],
  'tennis court': () => [240, 240, 240],
  'ground track field': () => [60, 150, 66],
};

/** Rasterise a shape at integer offset; returns the exact mask box and the mask over it. */
/** rasterize's pixel list, reused call after call (its result is read before the next call) */
let pixelBuffer = new Int32Array(3 * 1024);

function rasterize(shape: Shape, cx: number, cy: number, angle: number, W: number, H: number) {
  const rad = (angle * Math.PI) / 180,
    cos = Math.cos(rad),
    sin = Math.sin(rad);
  const ext = Math.ceil(Math.hypot(shape.halfW, shape.halfH)) + 1;
  const x0 = Math.max(0, Math.floor(cx - ext)),
    x1 = Math.min(W - 1, Math.ceil(cx + ext));
  const y0 = Math.max(0, Math.floor(cy - ext)),
    y1 = Math.min(H - 1, Math.ceil(cy + ext));
  const need = 3 * (x1 - x0 + 1) * (y1 - y0 + 1);
  if (pixelBuffer.length < need) pixelBuffer = new Int32Array(need);
  const buf = pixelBuffer; // flat (x, y, kind) triples
  let n = 0;
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx,
        dy = y + 0.5 - cy;
      const u = dx * cos + dy * sin,
        v = -dx * sin + dy * cos;
      const k = shape.inside(u, v);
      if (k) {
        buf[n++] = x;
        buf[n++] = y;
        buf[n++] = k;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (n === 0) return null;
  const box: Box = { x1: minX, y1: minY, x2: maxX + 1, y2: maxY + 1 };
  // a view of the shared buffer: valid until the next call
  return { box, pixels: buf.subarray(0, n), count: n / 3 };
}

function boxesClash(a: Box, b: Box, gap: number): boolean {
  return a.x1 < b.x2 + gap && b.x1 < a.x2 + gap && a.y1 < b.y2 + gap && b.y1 < a.y2 + gap;
}

// ── Terrain ────────────────────────────────────────────────────────────────────────────

/** the float canvas of the scene being drawn, reused scene after scene (only the quantised copy is kept) */
let canvas = new Float32Array(0);

function paintTerrain(W: number, H: number, pal: Palette, rng: Rng): { rgb: Float32Array; water: Uint8Array } {
  if (canvas.length !== W * H * 3) canvas = new Float32Array(W * H * 3);
  const rgb = canvas.fill(0);
  const water = new Uint8Array(W * H);
  // Field patchwork: recursive splits into rectangles, each a palette colour with a tint.
  const fill = (x0: number, y0: number, x1: number, y1: number, depth: number) => {
    const w = x1 - x0,
      h = y1 - y0;
    if (depth > 0 && (w > W / 5 || h > H / 5) && rng.bool(0.85)) {
      if (w >= h) {
        const s = x0 + Math.round(w * rng.uniform(0.3, 0.7));
        fill(x0, y0, s, y1, depth - 1);
        fill(s, y0, x1, y1, depth - 1);
      } else {
        const s = y0 + Math.round(h * rng.uniform(0.3, 0.7));
        fill(x0, y0, x1, s, depth - 1);
        fill(x0, s, x1, y1, depth - 1);
      }
      return;
    }
    const base = rng.choice(pal.fields);
    const tint = rng.uniform(-10, 10);
    const stripes = rng.bool(0.4),
      period = rng.int(3, 6),
      amp = rng.uniform(3, 8);
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const s = stripes && (w >= h ? y : x) % period === 0 ? -amp : 0;
        const o = (y * W + x) * 3;
        rgb[o] = base[0] + tint + s;
        rgb[o + 1] = base[1] + tint + s;
        rgb[o + 2] = base[2] + tint + s;
      }
  };
  fill(0, 0, W, H, 4);
  // Water: a meandering river band or a lake, in about half the scenes.
  if (rng.bool(0.5)) {
    const river = rng.bool(0.5);
    const horiz = rng.bool(0.5);
    const c0 = rng.uniform(0.2, 0.8) * (horiz ? H : W),
      width = rng.uniform(0.08, 0.18) * W;
    const freq = (rng.uniform(0.5, 2) * (2 * Math.PI)) / W,
      phase = rng.uniform(0, 6.3),
      amp = rng.uniform(0, 0.08) * W;
    const lx = rng.uniform(0.2, 0.8) * W,
      ly = rng.uniform(0.2, 0.8) * H,
      lr = rng.uniform(0.12, 0.25) * W;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const inWater = river
          ? Math.abs((horiz ? y : x) - (c0 + amp * Math.sin(freq * (horiz ? x : y) + phase))) < width / 2
          : Math.hypot(x - lx, (y - ly) * 1.2) < lr;
        if (inWater) {
          const o = (y * W + x) * 3;
          water[y * W + x] = 1;
          rgb[o] = pal.water[0];
          rgb[o + 1] = pal.water[1];
          rgb[o + 2] = pal.water[2];
        }
      }
  }
  // Roads: 0–2 straight roads, horizontal or vertical, 2 px wide at 64 px.
  const nRoads = rng.int(0, 2);
  const rw = Math.max(1, Math.round(W / 32));
  for (let k = 0; k < nRoads; k++) {
    const horiz = rng.bool(0.5),
      pos = rng.int(0, (horiz ? H : W) - rw);
    for (let t = 0; t < (horiz ? W : H); t++)
      for (let d = 0; d < rw; d++) {
        const x = horiz ? t : pos + d,
          y = horiz ? pos + d : t;
        if (water[y * W + x]) continue;
        const o = (y * W + x) * 3;
        rgb[o] = pal.road[0];
        rgb[o + 1] = pal.road[1];
        rgb[o + 2] = pal.road[2];
      }
  }
  return { rgb, water };
}

const NOISE_TABLE = 1 << 16;
let noiseTable: Float32Array | null = null;
function gaussianTable(): Float32Array {
  if (!noiseTable) {
    const r = new Rng(0x5eed);
    noiseTable = new Float32Array(NOISE_TABLE);
    for (let i = 0; i < NOISE_TABLE; i++) noiseTable[i] = r.normal();
  }
  return noiseTable;
}

// ── Scenes ─────────────────────────────────────────────────────────────────────────────

/** One scene, deterministic in (config, rng state). */
export function generateScene(cfg: WorldConfig, rng: Rng): Scene {
  const W = cfg.imageSize,
    H = cfg.imageSize;
  const scale = (cfg.objectScale * W) / 64;
  const pal = PALETTES[cfg.palette];
  const { rgb, water } = paintTerrain(W, H, pal, rng);

  // Which objects: a dominant class (dense look-alikes), then a few others.
  const total = rng.int(cfg.minObjects, cfg.maxObjects);
  const dominant = rng.choice(cfg.classes);
  const nDom = Math.min(total, rng.int(cfg.dominantCount[0], cfg.dominantCount[1]));
  const classes: ObjectClass[] = Array.from({ length: nDom }, () => dominant);
  while (classes.length < total) classes.push(rng.choice(cfg.classes));
  const domColor = rng.choice(CLASS_SPECS[dominant].colors);

  const clustered = rng.bool(cfg.clusterProb);
  const clusterC = [rng.uniform(0.25, 0.75) * W, rng.uniform(0.25, 0.75) * H];
  let nWater = 0;
  for (let i = 0; i < W * H; i++) nWater += water[i] ? 1 : 0;
  const waterPixels = new Int32Array(nWater);
  for (let i = 0, j = 0; i < W * H; i++) if (water[i]) waterPixels[j++] = i;

  const objects: SceneObject[] = [];
  const gap = Math.max(1, Math.round(W / 64));
  for (const [k, cls] of classes.entries()) {
    const spec = CLASS_SPECS[cls];
    // Look-alikes: most dominant-class instances share one colour.
    const color = cls === dominant && k < nDom && rng.bool(0.7) ? domColor : rng.choice(spec.colors);
    const len = rng.uniform(spec.size[0], spec.size[1]) * scale;
    const shape = shapeFor(cls, len, rng);
    const angle = spec.rotate === 'free' ? rng.uniform(0, 180) : rng.bool(0.5) ? 0 : 90;
    for (let attempt = 0; attempt < 40; attempt++) {
      let cx: number, cy: number;
      if (cls === 'ship' && waterPixels.length > 0 && rng.bool(0.85)) {
        const p = rng.choice(waterPixels);
        cx = (p % W) + 0.5;
        cy = Math.floor(p / W) + 0.5;
      } else if (clustered && cls === dominant && k < nDom) {
        cx = clusterC[0] + rng.normal() * W * 0.14;
        cy = clusterC[1] + rng.normal() * H * 0.14;
      } else {
        cx = rng.uniform(0, W);
        cy = rng.uniform(0, H);
      }
      // Keep whole objects only (no cut at the border) and no overlaps. The border test first: it
      // needs no pixels, and rasterising is pure, so skipping it for a rejected spot changes nothing.
      const ext = Math.ceil(Math.hypot(shape.halfW, shape.halfH));
      if (cx - ext < 0 || cy - ext < 0 || cx + ext > W || cy + ext > H) continue;
      const r = rasterize(shape, cx, cy, angle, W, H);
      if (!r) continue;
      const { box } = r;
      if (objects.some((o) => boxesClash(o.box, box, gap))) continue;
      const bw = box.x2 - box.x1,
        bh = box.y2 - box.y1;
      const mask = new Uint8Array(bw * bh);
      const col = COLORS[color],
        det = DETAIL[cls](col);
      for (let p = 0; p < r.pixels.length; p += 3) {
        const x = r.pixels[p],
          y = r.pixels[p + 1];
        mask[(y - box.y1) * bw + (x - box.x1)] = 1;
        const c = r.pixels[p + 2] === 2 ? det : col;
        const o = (y * W + x) * 3;
        rgb[o] = c[0];
        rgb[o + 1] = c[1];
        rgb[o + 2] = c[2];
      }
      objects.push({ cls, color, box, angle: Math.round(angle), mask, area: r.count });
      break;
    }
  }
  // Sensor noise from a fixed table of standard normals, read at a random offset with a
  // random odd stride (a permutation of the table): as random as needed, 20× cheaper than
  // Box–Muller per pixel. Then quantise.
  const out = new Uint8Array(W * H * 3);
  const table = gaussianTable();
  let idx = rng.int(0, NOISE_TABLE - 1);
  const stride = (rng.int(0, NOISE_TABLE / 2 - 1) * 2 + 1) & (NOISE_TABLE - 1);
  for (let i = 0; i < out.length; i++) {
    const v = rgb[i] + cfg.noise * table[idx];
    idx = (idx + stride) & (NOISE_TABLE - 1);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  }
  return { width: W, height: H, rgb: out, objects, water, palette: pal.name };
}

/** A full-image mask (W × H, row-major) of one object. */
export function fullMask(o: SceneObject, width: number, height: number): Uint8Array {
  const m = new Uint8Array(width * height);
  const bw = o.box.x2 - o.box.x1;
  for (let y = o.box.y1; y < o.box.y2; y++)
    for (let x = o.box.x1; x < o.box.x2; x++) {
      m[y * width + x] = o.mask[(y - o.box.y1) * bw + (x - o.box.x1)];
    }
  return m;
}

/** Run-length encoding of a 0/1 mask (alternating counts, starting with zeros), for JSONL. */
export function maskToRle(mask: Uint8Array): number[] {
  const counts: number[] = [];
  let cur = 0,
    run = 0;
  for (const v of mask) {
    if (v !== cur) {
      counts.push(run);
      run = 0;
      cur = v;
    }
    run++;
  }
  counts.push(run);
  return counts;
}

export function rleToMask(counts: readonly number[], length: number): Uint8Array {
  const m = new Uint8Array(length);
  let p = 0,
    v = 0;
  for (const c of counts) {
    if (v) m.fill(1, p, p + c);
    p += c;
    v ^= 1;
  }
  if (p !== length) throw new Error(`rleToMask: counts sum to ${p}, expected ${length}`);
  return m;
}
