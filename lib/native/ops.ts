/**
 * The blas backend's `Ops` (lib/model/ops.ts): linear layers (with bias, GELU and residual), the
 * position readout's output layer, layer norm, GELU, multi-head attention, token embeddings,
 * log-probabilities at the targets and AdamW as one native kernel each way
 * (lib/native/kernels.ts registers them), whole transformer layers as one op each way over those
 * kernels (lib/native/layers.ts), the global gradient norm read from the wasm heap, and the
 * dispatch-free decoder (lib/native/decoder.ts) for inference. matMul is tfjs's, served by
 * OpenBLAS through the kernel registry.
 *
 * Why: a layer norm written with tfjs ops is ~12 kernels forward and ~35 backward, each a pass
 * over the activations plus a dispatch; GELU is 3 + ~8 (bench/profile.ts measured layer norms at
 * about a third of the GRPO fwd+bwd before). The maths is the composite's; test/native/ops.test.ts
 * compares values and gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { type Ops, compositeOps } from '../model/ops';
import { FastDecoder } from './decoder';
import { adamwOnHeap, sumSquaresOnHeap } from './kernels';
import { fusedLayer } from './layers';

const runKernel = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) =>
  tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor | tf.Tensor[];

const layerNormOps = new Map<number, (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

/** Layer norm over the last axis, one kernel each way: (x − μ)/√(σ² + eps)·g + b. */
function fusedLayerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  let op = layerNormOps.get(eps); // one customGrad per eps, not one per call
  if (!op) {
    op = tf.customGrad(((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
      const [y, mean, rstd] = runKernel('RsgLayerNorm', { x: xx, g: gg, b: bb }, { eps }) as tf.Tensor[];
      save([xx, gg, mean, rstd]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sg, sm, sr] = saved;
          return runKernel('RsgLayerNormGrad', { dy, x: sx, g: sg, mean: sm, rstd: sr }) as tf.Tensor[];
        },
      };
    }) as never) as unknown as (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    layerNormOps.set(eps, op);
  }
  return op(x, g, b);
}

/** GELU, sigmoid approximation x·σ(1.702x), one kernel each way. */
const fusedGelu: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
  save([x]);
  return {
    value: runKernel('RsgGelu', { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runKernel('RsgGeluGrad', { dy, x: saved[0] }) as tf.Tensor,
  };
}) as never) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * A linear layer, its GELU and the residual it adds to, as one kernel each way: forward, the
 * product then bias, activation and residual on each block of the output as it is written;
 * backward, GELU's gradient, both products and the bias gradient in one call. The composite is a
 * matMul, an Add, GELU's kernel and the residual Add forward, and as many kernels back; both
 * compute the same operations in the same order (test/native/ops.test.ts compares the bits).
 */
const linearOps = [false, true].map((gelu) =>
  [false, true].map(
    (withRes) =>
      tf.customGrad(((...args: unknown[]) => {
        const save = args.pop() as (ts: tf.Tensor[]) => void;
        const [x, w, b, res] = args as tf.Tensor[];
        const outs = runKernel('RsgLinear', { x, w, b, ...(withRes ? { res } : {}) }, { gelu }) as tf.Tensor[];
        save([x, w, ...outs.slice(1)]);
        return {
          value: outs[0],
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [sx, sw, sz] = saved;
            const grads = runKernel('RsgLinearGrad', { dy, x: sx, w: sw, ...(sz ? { z: sz } : {}) }) as tf.Tensor[];
            return withRes ? [...grads, dy.reshape(dy.shape)] : grads; // the residual's gradient is dy
          },
        };
      }) as never) as unknown as (...ts: tf.Tensor[]) => tf.Tensor,
  ),
);

/** The position readout's output layer (Ops.gatedReadout) as one kernel each way; ctx is read in place. */
const gatedReadout = tf.customGrad(((
  both: tf.Tensor,
  gate: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor,
  save: (ts: tf.Tensor[]) => void,
) => {
  save([both, gate, w]);
  return {
    value: runKernel('RsgReadout', { both, gate, w, b }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sb, sg, sw] = saved;
      return runKernel('RsgReadoutGrad', { dy, both: sb, gate: sg, w: sw }) as tf.Tensor[];
    },
  };
}) as never) as unknown as (both: tf.Tensor, gate: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * Token embeddings as a gather, its gradient a scatter-add into the table in row order: the
 * composite's one-hot × matrix is two [n, V] × [V, d] products and a one-hot each step.
 */
function fusedEmbed(ids: tf.Tensor, table: tf.Tensor): tf.Tensor {
  const flat = ids.reshape([-1]);
  const vocab = table.shape[0];
  const f = tf.customGrad(((tt: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
    save([flat]);
    return {
      value: runKernel('RsgEmbed', { table: tt, ids: flat }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runKernel('RsgEmbedGrad', { dy, ids: saved[0] }, { vocab }),
    };
  }) as never) as unknown as (t: tf.Tensor) => tf.Tensor;
  return f(table);
}

/**
 * log-softmax at the targets in one pass each way (the composite is a log-softmax, a one-hot, a
 * product and a sum over [n, V], and their gradients).
 */
function fusedTokenLogProbs(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  const f = tf.customGrad(((x: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
    const [lp, lse] = runKernel('RsgTokenLogProbs', { logits: x, targets }) as tf.Tensor[];
    save([x, lse, targets]);
    return {
      value: lp,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, slse, st] = saved;
        return runKernel('RsgTokenLogProbsGrad', { dy, logits: sx, targets: st, lse: slse }) as tf.Tensor;
      },
    };
  }) as never) as unknown as (x: tf.Tensor) => tf.Tensor;
  return f(logits);
}

