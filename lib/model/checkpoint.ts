/**
 * Checkpoints: everything needed to resume a run exactly — weights, optimizer moments and step,
 * RNG states, the tokenizer and the config. Tensors are stored as safetensors (the Hugging Face
 * format: 8-byte little-endian header length, a JSON header, then raw little-endian data), so
 * other tools can read the weights. A checkpoint directory is written into a temp folder and
 * swapped in, so a crash mid-save never corrupts the last good checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Params } from './network';
import type { AdamW } from './optimizer';
import type { Tokenizer } from './tokenizer';
import { readJson, swapDirectory, writeJsonAtomic } from '../files';

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
  if (buf.length < 8) throw new Error(`${file}: too short to be safetensors`);
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw new Error(`${file}: header length ${n} exceeds the file`);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + n;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (h.dtype !== 'F32') throw new Error(`${file}: tensor ${name} has dtype ${h.dtype}; only F32 is supported`);
    const [b, e] = h.data_offsets;
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

/** Save params (+ optimizer, state, tokenizer, config) to `dir` atomically. */
export function saveCheckpoint(
  dir: string,
  x: { params: Params; optimizer?: AdamW; state: CheckpointState; tokenizer: Tokenizer; config: unknown },
): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    writeFileSync(
      join(tmp, 'model.safetensors'),
      encodeSafetensors(paramTensors(x.params), { format: 'rsground-lab' }),
    );
    if (x.optimizer) {
      const opt = [...paramTensors(x.optimizer.m, 'm.'), ...paramTensors(x.optimizer.v, 'v.')];
      writeFileSync(join(tmp, 'optimizer.safetensors'), encodeSafetensors(opt, { step: String(x.optimizer.step) }));
    }
    x.tokenizer.save(tmp);
    writeJsonAtomic(join(tmp, 'config.json'), x.config);
    writeJsonAtomic(join(tmp, 'state.json'), { ...x.state, optimizerStep: x.optimizer?.step ?? null });
    swapDirectory(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'state.json')) && existsSync(join(dir, 'model.safetensors'));
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
