/**
 * The policy: a small vision-language transformer in TensorFlow.js that reads an image and a
 * query and writes `<think> … </think> <answer> [ x1 , y1 , x2 , y2 ] </answer>`.
 *
 *   image ─ patches ─ linear ─┐                                   (+ 2-D position codes)
 *                             ├─ encoder (bidirectional) ─ memory [B, S, d]
 *   query ─ embed ────────────┘                                     │ cross-attention
 *   completion ─ embed ─ decoder (causal self-attn, cross-attn, MLP) ─ logits (tied embedding)
 *
 * Design notes (chosen by measurement, see bench/ and the closing notes):
 * - Only ops whose gradients exist on every backend, wasm included: token lookup is `ops.embed`
 *   (one-hot × matrix in the composite ops, as wasm has no gather gradient; a gather on blas),
 *   images are patchified in JS (no conv).
 * - Coordinates are single tokens (Pix2Seq). Their embeddings start as the same sinusoidal code
 *   of the pixel value that marks each patch's position, so "where" can be copied straight into
 *   "which coordinate"; all embeddings are trainable.
 * - Weights are initialised from the project's seeded RNG in JS, so a seed gives the same
 *   initial model on every backend.
 * - The decoder for G rollouts of one query attends to that query's memory without tiling it:
 *   rollouts are folded into the query axis of cross-attention ([B, G·T, d]).
 * - Every operation whose fast form depends on the backend (layer norm, GELU, attention,
 *   matMul) comes from the `ops` the backend chose (lib/model/ops.ts); this file never asks
 *   which backend runs. The decoder is written once: `decode` serves training (whole sequences)
 *   and tfjs inference (`TfjsDecoder`, a few tokens at a time with a KV cache); the blas backend
 *   has a dispatch-free twin for inference (lib/native/decoder.ts).
 */
import type { Lora } from './lora';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { num, validate, z } from '../config';
import type { Decoder, LayerWeights, Ops } from './ops';

export type PolicyConfig = {
  imageSize: number;
  /** side of a square image patch, in pixels */
  patchSize: number;
  /** hidden width of the per-patch MLP stem (0 = a single linear projection) */
  stemHidden: number;
  /** width of the residual stream */
  dModel: number;
  nHeads: number;
  nEncLayers: number;
  nDecLayers: number;
  /** MLP hidden width = ffnMult · dModel */
  ffnMult: number;
  maxQueryLen: number;
  maxCompletionLen: number;
  /**
   * Cross-attention also reports the attention-weighted position code of what it looks at,
   * gated per axis (x / y) from the decoder state, straight into the residual stream.
   */
  positionReadout: boolean;
  vocabSize: number;
  /** id of the token "0"; coordinate k is token coordBase + k (k ≤ maxCoord) */
  coordBase: number;
  maxCoord: number;
};

export const DEFAULT_POLICY: Readonly<Omit<PolicyConfig, 'vocabSize' | 'coordBase' | 'maxCoord'>> = Object.freeze({
  imageSize: 64,
  patchSize: 8,
  stemHidden: 192,
  dModel: 96,
  nHeads: 4,
  nEncLayers: 2,
  nDecLayers: 2,
  ffnMult: 3,
  maxQueryLen: 16,
  maxCompletionLen: 64,
  positionReadout: true,
});

/** The architecture: everything of PolicyConfig but what the tokenizer decides. */
export type PolicyArch = Omit<PolicyConfig, 'vocabSize' | 'coordBase' | 'maxCoord'>;

export const ARCH_SCHEMA = z
  .strictObject({
    imageSize: num.int(8),
    patchSize: num.int(1),
    stemHidden: num.int(0),
    dModel: num.int(4),
    nHeads: num.int(1),
    nEncLayers: num.int(0),
    nDecLayers: num.int(1),
    ffnMult: num.int(1),
    maxQueryLen: num.int(1),
    maxCompletionLen: num.int(1),
    positionReadout: z.boolean({ error: 'must be true or false' }),
  })
  .refine((c) => c.imageSize % c.patchSize === 0, { path: ['patchSize'], message: 'must divide imageSize' })
  .refine((c) => c.dModel % c.nHeads === 0, { path: ['nHeads'], message: 'must divide dModel' })
  .refine((c) => c.dModel % 4 === 0, {
    path: ['dModel'],
    message: 'must be a multiple of 4 (2-D sinusoidal codes)',
  }) satisfies z.ZodType<PolicyArch>;

