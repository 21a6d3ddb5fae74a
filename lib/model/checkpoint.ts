/**
 * Checkpoints: everything needed to resume a run exactly — weights, optimizer moments and step,
 * RNG states, the tokenizer and the config. Tensors are stored as safetensors (the Hugging Face
 * format: 8-byte little-endian header length, a JSON header, then raw little-endian data), so
 * other tools can read the weights.
 *
 * Nothing half-written or damaged is ever trained on:
 * - a checkpoint is written into a temp folder, with `checksums.json` (sha256 of every file)
 *   written last, then swapped in; the one it replaces is kept as `<dir>.prev`, so there are
 *   always two;
 * - `goodCheckpoint` verifies the checksums of the newest one and falls back to `.prev` (with
 *   a warning naming the damaged file) when it does not verify; with neither good, resuming
 *   fails with a clear error instead of starting from damaged weights;
 * - decoding checks the safetensors header and every tensor's offsets against the file.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Params } from './network';
import type { AdamW } from './optimizer';
import type { Tokenizer } from './tokenizer';
import { readJson, sha256, writeJsonAtomic } from '../files';

/** Encode named Float32 tensors as a safetensors buffer. */
export function encodeSafetensors(
  tensors: { name: string; shape: number[]; data: Float32Array }[],
  metadata: Record<string, string> = {},
): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data start to 8 bytes
  const hbuf = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + hbuf.length + offset);
  out.writeBigUInt64LE(BigInt(hbuf.length), 0);
  hbuf.copy(out, 8);
  let p = 8 + hbuf.length;
  for (const t of tensors) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, p);
    p += t.data.byteLength;
  }
  return out;
}

