/**
 * Real images into the policy's square input: each image is letterboxed (scaled uniformly to fit,
 * centred on black), its box mapped into the square, and the original frame kept on the sample,
 * so evaluation maps a prediction back and scores it in the original pixels (SPEC §6).
 * Samples are also given SFT targets like the mini world's (`meta.cot`): answer-only (`short`) and
 * an RSGround-style trace built from what the annotation says (`rsground`: the class and where its
 * box lies). A Geo-CoT trace lists every candidate object, which the benchmarks do not annotate
 * for every query, so real samples carry none.
 */
import sharp from 'sharp';
import { formatBox, isValidBox, type Box } from '../boxes';
import { completion } from './cot';
import { regionOf, regionPhrase } from './referring';
import { letterbox, toLetterbox } from './conventions';
import { imageRgb } from './images';
import type { GroundingSample } from './samples';
import { worldWords } from '../model/tokenizer';

const WORDS = new Set(worldWords());

/** The answer-only target of a real sample: "find the <class> ." (or "the target" for a word the policy lacks). */
export function shortTarget(category: string, gt: Box): string {
  const cls = WORDS.has(category) ? category : 'target';
  return completion(`find the ${cls} .`, formatBox(gt));
}

/** The RSGround-style trace of a real sample: its class (when the policy knows the word) and its box's region. */
export function rsgroundTarget(category: string, gt: Box, size: number): string {
  const cls = WORDS.has(category) ? category : 'target';
  const at = regionPhrase(regionOf((gt.x1 + gt.x2) / 2, (gt.y1 + gt.y2) / 2, size));
  return completion(`the ${cls} is ${at} . so the target is ${at} .`, formatBox(gt));
}

/** Integer box inside the square (what the answer tokens can say), at least one pixel wide. */
function snap(b: Box, size: number): Box {
  const c = (v: number) => Math.min(size, Math.max(0, Math.round(v)));
  const x1 = Math.min(c(b.x1), size - 1),
    y1 = Math.min(c(b.y1), size - 1);
  return { x1, y1, x2: Math.max(x1 + 1, c(b.x2)), y2: Math.max(y1 + 1, c(b.y2)) };
}

/** One sample fitted to a size × size input (decodes its image; the bytes are not kept at full size). */
export async function fitSample(s: GroundingSample, size: number): Promise<GroundingSample> {
  if (s.original) throw new Error(`fitSample: sample ${s.id} is fitted already`);
  if (!isValidBox(s.gt)) throw new Error(`sample ${s.id}: its box ${JSON.stringify(s.gt)} is invalid`);
  const l = letterbox(s.image.width, s.image.height, size);
  const rgb = await imageRgb({ ...s.image }); // a copy: the original's lazily decoded bytes stay unset
  const w = Math.round(l.sx * s.image.width),
    h = Math.round(l.sy * s.image.height);
  const fitted = await sharp(rgb, { raw: { width: s.image.width, height: s.image.height, channels: 3 } })
    .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
    .extend({
      left: l.dx,
      top: l.dy,
      right: size - w - l.dx,
      bottom: size - h - l.dy,
      background: { r: 0, g: 0, b: 0 },
    })
    .raw()
    .toBuffer();
  const gt = snap(toLetterbox(s.gt, l), size);
  return {
    ...s,
    image: { width: size, height: size, rgb: new Uint8Array(fitted.buffer, fitted.byteOffset, fitted.length) },
    gt,
    meta: { ...s.meta, cot: { short: shortTarget(s.category, gt), rsground: rsgroundTarget(s.category, gt, size) } },
    original: { width: s.image.width, height: s.image.height, gt: s.gt, letterbox: l },
  };
}

/** Every sample fitted, in order (progress through `onProgress`). */
export async function fitToPolicy(
  samples: readonly GroundingSample[],
  size: number,
  onProgress?: (done: number, total: number) => void,
): Promise<GroundingSample[]> {
  const out: GroundingSample[] = [];
  for (const s of samples) {
    out.push(await fitSample(s, size));
    onProgress?.(out.length, samples.length);
  }
  return out;
}
