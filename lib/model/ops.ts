/**
 * The operations the policy, the losses and the optimizer are written in, chosen once by
 * `selectBackend` and passed down as a value (STYLE 13): the model never asks which backend
 * runs. Two implementations:
 * - `compositeOps` (this file): tfjs ops only, for every backend (wasm, cpu, tensorflow);
 * - `blasOps` (lib/native/ops.ts): one native kernel each way for linear layers, the position
 *   readout's output layer, layer norm, GELU, attention, token embeddings, log-probabilities at
 *   the targets and AdamW, whole transformer layers as one op each way, and the dispatch-free
 *   decoder for inference.
 * Both compute the same maths (test/native/ops.test.ts compares values and gradients).
 *
 * Layouts: attention takes merged heads, q [B, Tq, d], k, v [B, Tk, d], and returns [B, Tq, d]
 * (or [B, Tq, 2d] with the position readout, below); the cross-attention keys and values are
 * kept in that layout by every implementation.
 */
import * as tf from '@tensorflow/tfjs';
import { type EncoderInput, type Net, TfjsDecoder } from './network';

/** One AdamW step's constants (lib/model/optimizer.ts): c1, c2 are the bias corrections, scale the clip factor. */
export type AdamWStep = {
  b1: number;
  b2: number;
  c1: number;
  c2: number;
  eps: number;
  lr: number;
  wd: number;
  scale: number;
};

/** One parameter of an AdamW step: its gradient, moments and decoupled decay. */
export type AdamWItem = { p: tf.Variable; g: tf.Tensor; m: tf.Variable; v: tf.Variable; wd: number };

/**
 * A decoder for inference (no gradient): log π over the vocabulary for L new tokens per row at
 * positions t0 … t0 + L − 1, attending to every position fed before (a KV cache).
 */
export type Decoder = {
  /**
   * ids row-major [N, L] → log-softmax [N·L, V]; read it before the next call or `dispose` (it may
   * be reused, by this decoder or the next).
   * With `lens`, only row n's first lens[n] positions are needed: a decoder may skip the others
   * (their values are then unspecified; causal attention keeps the needed ones unchanged).
   */
  logProbs(ids: Int32Array, t0: number, L: number, lens?: Int32Array): Float32Array;
  /**
   * Optional: stop computing the rows not in `keep` (original indices, ascending, a subset of the
   * rows still computed); later calls take ids for the kept rows only. Sampling uses it to drop
   * finished rows; a decoder without it computes every row to the end.
   */
  retain?(keep: Int32Array): void;
  /**
   * Optional: the sampled token of each row of `logProbs` [rows, V] (the last `logProbs` call's),
   * computed as lib/model/generate.ts's JavaScript draws it from the uniform u[i] ∈ [0, 1) — the same
   * bits, faster; rows with u[i] < 0 are skipped (−1), −2 marks a row whose weights are all zero.
   */
  draw?(logProbs: Float32Array, V: number, u: Float64Array, temperature: number, out: Int32Array): void;
  dispose(): void;
};

/** A weight pair of one sub-layer: [w, b] of a linear layer or [g, b] of a layer norm. */
export type Pair = readonly [tf.Tensor, tf.Tensor];

/**
 * The weights of one transformer layer by role (lib/model/network.ts names them `<layer>.ln1`,
 * `.qkv`, …); `cross` only in decoder layers, its `gate` only with the position readout.
 */
export type LayerWeights = {
  ln1: Pair;
  qkv: Pair;
  attnOut: Pair;
  cross?: { ln: Pair; q: Pair; gate?: Pair; out: Pair };
  ln2: Pair;
  fc1: Pair;
  fc2: Pair;
};

/**
 * How a layer attends (and its layer norms' ε): self-attention's key mask [B, T] (or null) and
 * causality; in decoder layers the cross-attention keys and values [B, S, d] of the memory, its
 * key mask [B, S], its position codes [S, d] (null without the readout) and G, the rows per query
 * folded into cross-attention's query axis.
 */
export type LayerContext = {
  heads: number;
  /** the layer norms' ε */
  eps: number;
  causal: boolean;
  mask: tf.Tensor | null;
  cross?: { k: tf.Tensor; v: tf.Tensor; mask: tf.Tensor; pos: tf.Tensor | null; G: number };
};

