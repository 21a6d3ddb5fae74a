/**
 * Mini-world splits on disk: `<dataDir>/<split>/{samples.jsonl, images/*.png, manifest.json}`.
 * Written into a temp folder and swapped in at the end, so an interrupted run never leaves a
 * half-written split (and never destroys the previous one). The manifest records the config,
 * the seed, the counts and a content hash over the annotations and the raw pixels, so two
 * materialisations can be compared byte for byte.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng, decodeImage } from './images';
import {
  dataDir,
  readJson,
  readJsonl,
  sha256,
  swapDirectory,
  writeJsonAtomic,
  writeFileAtomic,
  stableStringify,
} from '../files';
import { DATA_SEED, GENERATOR_VERSION, type SplitSpec, sampleAt, splitSpec, worldOf } from './splits';
import type { GroundingSample, TaskSample } from './samples';

export type AnySample = TaskSample;

export type Manifest = {
  split: string;
  task: SplitSpec['task'];
  generatorVersion: number;
  dataSeed: number;
  count: number;
  world: ReturnType<typeof worldOf>;
  cueWeights: SplitSpec['cueWeights'];
  /** sha256 over every JSONL line and every image's raw RGB bytes, in order */
  contentHash: string;
  description: string;
};

/** JSON for one sample: the image by relative path, no pixel bytes. */
function toRecord(s: AnySample): Record<string, unknown> {
  return { ...s, image: { width: s.image.width, height: s.image.height, path: `images/${s.id}.png` } };
}

/**
 * Generate `count` samples of a split and write them under `root/<split>`. Calls
 * `onProgress(done, total)` as it goes. Returns the manifest.
 */
export async function materializeSplit(
  split: string,
  opts: { count?: number; root?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<Manifest> {
  const spec = splitSpec(split);
  const count = opts.count ?? spec.size;
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`materializeSplit: count must be a positive integer, got ${count}`);
  const root = opts.root ?? dataDir();
  const dest = join(root, split);
  const tmp = join(root, `.${split}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'images'), { recursive: true });
  try {
    const lines: string[] = [];
    const hashParts: (string | Uint8Array)[] = [];
    for (let i = 0; i < count; i++) {
      const s = sampleAt(spec, i);
      const line = stableStringify(toRecord(s));
      lines.push(line);
      hashParts.push(line, s.image.rgb!);
      writeFileSync(join(tmp, 'images', `${s.id}.png`), await encodePng(s.image.rgb!, s.image.width, s.image.height));
      opts.onProgress?.(i + 1, count);
    }
    writeFileSync(join(tmp, 'samples.jsonl'), lines.join('\n') + '\n');
    const manifest: Manifest = {
      split,
      task: spec.task,
      generatorVersion: GENERATOR_VERSION,
      dataSeed: DATA_SEED,
      count,
      world: worldOf(spec),
      cueWeights: spec.cueWeights,
      contentHash: sha256(...hashParts),
      description: spec.description,
    };
    writeJsonAtomic(join(tmp, 'manifest.json'), manifest);
    swapDirectory(tmp, dest);
    return manifest;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Read a materialised split (or any folder in the same layout). Images are decoded when
 * `decode` is set, else left as paths. Errors name the file and the line.
 */
export async function loadSplitFromDisk<T extends AnySample = GroundingSample>(
  dir: string,
  opts: { decode?: boolean } = {},
): Promise<{ manifest: Manifest; samples: T[] }> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath} not found (run \`npm run data -- <split>\` first)`);
  const manifest = readJson<Manifest>(manifestPath);
  const samples = readJsonl<T>(join(dir, 'samples.jsonl'));
  if (samples.length !== manifest.count) {
    throw new Error(`${dir}: samples.jsonl has ${samples.length} samples, manifest.json says ${manifest.count}`);
  }
  for (const s of samples) {
    s.image.path = join(dir, s.image.path!);
    if (opts.decode) {
      const d = await decodeImage(s.image.path);
      s.image.rgb = d.rgb;
    }
  }
  return { manifest, samples };
}

/** Write the statistics of a split next to it (used by the data command). */
export function writeSplitStats(dir: string, stats: unknown): void {
  writeFileAtomic(join(dir, 'stats.json'), JSON.stringify(stats, null, 2) + '\n');
}