/** The architecture with every field present (defaults applied), validated. */
export function resolveArch(arch: Partial<PolicyArch>, where = 'arch'): PolicyArch {
  return validate(ARCH_SCHEMA, { ...DEFAULT_POLICY, ...arch }, where);
}

export function validatePolicy(c: PolicyConfig): PolicyConfig {
  const { vocabSize, coordBase, maxCoord, ...arch } = c;
  validate(ARCH_SCHEMA, arch, 'policy config');
  if (!Number.isInteger(vocabSize) || vocabSize < 1)
    throw new Error(`policy config: vocabSize = ${vocabSize}: must be an integer ≥ 1`);
  if (!(maxCoord >= c.imageSize))
    throw new Error(
      `policy config: maxCoord = ${maxCoord}: must be ≥ imageSize = ${c.imageSize} (one token per pixel coordinate)`,
    );
  void coordBase;
  return c;
}

export type Params = Map<string, tf.Variable>;

// ── Initialisation ───────────────────────────────────────────────────────────────────────

/**
 * Sinusoidal code of a scalar position `p` in `dim` dims: dim/2 wavelengths spaced
 * geometrically from 4·span down to 3 pixels (none finer, or integer pixels would alias).
 */
function sinusoid(p: number, dim: number, span: number): Float32Array {
  const out = new Float32Array(dim);
  const n = dim / 2,
    hi = 4 * span,
    lo = 3;
  for (let i = 0; i < n; i++) {
    const wavelength = hi * Math.pow(lo / hi, n === 1 ? 0 : i / (n - 1));
    const f = (2 * Math.PI) / wavelength;
    out[2 * i] = Math.sin(p * f);
    out[2 * i + 1] = Math.cos(p * f);
  }
  return out;
}

/**
 * 2-D code of a pixel position (x in the first half of the dims, y in the second); each half has norm 1/2, the whole
 * 1/√2.
 */
export function positionCode(x: number, y: number, d: number, span: number): Float32Array {
  const h = d / 2,
    scale = 1 / Math.sqrt(d);
  const out = new Float32Array(d);
  out.set(
    sinusoid(x, h, span).map((v) => v * scale),
    0,
  );
  out.set(
    sinusoid(y, h, span).map((v) => v * scale),
    h,
  );
  return out;
}

let instanceCounter = 0;

/** A variable that takes over `init` (tf.variable keeps its initial tensor alive otherwise). */
export function ownedVariable(init: tf.Tensor, trainable: boolean, name?: string): tf.Variable {
  const v = tf.variable(init, trainable, name);
  init.dispose();
  return v;
}
/** coordinate codes in the token embedding: entries ~0.02, like the random ones (keeps initial logits small) */
const CODE_SCALE = 0.02 * Math.sqrt(DEFAULT_POLICY.dModel);

