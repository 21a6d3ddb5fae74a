/**
 * The mini world as a benchmark for real VLMs: every grounding split written as images + JSONL in
 * the conversation formats VLM-R1 (`{id, image, conversations}`) and ShareGPT-style fine-tuning
 * (`{messages, images}`, e.g. LLaMA-Factory for Qwen2.5-VL) read, at a chosen image size. The
 * answer is `<answer>[x1, y1, x2, y2]</answer>` in the exported image's pixels; each record also
 * carries `solution` (the box), `query` and `image_size`, so `loadExported` (and `npm run score
 * -- --dataset exported`) can read it back.
 *
 * Images are upscaled with nearest-neighbour sampling by an integer factor, so object edges stay
 * on pixel boundaries and the scaled boxes stay exact.
 */
import { mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { formatBox, isValidBox, type Box } from '../boxes';
import { GENERATOR_VERSION, groundingSample, splitSpec } from './splits';
import type { GroundingSample } from './samples';
import { swapDirectory, writeJsonAtomic, readJson } from '../files';

export const EXPORT_FORMATS = ['vlm-r1', 'sharegpt'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The question asked for every sample (in the style of VLM-R1's REC prompt). */
export function groundingPrompt(query: string): string {
  return (
    `Please provide the bounding box coordinate of the region this sentence describes: ${query}. ` +
    'First output the thinking process in <think> </think> tags, then the box [x1, y1, x2, y2] in pixels of ' +
    'this image in <answer> </answer> tags.'
  );
}

function record(
  format: ExportFormat,
  s: GroundingSample,
  image: string,
  box: Box,
  size: number,
): Record<string, unknown> {
  const prompt = `<image>${groundingPrompt(s.query)}`;
  const answer = `<answer>${formatBox(box)}</answer>`;
  const solution = [box.x1, box.y1, box.x2, box.y2];
  const extra = {
    query: s.query,
    solution,
    image_size: [size, size],
    category: s.category,
    cue: s.meta?.cueFamily ?? null,
  };
  if (format === 'vlm-r1') {
    return {
      id: s.id,
      image,
      conversations: [
        { from: 'human', value: prompt },
        { from: 'gpt', value: answer },
      ],
      ...extra,
    };
  }
  return {
    id: s.id,
    images: [image],
    messages: [
      { role: 'user', content: prompt },
      { role: 'assistant', content: answer },
    ],
    ...extra,
  };
}

/**
 * Write `count` samples of a grounding split under `root` as `<split>.jsonl` + `images/`, upscaled
 * to `size` (a multiple of the world's image size). Written into a temp folder and swapped in.
 */
export async function exportSplit(
  split: string,
  o: {
    root: string;
    format: ExportFormat;
    size: number;
    count?: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<{ file: string; count: number }> {
  const spec = splitSpec(split);
  if (spec.task !== 'grounding')
    throw new Error(`export: split ${split} holds ${spec.task} samples; only grounding splits export`);
  const count = o.count ?? spec.size;
  mkdirSync(o.root, { recursive: true });
  const tmp = join(o.root, `.${split}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'images'), { recursive: true });
  try {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const s = groundingSample(split, i, spec);
      const k = o.size / s.image.width;
      if (!Number.isInteger(k) || k < 1)
        throw new Error(`export: --size ${o.size} must be a multiple of the world's ${s.image.width} px images`);
      const png = await sharp(s.image.rgb!, { raw: { width: s.image.width, height: s.image.height, channels: 3 } })
        .resize(o.size, o.size, { kernel: 'nearest' })
        .png({ compressionLevel: 9, adaptiveFiltering: false })
        .toBuffer();
      const image = `images/${split}/${s.id}.png`;
      writeFileSync(join(tmp, 'images', `${s.id}.png`), png);
      const box = { x1: s.gt.x1 * k, y1: s.gt.y1 * k, x2: s.gt.x2 * k, y2: s.gt.y2 * k };
      lines.push(JSON.stringify(record(o.format, s, image, box, o.size)));
      o.onProgress?.(i + 1, count);
    }
    writeFileSync(join(tmp, `${split}.jsonl`), lines.join('\n') + '\n');
    mkdirSync(join(o.root, 'images'), { recursive: true });
    swapDirectory(join(tmp, 'images'), join(o.root, 'images', split));
    // The JSONL last: a reader never sees records whose images are not there yet.
    const file = join(o.root, `${split}.jsonl`);
    swapDirectory(join(tmp, `${split}.jsonl`), file);
    rmSync(tmp, { recursive: true, force: true });
    const manifestPath = join(o.root, 'manifest.json');
    const manifest = existsSync(manifestPath)
      ? readJson<{ splits: Record<string, number> }>(manifestPath)
      : { splits: {} };
    writeJsonAtomic(manifestPath, {
      format: o.format,
      size: o.size,
      generatorVersion: GENERATOR_VERSION,
      prompt: groundingPrompt('<query>'),
      splits: { ...manifest.splits, [split]: count },
    });
    return { file, count };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Read an exported split back as grounding samples (either format). Errors name the file and line. */
export function loadExported(root: string, split: string): GroundingSample[] {
  const file = join(root, `${split}.jsonl`);
  if (!existsSync(file)) throw new Error(`exported dataset: ${file} not found (run \`npm run data -- export\` first)`);
  const out: GroundingSample[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      if (!raw.trim()) return;
      const where = `${file}:${i + 1}`;
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(raw);
      } catch (e) {
        throw new Error(`${where}: not a JSON record (${(e as Error).message})`);
      }
      const image = typeof r.image === 'string' ? r.image : Array.isArray(r.images) ? r.images[0] : undefined;
      const sol = r.solution as number[] | undefined;
      const size = r.image_size as number[] | undefined;
      if (typeof r.id !== 'string' || typeof image !== 'string' || typeof r.query !== 'string')
        throw new Error(`${where}: needs id, image and query`);
      if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v > 0))
        throw new Error(`${where}: image_size must be [width, height]`);
      const gt = Array.isArray(sol) && sol.length === 4 ? { x1: sol[0], y1: sol[1], x2: sol[2], y2: sol[3] } : null;
      if (!isValidBox(gt) || gt.x2 > size[0] || gt.y2 > size[1] || gt.x1 < 0 || gt.y1 < 0)
        throw new Error(`${where}: solution ${JSON.stringify(sol)} is not a box inside the image`);
      out.push({
        id: r.id,
        image: { width: size[0], height: size[1], path: join(root, image) },
        query: r.query,
        gt,
        category: String(r.category ?? 'unknown'),
        unique: false,
        meta: { source: 'exported', cueFamily: r.cue ?? undefined },
      });
    });
  if (!out.length) throw new Error(`${file}: holds no records`);
  return out;
}
