/**
 * Inference without per-op dispatch: the policy's decoder (lib/policy.ts) written over
 * Float32Arrays, with every matrix product on OpenBLAS (the `blas` backend's addon).
 *
 * Why: sampling decodes one token at a time, and each decoded token is ~270 tiny tfjs kernels
 * whose dispatch cost (engine bookkeeping, not arithmetic) was most of a GRPO step's sampling
 * time (bench/profile.ts). Here a decoded token is one call into the addon, which runs every
 * layer in C++ (and, with several threads, splits the rows between them). It serves the two
 * passes that need no gradient: sampling (`generate`, one token per row per step, with a KV
 * cache) and the frozen reference model's log-probs (all positions at once). The encoder runs
 * here too, once per batch, as addon calls from JS. Training's forward+backward stays on tfjs.
 *
 * Same maths as lib/model/network.ts, in the same order of operations where it matters; results
 * agree with the tfjs path to float rounding (test/native/decoder.test.ts). The blas ops
 * (lib/native/ops.ts) hand it out as their `decoder`; every other backend uses `TfjsDecoder`.
 */
import { linearLayers } from '../model/lora';
import * as tf from '@tensorflow/tfjs';
import { type Native, loadNative } from './addon';
import { type EncoderInput, type Net, type PolicyConfig, memoryPositionCodes } from '../model/network';
import type { Decoder } from '../model/ops';

const LN_EPS = 1e-5;

/**
 * Host copies of weights, keyed by the tensor data they were read from, so that a frozen model — the
 * reference policy of GRPO, a checkpoint under evaluation — is read from the backend once, not once
 * per batch; entries go when the data is disposed. `assign` gives a variable new data; the one
 * writer in place, AdamW on blas (`adamwOnHeap`), calls `forgetHostCopy` for every tensor it writes.
 */
const hostCopies = new WeakMap<object, Float32Array>();
function hostCopy(t: tf.Tensor): Float32Array {
  const key = t.dataId as object;
  let v = hostCopies.get(key);
  if (!v) hostCopies.set(key, (v = t.dataSync() as Float32Array));
  return v;
}
/** Drop the host copy of `t`'s data: it is about to change in place. */
export function forgetHostCopy(t: tf.Tensor): void {
  hostCopies.delete(t.dataId as object);
}

/**
 * The intermediate activations of `step`, by purpose, grown when a step needs more and shared by
 * every decoder: `step` is synchronous, writes every element it reads, and returns only its own
 * logits, so no buffer outlives the call that filled it. A full-sequence pass (the reference model)
 * otherwise allocates ~30 MB of short-lived arrays per layer, and the allocation, page faults and
 * garbage collection cost about as much as its arithmetic. The buffers keep their peak size for the
 * life of the process (~30 MB at the default GRPO shapes; more after a longer full-sequence pass).
 */
const scratch = new Map<string, Float32Array>();
function scratchBuffer(key: string, n: number): Float32Array {
  let b = scratch.get(key);
  if (!b || b.length < n) scratch.set(key, (b = new Float32Array(n)));
  return b.length === n ? b : b.subarray(0, n);
}

/**
 * A float32 tensor's values in the scratch buffer `key`, copied straight from the wasm heap where
 * the blas backend keeps them: `dataSync` would hand back a new array, and at the 393 kB of a
 * default batch's image patches its allocation and page faults measured ~1.4 ms per call, ~50×
 * the copy. Other backends' tensors are read with `dataSync`.
 */
function readScratch(t: tf.Tensor, key: string): Float32Array {
  const out = scratchBuffer(key, t.size);
  const b = tf.backend() as unknown as {
    wasm?: { HEAPU8: Uint8Array };
    dataIdMap?: { get(id: unknown): { memoryOffset: number } | undefined };
  };
  const at = t.dtype === 'float32' && b.wasm ? b.dataIdMap?.get(t.dataId) : undefined;
  out.set(at ? new Float32Array(b.wasm!.HEAPU8.buffer, at.memoryOffset, t.size) : (t.dataSync() as Float32Array));
  return out;
}

/**
 * Attention caches of disposed decoders, by length, for the next decoder of the same shape: a GRPO
 * step builds two decoders (sampling, reference) with ~6 MB of self-attention caches and ~1 MB of
 * cross-attention keys and values at the default shapes, and allocating them anew each time costs
 * page faults and garbage collection (the four cross-attention arrays alone measured ~2.5 ms of a
 * decoder's ~7.5 ms construction on the Zen 5). A cache is never read before it is written
 * (position t's keys are written by the step that feeds t; the cross-attention arrays are filled
 * whole when the decoder is built; every step writes all of its output), so reused buffers need no
 * clearing. At most eight buffers are kept per length (two decoders' worth at the default depth).
 */