export function initPolicy(cfg: PolicyConfig, seed: number): Params {
  validatePolicy(cfg);
  const rng = new Rng(seed);
  const { dModel: d, vocabSize: V, patchSize: p } = cfg;
  const params: Params = new Map();
  const normal = (shape: number[], std: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
    return a;
  };
  const prefix = `policy${instanceCounter++}/`; // engine-wide variable names must be unique
  const add = (name: string, shape: number[], values: Float32Array) =>
    params.set(name, ownedVariable(tf.tensor(values, shape), true, prefix + name));
  const dense = (name: string, din: number, dout: number, std = 0.02) => {
    add(`${name}.w`, [din, dout], normal([din, dout], std));
    add(`${name}.b`, [dout], new Float32Array(dout));
  };
  const ln = (name: string) => {
    add(`${name}.g`, [d], new Float32Array(d).fill(1));
    add(`${name}.b`, [d], new Float32Array(d));
  };
  const residStd = 0.02 / Math.sqrt(2 * (cfg.nEncLayers + cfg.nDecLayers));

  // Token embeddings: words random; coordinate k starts at the code of pixel k (x half and y half).
  const emb = normal([V, d], 0.02);
  for (let k = 0; k <= cfg.maxCoord && cfg.coordBase + k < V; k++) {
    const code = positionCode(k, k, d, cfg.imageSize);
    for (let j = 0; j < d; j++) emb[(cfg.coordBase + k) * d + j] += code[j] * CODE_SCALE;
  }
  add('tok_emb', [V, d], emb);
  add('query_pos', [cfg.maxQueryLen, d], normal([cfg.maxQueryLen, d], 0.02));
  add('dec_pos', [cfg.maxCompletionLen + 1, d], normal([cfg.maxCompletionLen + 1, d], 0.02));
  add('type_emb', [2, d], normal([2, d], 0.02)); // 0 = image patch, 1 = query token
  if (cfg.stemHidden > 0) {
    dense('stem', p * p * 3, cfg.stemHidden, Math.sqrt(2 / (p * p * 3)));
    dense('patch', cfg.stemHidden, d, 0.02);
  } else {
    dense('patch', p * p * 3, d, 0.02);
  }
  // Patch positions: the code of the patch centre in pixels (fixed part) + a learned offset.
  const nP = (cfg.imageSize / p) ** 2;
  const g = cfg.imageSize / p;
  const ppos = new Float32Array(nP * d);
  for (let r = 0; r < g; r++)
    for (let c = 0; c < g; c++) ppos.set(positionCode((c + 0.5) * p, (r + 0.5) * p, d, cfg.imageSize), (r * g + c) * d);
  add('patch_pos', [nP, d], ppos);

  const block = (name: string, cross: boolean) => {
    ln(`${name}.ln1`);
    dense(`${name}.qkv`, d, 3 * d);
    dense(`${name}.attn_out`, d, d, residStd);
    if (cross) {
      ln(`${name}.lnx`);
      dense(`${name}.xq`, d, d);
      dense(`${name}.xkv`, d, 2 * d);
      dense(`${name}.x_out`, d, d, residStd);
      if (cfg.positionReadout) dense(`${name}.x_gate`, d, 2);
    }
    ln(`${name}.ln2`);
    dense(`${name}.fc1`, d, cfg.ffnMult * d);
    dense(`${name}.fc2`, cfg.ffnMult * d, d, residStd);
  };
  for (let i = 0; i < cfg.nEncLayers; i++) block(`enc${i}`, false);
  ln('enc_ln');
  for (let i = 0; i < cfg.nDecLayers; i++) block(`dec${i}`, true);
  ln('dec_ln');
  return params;
}

export function countParameters(params: Params): number {
  let n = 0;
  for (const v of params.values()) n += v.size;
  return n;
}

export function disposeParams(params: Params): void {
  for (const v of params.values()) v.dispose();
  params.clear();
}

/** A frozen copy (the reference model for the KL term). */
export function cloneParams(params: Params, trainable = false): Params {
  const out: Params = new Map();
  const prefix = `policy${instanceCounter++}/`;
  for (const [k, v] of params) out.set(k, ownedVariable(v.clone(), trainable, prefix + k));
  return out;
}

// ── Building blocks ──────────────────────────────────────────────────────────────────────

/**
 * A network to run: its weights, its shape, the operations of the backend it runs on, and low-rank
 * adapters on its linear layers when it has them (lora.ts).
 */
export type Net = { params: Params; cfg: PolicyConfig; ops: Ops; lora?: Lora | null };

function P(params: Params, name: string): tf.Variable {
  const v = params.get(name);
  if (!v) throw new Error(`policy: missing parameter ${name}`);
  return v;
}

