/**
 * Generated mini-world splits kept on disk, so that the stages and evaluations of a suite generate
 * each split once instead of once per process (20 000 training samples take ~20 s to generate and
 * ~1 s to read back). A cache file holds samples [0, count) of one split exactly as `taskSplit`
 * makes them: a JSON header (what it holds, under which generator version and split definition)
 * and every sample without its pixels, then the pixels of all samples back to back.
 *
 *   <runsDir>/_cache/splits/<split>-<count>-g<GENERATOR_VERSION>-<spec hash>.bin
 *
 * Written atomically (two processes that generate the same split at once both write whole files;
 * the last rename wins, and both are the same bytes). A file that does not read back — truncated,
 * another format, another split — is regenerated and replaced; nothing fails because of the cache.
 * `RSG_SPLIT_CACHE=off` turns it off.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashConfig, runsDir, writeFileAtomic } from '../files';
import { DATA_SEED, GENERATOR_VERSION, splitSpec, taskSplit } from './splits';
import type { TaskSample } from './samples';

const FORMAT = 'rsg-split-cache/1';

type Header = {
  format: string;
  split: string;
  count: number;
  generatorVersion: number;
  dataSeed: number;
  specHash: string;
  /** per sample: the sample without `image.rgb`, and how many pixel bytes follow for it */
  samples: { sample: TaskSample; bytes: number }[];
};

export function splitCacheEnabled(): boolean {
  const v = (process.env.RSG_SPLIT_CACHE ?? 'on').toLowerCase();
  if (v === 'on' || v === '1' || v === 'true') return true;
  if (v === 'off' || v === '0' || v === 'false') return false;
  throw new Error(`RSG_SPLIT_CACHE = ${JSON.stringify(process.env.RSG_SPLIT_CACHE)}: must be on or off`);
}

function specHash(split: string): string {
  return hashConfig(splitSpec(split), 10);
}

export function splitCacheFile(split: string, count: number): string {
  return join(runsDir(), '_cache', 'splits', `${split}-${count}-g${GENERATOR_VERSION}-${specHash(split)}.bin`);
}

/** The file's bytes: a 4-byte header length, the header (JSON), the pixels. */
export function encodeSplit(split: string, samples: readonly TaskSample[]): Uint8Array {
  const header: Header = {
    format: FORMAT,
    split,
    count: samples.length,
    generatorVersion: GENERATOR_VERSION,
    dataSeed: DATA_SEED,
    specHash: specHash(split),
    samples: samples.map((s) => {
      const { rgb, ...image } = s.image;
      return { sample: { ...s, image } as TaskSample, bytes: rgb?.length ?? -1 };
    }),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const pixels = samples.reduce((a, s) => a + (s.image.rgb?.length ?? 0), 0);
  const out = new Uint8Array(4 + json.length + pixels);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  let at = 4 + json.length;
  for (const s of samples)
    if (s.image.rgb) {
      out.set(s.image.rgb, at);
      at += s.image.rgb.length;
    }
  return out;
}

/** The samples of a cache file's bytes, or why they are not the ones asked for. */
export function decodeSplit(bytes: Uint8Array, split: string, count: number): TaskSample[] | string {
  if (bytes.length < 4) return 'shorter than its header';
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + len > bytes.length) return 'header cut short';
  let h: Header;
  try {
    h = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 4, len).toString('utf8')) as Header;
  } catch {
    return 'unreadable header';
  }
  const want = { format: FORMAT, split, count, generatorVersion: GENERATOR_VERSION, dataSeed: DATA_SEED };
  for (const [k, v] of Object.entries(want))
    if ((h as Record<string, unknown>)[k] !== v) return `${k} is ${JSON.stringify((h as Record<string, unknown>)[k])}`;
  if (h.specHash !== specHash(split)) return 'made for another definition of the split';
  if (!Array.isArray(h.samples) || h.samples.length !== count) return 'wrong number of samples';
  const pixels = h.samples.reduce((a, s) => a + Math.max(0, s.bytes), 0);
  if (4 + len + pixels !== bytes.length) return `${bytes.length - 4 - len} pixel bytes, expected ${pixels}`;
  // views into the file's bytes (the samples are kept together, so one buffer lives as long as they do)
  let at = bytes.byteOffset + 4 + len;
  return h.samples.map(({ sample, bytes: n }) => {
    if (n >= 0) {
      sample.image.rgb = new Uint8Array(bytes.buffer, at, n);
      at += n;
    }
    return sample;
  });
}

/**
 * Samples [0, count) of a mini-world split: from the cache when it holds them, else generated
 * (`taskSplit`) and written to it. `log` hears when a file had to be replaced.
 */
export function cachedSplit(split: string, count: number, log?: (m: string) => void): TaskSample[] {
  if (!splitCacheEnabled()) return taskSplit(split, { count });
  const file = splitCacheFile(split, count);
  if (existsSync(file)) {
    let got: TaskSample[] | string;
    try {
      got = decodeSplit(readFileSync(file), split, count);
    } catch (e) {
      got = (e as Error).message;
    }
    if (typeof got !== 'string') return got;
    log?.(`${file}: ${got}; generating the split again`);
  }
  const samples = taskSplit(split, { count });
  try {
    writeFileAtomic(file, encodeSplit(split, samples));
  } catch (e) {
    log?.(`could not write the split cache ${file}: ${(e as Error).message}`);
  }
  return samples;
}