export type Ops = {
  /** which implementation (recorded with runs) */
  readonly name: string;
  matMul(a: tf.Tensor, b: tf.Tensor, transposeA?: boolean, transposeB?: boolean): tf.Tensor;
  /** (x − μ)/√(σ² + eps)·g + b over the last axis */
  layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor;
  /** x·σ(1.702x), the sigmoid approximation of GELU */
  gelu(x: tf.Tensor): tf.Tensor;
  /** a linear layer x [rows, K] · w [K, N] + b [N], then `gelu` when asked, then + res [rows, N] when given */
  linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, gelu: boolean, res?: tf.Tensor): tf.Tensor;
  /**
   * The position readout's output layer: both [rows, 2d] = [ctx | where] (cross-attention with the
   * readout), gate [rows, 2] → ctx·w + b + [where's first half · gate₀ | its second half · gate₁].
   */
  gatedReadout(both: tf.Tensor, gate: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor;
  /** rows of table [V, d] at ids [n] (int32) → [n, d]; the gradient reaches the table only */
  embed(ids: tf.Tensor, table: tf.Tensor): tf.Tensor;
  /** log-softmax of logits [..., V] at targets [...] (int32) → [...]; no gradient reaches the targets */
  tokenLogProbs(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor;
  /**
   * softmax(q kᵀ/√dh + mask) v per head. mask: additive [B, Tk] or null; causal: query i (of the
   * last Tq positions of Tk) sees keys up to its own position. With position codes pos [Tk, d]
   * the result is [B, Tq, 2d]: the heads' outputs, then the head-averaged attention · pos (the
   * policy's position readout). mask and pos get no gradient.
   */
  attention(
    q: tf.Tensor,
    k: tf.Tensor,
    v: tf.Tensor,
    mask: tf.Tensor | null,
    pos: tf.Tensor | null,
    heads: number,
    causal: boolean,
  ): tf.Tensor;
  /** `attention` of q, k, v packed along the last axis, qkv [B, T, 3d] (self-attention, no position readout) */
  selfAttention(qkv: tf.Tensor, mask: tf.Tensor | null, heads: number, causal: boolean): tf.Tensor;
  /** one AdamW update of one parameter: [p′, m′, v′] */
  adamw(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: AdamWStep): tf.Tensor[];
  /**
   * Optional: `adamw` for every parameter of a step at once, the results assigned to p, m and v
   * (written over their memory where no other tensor shares it). Without it the optimizer
   * calls `adamw` per parameter and assigns.
   */
  adamwAll?(items: AdamWItem[], s: Omit<AdamWStep, 'wd'>): void;
  /** √(Σ g²) over every tensor, as a number */
  globalNorm(ts: tf.Tensor[]): number;
  /**
   * Optional: a whole transformer layer on x [B, T, d] as one op each way (no per-op dispatch):
   * x + SelfAttn(LN1 x), then in decoder layers + CrossAttn(LNx ·), then + MLP(LN2 ·), exactly
   * as lib/model/network.ts composes it from the ops above, bit for bit. Without it (or with
   * adapters) the network composes the layer itself.
   */
  layer?(x: tf.Tensor, w: LayerWeights, c: LayerContext): tf.Tensor;
  /** an inference decoder over N = B·G rows for one batch of queries */
  decoder(net: Net, enc: EncoderInput, G: number, Tmax: number): Decoder;
};

/** Swap the last two axes. */
function t2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(x, perm);
}

/**
 * matMul with transposed operands. tfjs-backend-wasm 4.22 runs a matMul with a transpose flag
 * ~15× slower than an explicit transpose followed by a plain matMul (measured: [2560, 96]ᵀ·
 * [2560, 288] 130 ms vs 8.5 ms), so on wasm the transposes are made explicit.
 */
function matMulWith(explicitTranspose: boolean) {
  return (a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor =>
    explicitTranspose && (transposeA || transposeB)
      ? tf.matMul(transposeA ? t2(a) : a, transposeB ? t2(b) : b)
      : tf.matMul(a, b, transposeA, transposeB);
}

/**
 * Register tfjs's BatchMatMul gradient written with `matMulWith(explicitTranspose)` (the same
 * formulas as tfjs-core's): every backward pass of a matMul uses transposed operands. The
 * gradient registry is global, so `selectBackend` calls this whenever it switches.
 */
export function installMatMulGradient(explicitTranspose: boolean): void {
  const mm = matMulWith(explicitTranspose);
  const warn = console.warn;
  console.warn = () => {}; // registerGradient warns that it overrides; that is the point
  try {
    tf.registerGradient({
      kernelName: 'BatchMatMul',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
        const g = dy as tf.Tensor;
        const [a, b] = saved;
        const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
        if (!transposeA && !transposeB) return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
        if (!transposeA && transposeB) return { a: () => mm(g, b, false, false), b: () => mm(g, a, true, false) };
        if (transposeA && !transposeB) return { a: () => mm(b, g, false, true), b: () => mm(a, g, false, false) };
        return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
      },
    });
  } finally {
    console.warn = warn;
  }
}