/** x [..., din]·w + b over the last axis, then GELU when asked, then + res (the shape of the output) when given. */
function linear(net: Net, name: string, x: tf.Tensor, gelu = false, res?: tf.Tensor): tf.Tensor {
  const w = P(net.params, `${name}.w`),
    b = P(net.params, `${name}.b`);
  const shape = x.shape as number[];
  const N = w.shape[1] as number;
  const x2 = x.reshape([-1, shape[shape.length - 1]]);
  const a = net.lora?.adapters.get(`${name}.lora_a`);
  let y: tf.Tensor;
  if (a) {
    // LoRA: + (α/r)·(x·A)·B, W frozen
    const up = net.ops.matMul(net.ops.matMul(x2, a), net.lora!.adapters.get(`${name}.lora_b`)!);
    y = tf.add(tf.add(net.ops.matMul(x2, w), b), tf.mul(up, net.lora!.scale));
    if (gelu) y = net.ops.gelu(y);
    if (res) y = tf.add(res.reshape([-1, N]), y);
  } else y = net.ops.linear(x2, w, b, gelu, res?.reshape([-1, N]));
  return y.reshape([...shape.slice(0, -1), N]);
}

/** the layer norms' ε */
const LN_EPS = 1e-5;

function layerNorm(net: Net, name: string, x: tf.Tensor): tf.Tensor {
  return net.ops.layerNorm(x, P(net.params, `${name}.g`), P(net.params, `${name}.b`), LN_EPS);
}

/** x + the feed-forward block of x (the residual added inside the last linear layer). */
function mlpResidual(net: Net, name: string, x: tf.Tensor): tf.Tensor {
  return linear(net, `${name}.fc2`, linear(net, `${name}.fc1`, layerNorm(net, `${name}.ln2`, x), true), false, x);
}

/** The weights of layer `n` by role, for `Ops.layer`. */
function layerWeights(net: Net, n: string, cross: boolean): LayerWeights {
  const pair = (s: string, first = 'w') => [P(net.params, `${n}.${s}.${first}`), P(net.params, `${n}.${s}.b`)] as const;
  const w: LayerWeights = {
    ln1: pair('ln1', 'g'),
    qkv: pair('qkv'),
    attnOut: pair('attn_out'),
    ln2: pair('ln2', 'g'),
    fc1: pair('fc1'),
    fc2: pair('fc2'),
  };
  if (cross)
    w.cross = {
      ln: pair('lnx', 'g'),
      q: pair('xq'),
      ...(net.cfg.positionReadout ? { gate: pair('x_gate') } : {}),
      out: pair('x_out'),
    };
  return w;
}

/** Token embeddings: ids [N] → [N, d]. */
function embedTokens(net: Net, ids: tf.Tensor1D): tf.Tensor {
  return net.ops.embed(ids, P(net.params, 'tok_emb'));
}

// ── Inputs ───────────────────────────────────────────────────────────────────────────────

export type EncoderInput = {
  /** [B, nPatches, patchDim] normalised pixels */
  patches: tf.Tensor3D;
  /** [B, maxQueryLen] token ids (pad = 0) */
  queryIds: tf.Tensor2D;
  /** [B, S] additive key mask: 0 for real tokens, −1e9 for query padding */
  keyMask: tf.Tensor2D;
};

/** Normalised patches [nPatches, p·p·3] of one HWC RGB image (JS side, no tensors). */
export function patchify(rgb: Uint8Array, size: number, p: number, out?: Float32Array, offset = 0): Float32Array {
  const g = size / p,
    dim = p * p * 3;
  const a = out ?? new Float32Array(g * g * dim);
  for (let r = 0; r < g; r++)
    for (let c = 0; c < g; c++) {
      let o = offset + (r * g + c) * dim;
      for (let y = 0; y < p; y++)
        for (let x = 0; x < p; x++) {
          const src = ((r * p + y) * size + (c * p + x)) * 3;
          a[o++] = (rgb[src] / 255 - 0.5) * 4;
          a[o++] = (rgb[src + 1] / 255 - 0.5) * 4;
          a[o++] = (rgb[src + 2] / 255 - 0.5) * 4;
        }
    }
  return a;
}

