/**
 * Box coordinate conventions, and the letterbox that fits a real image into the policy's square
 * input. Every metric is computed in the original image's pixels (SPEC §1); these functions map
 * a model's output there.
 *
 * - `pixels`: absolute pixels of the original image.
 * - `normalized-1000`: [0, 1000] per axis (Qwen2-VL, many RSVG models).
 * - `normalized-1`: [0, 1] per axis (VRSBench's annotations).
 * - `qwen25vl-resized`: absolute pixels of the image Qwen2.5-VL actually saw, resized by its
 *   processor's `smart_resize` (sides rounded to multiples of 28, total pixels within
 *   [min_pixels, max_pixels]) — or of an explicitly given model input size.
 */
import type { Box } from '../boxes';

export const BOX_CONVENTIONS = ['pixels', 'normalized-1000', 'normalized-1', 'qwen25vl-resized'] as const;
export type BoxConvention = (typeof BOX_CONVENTIONS)[number];

/** Qwen2.5-VL's processor defaults (transformers' Qwen2VLImageProcessor: 56·56 and 28·28·1280). */
export const QWEN_MIN_PIXELS = 56 * 56;
export const QWEN_MAX_PIXELS = 28 * 28 * 1280;

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Qwen2-VL / Qwen2.5-VL `smart_resize`: the (height, width) the processor resizes an image to,
 * as transformers computes it (each side a multiple of `factor`, pixels within the bounds).
 */
export function smartResize(
  height: number,
  width: number,
  o: { factor?: number; minPixels?: number; maxPixels?: number } = {},
): { height: number; width: number } {
  const factor = o.factor ?? 28,
    minPixels = o.minPixels ?? QWEN_MIN_PIXELS,
    maxPixels = o.maxPixels ?? QWEN_MAX_PIXELS;
  if (Math.max(height, width) / Math.min(height, width) > 200) {
    throw new Error(`smartResize: aspect ratio of ${width}×${height} exceeds 200`);
  }
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.floor(height / beta / factor) * factor;
    w = Math.floor(width / beta / factor) * factor;
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return { height: h, width: w };
}

export type ConventionOptions = {
  /** the model's input size, for `qwen25vl-resized` (otherwise smart_resize computes it) */
  modelSize?: { width: number; height: number };
  minPixels?: number;
  maxPixels?: number;
};

/** A box written in `convention` for an image of `image` size, in that image's pixels. */
export function toImagePixels(
  b: Box,
  convention: BoxConvention,
  image: { width: number; height: number },
  o: ConventionOptions = {},
): Box {
  let sx = 1,
    sy = 1;
  switch (convention) {
    case 'pixels':
      break;
    case 'normalized-1000':
      sx = image.width / 1000;
      sy = image.height / 1000;
      break;
    case 'normalized-1':
      sx = image.width;
      sy = image.height;
      break;
    case 'qwen25vl-resized': {
      const m = o.modelSize ?? smartResize(image.height, image.width, o);
      sx = image.width / m.width;
      sy = image.height / m.height;
      break;
    }
  }
  return { x1: b.x1 * sx, y1: b.y1 * sy, x2: b.x2 * sx, y2: b.y2 * sy };
}

/** A box in image pixels written in `convention` (the inverse of toImagePixels). */
export function fromImagePixels(
  b: Box,
  convention: BoxConvention,
  image: { width: number; height: number },
  o: ConventionOptions = {},
): Box {
  const unit = toImagePixels({ x1: 1, y1: 1, x2: 1, y2: 1 }, convention, image, o);
  return { x1: b.x1 / unit.x1, y1: b.y1 / unit.y1, x2: b.x2 / unit.x2, y2: b.y2 / unit.y2 };
}

/**
 * How an image of width × height sits in a size × size square: scaled uniformly to fit (sides
 * rounded to whole pixels, so sx and sy differ by that rounding), centred at a whole-pixel offset.
 */
export type Letterbox = { sx: number; sy: number; dx: number; dy: number; size: number; width: number; height: number };

export function letterbox(width: number, height: number, size: number): Letterbox {
  const scale = size / Math.max(width, height);
  const w = Math.max(1, Math.round(width * scale)),
    h = Math.max(1, Math.round(height * scale));
  return {
    sx: w / width,
    sy: h / height,
    dx: Math.floor((size - w) / 2),
    dy: Math.floor((size - h) / 2),
    size,
    width,
    height,
  };
}

/** Original pixels → letterboxed pixels. */
export function toLetterbox(b: Box, l: Letterbox): Box {
  return { x1: b.x1 * l.sx + l.dx, y1: b.y1 * l.sy + l.dy, x2: b.x2 * l.sx + l.dx, y2: b.y2 * l.sy + l.dy };
}

/** Letterboxed pixels → original pixels (clipped to the image). */
export function fromLetterbox(b: Box, l: Letterbox): Box {
  const cx = (x: number) => Math.min(l.width, Math.max(0, (x - l.dx) / l.sx));
  const cy = (y: number) => Math.min(l.height, Math.max(0, (y - l.dy) / l.sy));
  return { x1: cx(b.x1), y1: cy(b.y1), x2: cx(b.x2), y2: cy(b.y2) };
}