/** Decode a safetensors buffer (F32 only). Errors name the file. */
export function decodeSafetensors(
  buf: Buffer,
  file = 'safetensors',
): Map<string, { shape: number[]; data: Float32Array }> {
  if (buf.length < 8) throw new Error(`${file}: too short to be safetensors (${buf.length} bytes)`);
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw new Error(`${file}: header length ${n} exceeds the file (${buf.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch (e) {
    throw new Error(`${file}: damaged safetensors header (${(e as Error).message})`);
  }
  const base = 8 + n;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (h?.dtype !== 'F32') throw new Error(`${file}: tensor ${name} has dtype ${h?.dtype}; only F32 is supported`);
    const [b, e] = Array.isArray(h.data_offsets) ? h.data_offsets : [NaN, NaN];
    const count = Array.isArray(h.shape) ? h.shape.reduce((x, y) => x * y, 1) : NaN;
    const fits = Number.isInteger(b) && Number.isInteger(e) && 0 <= b && b <= e && base + e <= buf.length;
    if (!fits || e - b !== 4 * count) {
      throw new Error(
        `${file}: tensor ${name} has data offsets [${b}, ${e}] that do not fit its shape [${h.shape}] ` +
          `and the ${buf.length}-byte file`,
      );
    }
    const copy = new Float32Array((e - b) / 4);
    new Uint8Array(copy.buffer).set(buf.subarray(base + b, base + e));
    out.set(name, { shape: h.shape, data: copy });
  }
  return out;
}

export type CheckpointState = {
  /** optimizer steps taken */
  step: number;
  /** anything JSON the trainer needs to resume (RNG states, data order, …) */
  extra: Record<string, unknown>;
};

function paramTensors(params: Params, prefix = '') {
  return [...params].map(([name, v]) => ({
    name: prefix + name,
    shape: v.shape as number[],
    data: v.dataSync() as Float32Array,
  }));
}

/** The files a checkpoint needs (optimizer.safetensors only where it was saved). */
const REQUIRED = ['model.safetensors', 'state.json', 'config.json', 'tokenizer.json'];

/**
 * Save params (+ optimizer, state, tokenizer, config) to `dir`: a temp folder, `checksums.json`
 * last, then swapped in; the checkpoint it replaces becomes `<dir>.prev`.
 */
export function saveCheckpoint(
  dir: string,
  x: { params: Params; optimizer?: AdamW; state: CheckpointState; tokenizer: Tokenizer; config: unknown },
): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const files: Record<string, string> = {};
    const put = (name: string, data: string | Buffer) => {
      writeFileSync(join(tmp, name), data);
      files[name] = sha256(typeof data === 'string' ? Buffer.from(data) : data);
    };
    put('model.safetensors', encodeSafetensors(paramTensors(x.params), { format: 'rsground-lab' }));
    if (x.optimizer) {
      const opt = [...paramTensors(x.optimizer.m, 'm.'), ...paramTensors(x.optimizer.v, 'v.')];
      put('optimizer.safetensors', encodeSafetensors(opt, { step: String(x.optimizer.step) }));
    }
    x.tokenizer.save(tmp);
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) files[f] = sha256(readFileSync(join(tmp, f)));
    put('config.json', JSON.stringify(x.config, null, 2) + '\n');
    put('state.json', JSON.stringify({ ...x.state, optimizerStep: x.optimizer?.step ?? null }, null, 2) + '\n');
    writeJsonAtomic(join(tmp, 'checksums.json'), { sha256: files });
    // Rotate: the current checkpoint becomes .prev (the old .prev goes), then the new one moves in.
    const prev = `${dir}.prev`;
    if (existsSync(dir)) {
      rmSync(prev, { recursive: true, force: true });
      renameSync(dir, prev);
    }
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Whether anything that looks like a checkpoint is at `dir` (or its previous copy). */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'state.json')) || existsSync(join(`${dir}.prev`, 'state.json'));
}

/** What is wrong with the checkpoint at `dir` (a file and its problem), or null when it verifies. */
export function checkpointProblem(dir: string): string | null {
  const sums = join(dir, 'checksums.json');
  if (!existsSync(dir)) return `${dir} does not exist`;
  if (!existsSync(sums)) return `${sums} is missing (the checkpoint was never completed)`;
  let listed: Record<string, string>;
  try {
    listed = readJson<{ sha256?: Record<string, string> }>(sums).sha256 ?? {};
  } catch (e) {
    return (e as Error).message;
  }
  for (const f of REQUIRED) if (!(f in listed)) return `${sums} does not list ${f}`;
  for (const [f, want] of Object.entries(listed)) {
    const p = join(dir, f);
    if (!existsSync(p)) return `${p} is missing`;
    if (sha256(readFileSync(p)) !== want) return `${p} does not match its checksum (damaged or truncated)`;
  }
  return null;
}

/**
 * The newest checkpoint at `dir` that verifies: `dir` itself, else `<dir>.prev` (each damaged one
 * reported through `warn`, naming the file). Null when neither exists; an error when some exist
 * but none verifies.
 */
export function goodCheckpoint(dir: string, warn: (msg: string) => void = (m) => console.error(m)): string | null {
  const problems: string[] = [];
  for (const d of [dir, `${dir}.prev`]) {
    if (!existsSync(d)) continue;
    const p = checkpointProblem(d);
    if (!p) {
      if (problems.length) warn(`checkpoint: ${problems.join('; ')} — falling back to ${d}`);
      return d;
    }
    problems.push(p);
  }
  if (problems.length) {
    throw new Error(`no usable checkpoint: ${problems.join('; ')}. Delete ${dir}* to train this stage from scratch`);
  }
  return null;
}

/** Load weights into existing params (shapes must match). */
export function loadWeightsInto(dir: string, params: Params): void {
  const file = join(dir, 'model.safetensors');
  const ts = decodeSafetensors(readFileSync(file), file);
  for (const [name, v] of params) {
    const t = ts.get(name);
    if (!t) throw new Error(`${file}: missing tensor ${name}`);
    if (t.shape.join() !== (v.shape as number[]).join())
      throw new Error(`${file}: ${name} has shape [${t.shape}], the model expects [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
  }
}

/** Load optimizer moments and step; returns the saved trainer state. */
export function loadCheckpointState(dir: string, optimizer?: AdamW): CheckpointState {
  const state = readJson<CheckpointState & { optimizerStep: number | null }>(join(dir, 'state.json'));
  if (optimizer) {
    const file = join(dir, 'optimizer.safetensors');
    const ts = decodeSafetensors(readFileSync(file), file);
    for (const [prefix, map] of [
      ['m.', optimizer.m],
      ['v.', optimizer.v],
    ] as const) {
      for (const [name, v] of map) {
        const t = ts.get(prefix + name);
        if (!t) throw new Error(`${file}: missing tensor ${prefix + name}`);
        tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
      }
    }
    optimizer.step = state.optimizerStep ?? 0;
  }
  return state;
}