/** Tensors for B (image, query) pairs. Queries longer than maxQueryLen are cut (and reported by the caller). */
export function encoderInput(cfg: PolicyConfig, images: Uint8Array[], queryIds: number[][]): EncoderInput {
  const B = images.length,
    p = cfg.patchSize,
    nP = (cfg.imageSize / p) ** 2,
    dim = p * p * 3,
    L = cfg.maxQueryLen;
  const patches = new Float32Array(B * nP * dim);
  images.forEach((im, b) => {
    if (im.length !== cfg.imageSize * cfg.imageSize * 3)
      throw new Error(`encoderInput: image ${b} has ${im.length} bytes, expected ${cfg.imageSize}×${cfg.imageSize}×3`);
    patchify(im, cfg.imageSize, p, patches, b * nP * dim);
  });
  const ids = new Int32Array(B * L);
  const mask = new Float32Array(B * (nP + L));
  queryIds.forEach((q, b) => {
    for (let t = 0; t < L; t++) {
      ids[b * L + t] = t < q.length ? q[t] : 0;
      if (t >= q.length) mask[b * (nP + L) + nP + t] = -1e9;
    }
  });
  return {
    patches: tf.tensor3d(patches, [B, nP, dim]),
    queryIds: tf.tensor2d(ids, [B, L], 'int32'),
    keyMask: tf.tensor2d(mask, [B, nP + L]),
  };
}

export function disposeEncoderInput(e: EncoderInput): void {
  e.patches.dispose();
  e.queryIds.dispose();
  e.keyMask.dispose();
}

// ── Encoder ──────────────────────────────────────────────────────────────────────────────

/** memory [B, S, d], S = nPatches + maxQueryLen */
export function encode(net: Net, inp: EncoderInput): tf.Tensor3D {
  const { cfg, params } = net;
  const B = inp.patches.shape[0];
  const L = cfg.maxQueryLen,
    d = cfg.dModel;
  const type = P(params, 'type_emb');
  const pix = cfg.stemHidden > 0 ? linear(net, 'stem', inp.patches, true) : inp.patches; // per-patch MLP stem
  // [B, nP, d]
  const img = tf.add(tf.add(linear(net, 'patch', pix), P(params, 'patch_pos')), type.slice([0, 0], [1, d]));
  const q = embedTokens(net, inp.queryIds.reshape([-1]) as tf.Tensor1D).reshape([B, L, d]);
  const qry = tf.add(tf.add(q, P(params, 'query_pos')), type.slice([1, 0], [1, d])); // [B, L, d]
  let x = tf.concat([img, qry], 1); // [B, S, d]
  for (let i = 0; i < cfg.nEncLayers; i++) {
    const n = `enc${i}`;
    if (net.ops.layer && !net.lora) {
      x = net.ops.layer(x, layerWeights(net, n, false), {
        heads: cfg.nHeads,
        eps: LN_EPS,
        causal: false,
        mask: inp.keyMask,
      });
      continue;
    }
    const qkv = linear(net, `${n}.qkv`, layerNorm(net, `${n}.ln1`, x)); // [B, S, 3d]
    x = linear(net, `${n}.attn_out`, net.ops.selfAttention(qkv, inp.keyMask, cfg.nHeads, false), false, x);
    x = mlpResidual(net, n, x);
  }
  return layerNorm(net, 'enc_ln', x) as tf.Tensor3D;
}

/**
 * Cross-attention keys and values per decoder layer, computed once per query: k, v [B, S, d];
 * pos [S, d], the memory's position codes (shared by every layer), when the readout is on.
 */
export type CrossKV = { k: tf.Tensor; v: tf.Tensor; pos: tf.Tensor | null }[];

const memoryCodes = new Map<string, Float32Array>();

/**
 * Position codes of the memory tokens [S, d]: patch centres; zeros for query tokens. Every forward
 * pass asks for them, so they are made once per shape; the array is shared: read it, do not write.
 */