/** Multi-head attention as one kernel each way, on merged-head layouts (see Ops.attention). */
function fusedAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask: tf.Tensor | null,
  pos: tf.Tensor | null,
  heads: number,
  causal: boolean,
): tf.Tensor {
  const extra = [...(mask ? [mask] : []), ...(pos ? [pos] : [])];
  const f = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as (ts: tf.Tensor[]) => void;
    const [qq, kk, vv, ...rest] = args as tf.Tensor[];
    const mm = mask ? rest.shift()! : undefined,
      pp = pos ? rest.shift()! : undefined;
    const inputs = { q: qq, k: kk, v: vv, ...(mm ? { mask: mm } : {}), ...(pp ? { pos: pp } : {}) };
    const [out, probs] = runKernel('RsgAttention', inputs, { heads, causal }) as tf.Tensor[];
    save([qq, kk, vv, probs, ...(pp ? [pp] : [])]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp, spos] = saved;
        const gradInputs = { dy, q: sq, k: sk, v: sv, probs: sp, ...(spos ? { pos: spos } : {}) };
        const grads = runKernel('RsgAttentionGrad', gradInputs, { heads, causal }) as tf.Tensor[];
        return [...grads, ...extra.map((t) => tf.zerosLike(t))];
      },
    };
  }) as never) as unknown as (...ts: tf.Tensor[]) => tf.Tensor;
  return f(q, k, v, ...extra);
}

/** Self-attention on one packed qkv [B, T, 3d], one kernel each way: no split, no concatenated gradient. */
function fusedSelfAttention(qkv: tf.Tensor, mask: tf.Tensor | null, heads: number, causal: boolean): tf.Tensor {
  const f = tf.customGrad(((x: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
    const [out, probs] = runKernel(
      'RsgAttention',
      { qkv: x, ...(mask ? { mask } : {}) },
      { heads, causal },
    ) as tf.Tensor[];
    save([x, probs]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        (runKernel('RsgAttentionGrad', { dy, qkv: saved[0], probs: saved[1] }, { heads, causal }) as tf.Tensor[])[0],
    };
  }) as never) as unknown as (x: tf.Tensor) => tf.Tensor;
  return f(qkv);
}

/** The blas implementation; the BLAS kernels must be installed (selectBackend('blas') does). */
export function blasOps(): Ops {
  const composite = compositeOps('blas', { explicitTranspose: false }); // OpenBLAS transposes natively
  return {
    ...composite,
    layerNorm: fusedLayerNorm,
    gelu: fusedGelu,
    linear: (x, w, b, gelu, res) => (res ? linearOps[+gelu][1](x, w, b, res) : linearOps[+gelu][0](x, w, b)),
    gatedReadout,
    embed: fusedEmbed,
    tokenLogProbs: fusedTokenLogProbs,
    // The kernel's causal mask assumes queries and keys are the same positions; a cached decode
    // step (fewer queries than keys) takes the composite path, which only TfjsDecoder would use.
    attention: (q, k, v, mask, pos, heads, causal) =>
      causal && q.shape[1] !== k.shape[1]
        ? composite.attention(q, k, v, mask, pos, heads, causal)
        : fusedAttention(q, k, v, mask, pos, heads, causal),
    selfAttention: fusedSelfAttention,
    layer: fusedLayer,
    adamw: (p, g, m, v, s) => runKernel('RsgAdamW', { p, g, m, v }, s) as tf.Tensor[],
    adamwAll: adamwOnHeap,
    globalNorm: (ts) => Math.fround(Math.sqrt(sumSquaresOnHeap(ts))),
    decoder: (net, enc, G, Tmax) => new FastDecoder(net, enc, G, Tmax),
  };
}