/** [B, T, d] → [B, h, T, dh] */
export function splitHeads(x: tf.Tensor, h: number): tf.Tensor {
  const [B, T, d] = x.shape;
  return x.reshape([B, T, h, d / h]).transpose([0, 2, 1, 3]);
}

/** [B, h, T, dh] → [B, T, d] */
export function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [B, h, T, dh] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([B, T, h * dh]);
}

/** Additive causal mask [1, 1, Tq, Tk]: query i (position Tk − Tq + i) sees keys 0 … Tk − Tq + i. */
function causalMask(Tq: number, Tk: number): tf.Tensor {
  const m = new Float32Array(Tq * Tk);
  const off = Tk - Tq;
  for (let i = 0; i < Tq; i++) for (let j = off + i + 1; j < Tk; j++) m[i * Tk + j] = -1e9;
  return tf.tensor4d(m, [1, 1, Tq, Tk]);
}

/** The tfjs implementation, for every backend; `explicitTranspose` on wasm (see matMulWith). */
export function compositeOps(name: string, opts: { explicitTranspose: boolean }): Ops {
  const matMul = matMulWith(opts.explicitTranspose);
  return {
    name,
    matMul,
    layerNorm(x, g, b, eps) {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
    },
    gelu: (x) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))),
    linear(x, w, b, gelu, res) {
      const z = tf.add(matMul(x, w), b);
      const y = gelu ? this.gelu(z) : z;
      return res ? tf.add(res, y) : y;
    },
    gatedReadout(both, gate, w, b) {
      const [ctx, where] = tf.split(both, 2, -1);
      const [gx, gy] = tf.split(gate, 2, -1);
      const [wx, wy] = tf.split(where, 2, -1);
      return tf.add(this.linear(ctx, w, b, false), tf.concat([tf.mul(wx, gx), tf.mul(wy, gy)], -1));
    },
    // one-hot × matrix: wasm has no gradient for gather
    embed: (ids, table) => matMul(tf.oneHot(ids.reshape([-1]) as tf.Tensor1D, table.shape[0]), table),
    tokenLogProbs: (logits, targets) => {
      const V = logits.shape[logits.rank - 1];
      return tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets as tf.Tensor1D, V)), -1);
    },
    attention(q, k, v, mask, pos, heads, causal) {
      const [B, Tq, d] = q.shape;
      const Tk = k.shape[1]!;
      const qh = splitHeads(q, heads); // [B, h, Tq, dh]
      let s = tf.mul(matMul(qh, splitHeads(k, heads), false, true), 1 / Math.sqrt(d! / heads)); // [B, h, Tq, Tk]
      if (mask) s = tf.add(s, mask.reshape([B, 1, 1, Tk]));
      if (causal && Tq! > 1) s = tf.add(s, causalMask(Tq!, Tk));
      const probs = tf.softmax(s);
      const out = mergeHeads(matMul(probs, splitHeads(v, heads))); // [B, Tq, d]
      if (!pos) return out;
      // Where the heads look, as a position code averaged over heads; the mean is taken on the
      // probabilities first (mean_h(P_h)·pos = mean_h(P_h·pos)), h times fewer FLOPs.
      const where = matMul(tf.mean(probs, 1).reshape([-1, Tk]), pos).reshape([B, Tq!, d!]);
      return tf.concat([out, where], -1);
    },
    selfAttention(qkv, mask, heads, causal) {
      const [q, k, v] = tf.split(qkv, 3, -1);
      return this.attention(q, k, v, mask, null, heads, causal);
    },
    adamw(p, g, m, v, s) {
      const g1 = s.scale === 1 ? g : tf.mul(g, s.scale);
      const m1 = tf.add(tf.mul(m, s.b1), tf.mul(g1, 1 - s.b1));
      const v1 = tf.add(tf.mul(v, s.b2), tf.mul(tf.square(g1), 1 - s.b2));
      const update = tf.div(tf.div(m1, s.c1), tf.add(tf.sqrt(tf.div(v1, s.c2)), s.eps));
      const p1 = tf.sub(p, tf.mul(s.wd ? tf.add(update, tf.mul(p, s.wd)) : update, s.lr)); // decoupled decay
      return [p1, m1, v1];
    },
    globalNorm: (ts) => tf.tidy(() => tf.sqrt(tf.addN(ts.map((g) => tf.sum(tf.square(g))))).dataSync()[0]),
    decoder: (net, enc, G, Tmax) => new TfjsDecoder(net, enc, G, Tmax),
  };
}