const cachePool = new Map<number, Float32Array[]>();
function cacheBuffer(n: number): Float32Array {
  return cachePool.get(n)?.pop() ?? new Float32Array(n);
}
function releaseCache(c: Float32Array): void {
  const free = cachePool.get(c.length) ?? [];
  if (free.length < 8 && !free.includes(c)) free.push(c);
  cachePool.set(c.length, free);
}

/**
 * A policy's decoder over N = B·G rows for one batch of encoded queries. Feed tokens with
 * `step` (ids of L new positions per row, starting at position t0); it returns logits and
 * extends the self-attention cache.
 */
export class FastDecoder implements Decoder {
  private readonly w = new Map<string, Float32Array>();
  private readonly nat: Native;
  readonly N: number;
  private readonly B: number;
  private readonly S: number;
  private readonly dh: number;
  /** cross-attention keys/values per layer [B, h, S, dh] */
  private readonly xk: Float32Array[] = [];
  private readonly xv: Float32Array[] = [];
  /** position codes of the memory tokens [S, d] */
  private readonly pos: Float32Array;
  /** additive key mask [B, S] */
  private readonly keyMask: Float32Array;
  /** self-attention cache per layer [N, h, Tmax, dh] */
  private readonly ck: Float32Array[] = [];
  private readonly cv: Float32Array[] = [];

  private readonly cfg: PolicyConfig;
  /** the rows the decoder still computes (original row indices, ascending); see `retain` */
  private live: Int32Array;

  constructor(
    net: Net,
    enc: EncoderInput,
    private readonly G: number,
    private readonly Tmax: number,
  ) {
    const native = loadNative();
    if (!native) throw new Error('FastDecoder needs the OpenBLAS addon (npm run build:native)');
    this.nat = native;
    const cfg = (this.cfg = net.cfg);
    for (const [name, v] of net.params) this.w.set(name, hostCopy(v));
    // LoRA: the decoder reads plain weight matrices, so it gets W + (α/r)·A·B (no gradient flows here)
    const lora = net.lora;
    if (lora)
      for (const layer of linearLayers(net.params)) {
        const a = lora.adapters.get(`${layer}.lora_a`),
          b = lora.adapters.get(`${layer}.lora_b`);
        if (!a || !b) continue;
        const merged = tf.tidy(() => tf.add(net.params.get(`${layer}.w`)!, tf.mul(tf.matMul(a, b), lora.scale)));
        this.w.set(`${layer}.w`, merged.dataSync() as Float32Array);
        merged.dispose();
      }
    const { dModel: d, nHeads: h } = cfg;
    this.B = enc.patches.shape[0];
    this.N = this.B * G;
    this.dh = d / h;
    this.S = enc.keyMask.shape[1];
    this.keyMask = enc.keyMask.dataSync() as Float32Array;
    // The memory, then each layer's cross-attention keys and values [B·S, 2d] (as crossKV) → [B, h, S, dh]
    const memory = this.encode(enc);
    for (let li = 0; li < cfg.nDecLayers; li++) {
      const kv = this.linear(`dec${li}.xkv`, memory, this.B * this.S, 'enc.xkv');
      this.xk.push(this.splitHeads(kv, 0, 2 * d));
      this.xv.push(this.splitHeads(kv, d, 2 * d));
    }
    this.pos = memoryPositionCodes(cfg);
    for (let i = 0; i < cfg.nDecLayers; i++) {
      this.ck.push(cacheBuffer(this.N * h * Tmax * this.dh));
      this.cv.push(cacheBuffer(this.N * h * Tmax * this.dh));
    }
    this.live = Int32Array.from({ length: this.N }, (_, n) => n);
  }

  /** the original indices of the rows `step` computes, in the order it expects them */
  get rows(): Int32Array {
    return this.live;
  }

  /**
   * Stop computing every row not in `keep` (original row indices, ascending, a subset of `rows`):
   * their cache entries are dropped and the kept rows' moved up, so later steps take
   * `keep.length · L` ids. Rows never interact, so every kept row computes what it computed before,
   * except that sgemm may round a row's last bit differently in a smaller batch (another edge
   * kernel): sampling draws the same tokens, with less work once rows have finished.
   */
  retain(keep: Int32Array): void {
    const { live } = this;
    const block = this.cfg.nHeads * this.Tmax * this.dh;
    let j = 0;
    for (let i = 0; i < keep.length; i++) {
      while (j < live.length && live[j] < keep[i]) j++;
      if (j === live.length || live[j] !== keep[i] || (i > 0 && keep[i] <= keep[i - 1]))
        throw new Error(`FastDecoder.retain: row ${keep[i]} is not a live row (keep must be an ascending subset)`);
      if (j !== i) for (const c of [...this.ck, ...this.cv]) c.copyWithin(i * block, j * block, (j + 1) * block);
    }
    this.live = Int32Array.from(keep);
  }