export function memoryPositionCodes(cfg: PolicyConfig): Float32Array {
  const p = cfg.patchSize,
    g = cfg.imageSize / p,
    d = cfg.dModel;
  const key = `${p} ${cfg.imageSize} ${d} ${cfg.maxQueryLen}`;
  const cached = memoryCodes.get(key);
  if (cached) return cached;
  const out = new Float32Array((g * g + cfg.maxQueryLen) * d);
  for (let r = 0; r < g; r++)
    for (let c = 0; c < g; c++) out.set(positionCode((c + 0.5) * p, (r + 0.5) * p, d, cfg.imageSize), (r * g + c) * d);
  memoryCodes.set(key, out);
  return out;
}

export function crossKV(net: Net, memory: tf.Tensor3D): CrossKV {
  const { cfg } = net;
  const S = memory.shape[1];
  const pos = cfg.positionReadout ? tf.tensor2d(memoryPositionCodes(cfg), [S, cfg.dModel]) : null;
  return Array.from({ length: cfg.nDecLayers }, (_, i) => {
    const [k, v] = tf.split(linear(net, `dec${i}.xkv`, memory), 2, -1);
    return { k, v, pos };
  });
}

/** Dispose a CrossKV built outside a tidy (its position codes are shared by the layers). */
export function disposeCrossKV(kv: CrossKV): void {
  for (const x of kv) {
    x.k.dispose();
    x.v.dispose();
  }
  kv[0]?.pos?.dispose();
}

// ── Decoder ──────────────────────────────────────────────────────────────────────────────

/** Cross-attention for N = B·G rows: fold the G rollouts of each query into the query axis. */
function crossAttend(
  net: Net,
  name: string,
  x: tf.Tensor,
  kv: CrossKV[number],
  keyMask: tf.Tensor,
  G: number,
): tf.Tensor {
  const [N, T, d] = x.shape;
  const B = N / G;
  const xn = layerNorm(net, `${name}.lnx`, x);
  const q = linear(net, `${name}.xq`, xn).reshape([B, G * T, d]);
  const both = net.ops
    .attention(q, kv.k, kv.v, keyMask, kv.pos, net.cfg.nHeads, false)
    .reshape([N, T, kv.pos ? 2 * d : d]);
  if (!kv.pos) return linear(net, `${name}.x_out`, both);
  // Position readout: where the heads look (a position code, averaged over heads), its x half
  // and y half gated from the decoder state, straight into the residual stream.
  const gate = tf.sigmoid(linear(net, `${name}.x_gate`, xn)); // [N, T, 2]
  if (!net.lora?.adapters.has(`${name}.x_out.lora_a`)) {
    const out = net.ops.gatedReadout(
      both.reshape([N * T, 2 * d]),
      gate.reshape([N * T, 2]),
      P(net.params, `${name}.x_out.w`),
      P(net.params, `${name}.x_out.b`),
    );
    return out.reshape([N, T, d]);
  }
  const [ctx, where] = tf.split(both, 2, -1);
  const [gx, gy] = tf.split(gate, 2, -1);
  const [wx, wy] = tf.split(where, 2, -1);
  return tf.add(linear(net, `${name}.x_out`, ctx), tf.concat([tf.mul(wx, gx), tf.mul(wy, gy)], -1));
}

/** Per-layer self-attention cache for incremental decoding: k, v [N, t, d]. */
export type KVCache = { k: tf.Tensor | null; v: tf.Tensor | null }[];

/**
 * The decoder: logits [N, L, V] for input tokens [N, L] at positions t0 … t0 + L − 1
 * (N = B·G, rollouts of query b at rows b·G … b·G + G − 1), attending causally to themselves
 * and, with a cache, to the positions fed before (the cache is extended in place; its old
 * tensors are disposed, the new ones kept). Training calls it on whole sequences (t0 = 0, no
 * cache); `TfjsDecoder` calls it a token at a time.
 */