  /**
   * columns [c0, c0 + h·dh) of x [B, S, stride] → [B, h, S, dh]: into the scratch buffer `into`, or
   * else a pooled buffer that `dispose` hands back (every element is written here)
   */
  private splitHeads(x: Float32Array, c0: number, stride: number, into?: string): Float32Array {
    const { B, S, dh } = this,
      h = this.cfg.nHeads;
    const n = B * h * S * dh;
    const out = into ? scratchBuffer(into, n) : cacheBuffer(n);
    for (let b = 0; b < B; b++)
      for (let hh = 0; hh < h; hh++)
        this.nat.copyBlocks(x, b * S * stride + c0 + hh * dh, stride, out, (b * h + hh) * S * dh, dh, S, dh);
    return out;
  }

  /**
   * The encoder (lib/model/network.ts `encode`) over Float32Arrays: the per-patch stem, patch and
   * query embeddings, nEncLayers of bidirectional attention under the key mask and MLPs, the final
   * layer norm. Returns the memory [B·S, d] (a scratch buffer: read it before the next `step`).
   */
  private encode(enc: EncoderInput): Float32Array {
    const { cfg, B, S, dh, nat } = this;
    const { dModel: d, nHeads: h } = cfg;
    const patches = readScratch(enc.patches, 'enc.patches');
    const ids = enc.queryIds.dataSync() as Int32Array;
    const nP = enc.patches.shape[1],
      L = cfg.maxQueryLen;
    const rowsP = B * nP,
      rows = B * S;
    const pix = cfg.stemHidden > 0 ? this.linear('stem', patches, rowsP, 'enc.stem', true) : patches;
    const img = this.linear('patch', pix, rowsP, 'enc.img'); // [B·nP, d]
    const type = this.P('type_emb'),
      ppos = this.P('patch_pos'),
      qpos = this.P('query_pos'),
      emb = this.P('tok_emb');
    const x = scratchBuffer('enc.x', rows * d);
    for (let b = 0; b < B; b++) {
      for (let p = 0; p < nP; p++) {
        const o = (b * S + p) * d,
          i = (b * nP + p) * d;
        for (let j = 0; j < d; j++) x[o + j] = img[i + j] + ppos[p * d + j] + type[j];
      }
      for (let t = 0; t < L; t++) {
        const o = (b * S + nP + t) * d,
          e = ids[b * L + t] * d;
        for (let j = 0; j < d; j++) x[o + j] = emb[e + j] + qpos[t * d + j] + type[d + j];
      }
    }
    const scale = 1 / Math.sqrt(dh);
    const q = scratchBuffer('enc.q', rows * d),
      att = scratchBuffer('enc.att', rows * d),
      probs = scratchBuffer('enc.probs', rows * S);
    for (let li = 0; li < cfg.nEncLayers; li++) {
      const n = `enc${li}`;
      const qkv = this.linear(`${n}.qkv`, this.layerNorm(`${n}.ln1`, x, rows, 'enc.ln'), rows, 'enc.qkv'); // [rows, 3d]
      nat.copyBlocks(qkv, 0, 3 * d, q, 0, d, rows, d);
      const k = this.splitHeads(qkv, d, 3 * d, 'enc.k'),
        v = this.splitHeads(qkv, 2 * d, 3 * d, 'enc.v');
      // bidirectional self-attention: the S rows of query b attend to its S keys under the key mask
      nat.crossAttention(q, k, v, this.keyMask, att, probs, B, S, h, dh, S, scale);
      this.add(x, this.linear(`${n}.attn_out`, att, rows, 'enc.proj'));
      const f1 = this.linear(`${n}.fc1`, this.layerNorm(`${n}.ln2`, x, rows, 'enc.ln'), rows, 'enc.f1', true);
      this.add(x, this.linear(`${n}.fc2`, f1, rows, 'enc.proj'));
    }
    return this.layerNorm('enc_ln', x, rows, 'enc.memory');
  }

  private P(name: string): Float32Array {
    const v = this.w.get(name);
    if (!v) throw new Error(`FastDecoder: missing parameter ${name}`);
    return v;
  }

  /** y [rows, dout] = x [rows, din] · W + b (then GELU when asked), into the scratch buffer `out` */
  private linear(name: string, x: Float32Array, rows: number, out: string, gelu = false): Float32Array {
    const W = this.P(`${name}.w`),
      b = this.P(`${name}.b`);
    const dout = b.length,
      din = W.length / dout;
    const y = scratchBuffer(out, rows * dout);
    this.nat.sgemmBatch(x, W, y, 1, rows, dout, din, false, false, 0, 0);
    this.nat.biasAct(y, b, rows, dout, gelu);
    return y;
  }

  /** as lib/policy.ts's layerNorm: tf.moments over the last axis, then (x − μ)/√(σ² + ε)·g + b */
  private layerNorm(name: string, x: Float32Array, rows: number, out: string): Float32Array {
    const g = this.P(`${name}.g`);
    const y = scratchBuffer(out, x.length);
    this.nat.layerNorm(x, g, this.P(`${name}.b`), y, rows, g.length, LN_EPS);
    return y;
  }

  /** x += y */
  private add(x: Float32Array, y: Float32Array): void {
    this.nat.binary(0, x, y, x, [x.length], [1], [1]);
  }

  /** logits / log-probs of the last step */
  private out: Float32Array = new Float32Array(0);

  /** the weights in the order the addon's decoderStep reads them */
  private stepWeights(): Float32Array[] {
    const names = ['tok_emb', 'dec_pos', 'dec_ln.g', 'dec_ln.b'];
    for (let li = 0; li < this.cfg.nDecLayers; li++) {
      const n = `dec${li}`;
      for (const p of ['ln1', 'qkv', 'attn_out', 'lnx', 'xq', 'x_out', 'ln2', 'fc1', 'fc2'])
        names.push(...(p.startsWith('ln') ? [`${n}.${p}.g`, `${n}.${p}.b`] : [`${n}.${p}.w`, `${n}.${p}.b`]));
      if (this.cfg.positionReadout) names.push(`${n}.x_gate.w`, `${n}.x_gate.b`);
    }
    return names.map((n) => this.P(n));
  }
  private weights?: Float32Array[];

  /**
   * Logits [N·L, V] (log-probabilities with `logSoftmax`) for L new tokens per row (ids row-major
   * [N, L]) at positions t0 … t0+L−1, attending causally to the cached positions before them: the
   * addon's decoderStep runs every layer in one call (its comment says how it splits rows across
   * threads). The array is the decoder's own and is overwritten by its next step. With `lens`,
   * row n computes only its first lens[n] positions and the logits of the others are 0.
   */
  step(ids: Int32Array, t0: number, L: number, logSoftmax = false, lens?: Int32Array): Float32Array {
    const { cfg, G, S } = this;
    const N = this.live.length;
    const { dModel: d, nHeads: h, vocabSize: V } = cfg;
    const rows = N * L;
    if (ids.length !== rows) throw new Error(`FastDecoder.step: ${ids.length} ids, expected ${N}×${L}`);
    if (t0 + L > this.Tmax) throw new Error(`FastDecoder.step: positions up to ${t0 + L} exceed ${this.Tmax}`);
    if (lens && lens.length !== N) throw new Error(`FastDecoder.step: ${lens.length} lengths, expected ${N}`);
    // the decoder's own output buffer, reused step after step (a new 43 kB array per sampled token
    // made the garbage collector run ~10 ms per GRPO step's sampling) and pooled across decoders:
    // the reference pass's 2.8 MB of fresh pages measured ~3 ms of page faults per GRPO step
    if (this.out.length < rows * V) {
      if (this.out.length) releaseCache(this.out);
      this.out = cacheBuffer(rows * V);
    }
    const logits = this.out.length === rows * V ? this.out : this.out.subarray(0, rows * V);
    const ffn = this.P('dec0.fc1.b').length,
      readout = cfg.positionReadout ? 1 : 0;
    this.nat.decoderStep(
      (this.weights ??= this.stepWeights()),
      Float64Array.of(cfg.nDecLayers, d, h, V, S, G, this.Tmax, t0, L, readout, ffn, logSoftmax ? 1 : 0, LN_EPS),
      ids,
      this.live,
      this.xk,
      this.xv,
      this.keyMask,
      this.pos,
      this.ck,
      this.cv,
      logits,
      lens,
    );
    return logits;
  }

  /**
   * log-softmax [N·L, V] for L new tokens per row (see `step`); with `lens`, row n computes only
   * its first lens[n] positions (the reference pass skips a completion's padding) and the others
   * are 0.
   */
  logProbs(ids: Int32Array, t0: number, L: number, lens?: Int32Array): Float32Array {
    return this.step(ids, t0, L, true, lens);
  }

  /** generate's token draw in the addon, bit for bit (`Decoder.draw`; native/src/blas.cc drawTokens) */
  draw(logProbs: Float32Array, V: number, u: Float64Array, temperature: number, out: Int32Array): void {
    this.nat.drawTokens(logProbs, V, u, temperature, out);
  }

  /**
   * Hands the attention caches and the output buffer back for the next decoder; the decoder is
   * unusable after, and the arrays its `step` returned may be overwritten.
   */
  dispose(): void {
    for (const c of [...this.ck, ...this.cv, ...this.xk, ...this.xv]) releaseCache(c);
    for (const c of [this.ck, this.cv, this.xk, this.xv]) c.length = 0;
    if (this.out.length) releaseCache(this.out);
    this.out = new Float32Array(0);
  }
}