export function decode(
  net: Net,
  inputIds: tf.Tensor2D,
  kv: CrossKV,
  keyMask: tf.Tensor2D,
  G: number,
  t0 = 0,
  cache?: KVCache,
): tf.Tensor3D {
  const { cfg, params, ops } = net;
  const [N, L] = inputIds.shape;
  const d = cfg.dModel,
    h = cfg.nHeads;
  const pos = P(params, 'dec_pos').slice([t0, 0], [L, d]);
  let x = tf.add(embedTokens(net, inputIds.reshape([-1]) as tf.Tensor1D).reshape([N, L, d]), pos); // [N, L, d]
  for (let i = 0; i < cfg.nDecLayers; i++) {
    const n = `dec${i}`;
    if (ops.layer && !net.lora && !cache) {
      const cross = { k: kv[i].k, v: kv[i].v, mask: keyMask, pos: kv[i].pos, G };
      x = ops.layer(x, layerWeights(net, n, true), { heads: h, eps: LN_EPS, causal: true, mask: null, cross });
      continue;
    }
    const qkv = linear(net, `${n}.qkv`, layerNorm(net, `${n}.ln1`, x)); // [N, L, 3d]
    const c = cache?.[i];
    let att: tf.Tensor;
    if (c) {
      let [q, k, v] = tf.split(qkv, 3, -1); // [N, L, d]
      if (c.k && c.v) {
        k = tf.concat([c.k, k], 1);
        v = tf.concat([c.v, v], 1);
      }
      c.k?.dispose();
      c.v?.dispose();
      c.k = tf.keep(k);
      c.v = tf.keep(v);
      att = ops.attention(q, k, v, null, null, h, true);
    } else att = ops.selfAttention(qkv, null, h, true); // training: whole sequences
    x = linear(net, `${n}.attn_out`, att, false, x);
    x = tf.add(x, crossAttend(net, n, x, kv[i], keyMask, G));
    x = mlpResidual(net, n, x);
  }
  const y = layerNorm(net, 'dec_ln', x).reshape([N * L, d]); // tied head
  return ops.matMul(y, P(params, 'tok_emb'), false, true).reshape([N, L, cfg.vocabSize]) as tf.Tensor3D;
}

/** log π(target) per position: logits [N, T, V], targets [N, T] → [N, T], with the backend's ops. */
export function tokenLogProbs(ops: Ops, logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  return ops.tokenLogProbs(logits, targets) as tf.Tensor2D;
}

/**
 * Inference with tfjs ops (every backend but blas): the encoder and the cross-attention keys
 * and values once per batch, then `decode` a few tokens at a time with a KV cache.
 */
export class TfjsDecoder implements Decoder {
  private readonly kv: CrossKV;
  private readonly cache: KVCache;

  constructor(
    private readonly net: Net,
    private readonly enc: EncoderInput,
    private readonly G: number,
    _Tmax: number,
  ) {
    let kv: CrossKV = [];
    tf.tidy(() => {
      kv = crossKV(net, encode(net, enc));
      for (const x of kv) {
        tf.keep(x.k);
        tf.keep(x.v);
        if (x.pos) tf.keep(x.pos);
      }
    });
    this.kv = kv;
    this.cache = Array.from({ length: net.cfg.nDecLayers }, () => ({ k: null, v: null }));
  }

  logProbs(ids: Int32Array, t0: number, L: number): Float32Array {
    const N = ids.length / L;
    const lp = tf.tidy(() => {
      const logits = decode(
        this.net,
        tf.tensor2d(ids, [N, L], 'int32'),
        this.kv,
        this.enc.keyMask,
        this.G,
        t0,
        this.cache,
      );
      return tf.logSoftmax(logits.reshape([N * L, -1]));
    });
    const data = lp.dataSync() as Float32Array;
    lp.dispose();
    return data;
  }

  dispose(): void {
    for (const c of this.cache) {
      c.k?.dispose();
      c.v?.dispose();
    }
    disposeCrossKV(this.kv);
  }
}
