/**
 * The `blas` backend's kernels: tfjs's wasm backend with its matrix products served by OpenBLAS
 * through the native addon (lib/native/addon.ts), registered through tfjs's kernel registry.
 *
 * Why this shape (measured, see bench/): wasm runs elementwise ops fast with SIMD and has low
 * per-op overhead, but its BatchMatMul is slow on batched small matrices (attention: ~0.8
 * GFLOP/s) and on transposed operands. BatchMatMul and _FusedMatMul call `cblas_sgemm` directly
 * on the wasm heap (zero copy); the element-wise, reduction and layout kernels wasm runs on
 * scalar paths get native loops; and the fused layer norm, GELU, attention and AdamW kernels
 * that lib/native/ops.ts calls are registered here. Everything else stays on wasm.
 */
import * as tf from '@tensorflow/tfjs';
import { type Native, blasDescription, blasUnavailableReason, loadNative } from './addon';
import type { AdamWItem, AdamWStep } from '../model/ops';
import { forgetHostCopy } from './decoder';

type WasmBackend = {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  incRef(id: unknown): void;
  disposeData(id: unknown): void;
};

function heapView(backend: WasmBackend, t: tf.TensorInfo, size: number): Float32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, size);
}

function heapViewI32(backend: WasmBackend, t: tf.TensorInfo, size: number): Int32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  return new Int32Array(backend.wasm.HEAPU8.buffer, memoryOffset, size);
}

/** Ids must index a table of `n` rows: a clear error instead of reading outside it. */
function checkIds(ids: Int32Array, n: number, op: string, what: string): void {
  for (let i = 0; i < ids.length; i++)
    if (!(ids[i] >= 0 && ids[i] < n)) throw new Error(`${op}: ${what}[${i}] = ${ids[i]} is outside 0 … ${n - 1}`);
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** C = op(A)·op(B) with broadcast batch dims; returns the output TensorInfo on the wasm heap. */
function blasMatMul(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('blas BatchMatMul: only float32 is supported');
  const ar = a.shape.length,
    br = b.shape.length;
  const M = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const Ka = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const Kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const N = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (Ka !== Kb)
    throw new Error(
      `Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and ` +
        `transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  const batchA = size(a.shape.slice(0, -2)),
    batchB = size(b.shape.slice(0, -2));
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = size(outer);
  const out = backend.makeOutput([...outer, M, N], 'float32');
  // Views are made after makeOutput: allocating may grow (and move) the wasm heap.
  const A = heapView(backend, a, size(a.shape)),
    B = heapView(backend, b, size(b.shape)),
    C = heapView(backend, out, batch * M * N);
  if ((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1)) {
    // One call: equal batches, or one side broadcast whole (stride 0).
    loadNative()!.sgemmBatch(
      A,
      B,
      C,
      batch,
      M,
      N,
      Ka,
      transposeA,
      transposeB,
      batchA === 1 ? 0 : M * Ka,
      batchB === 1 ? 0 : Ka * N,
    );
    return out;
  }
  // Partial broadcasting ([2, 2] with [1, 2]): map each output batch index to its operands.
  const oa = broadcastIndex(outer, a.shape.slice(0, -2)),
    ob = broadcastIndex(outer, b.shape.slice(0, -2));
  for (let i = 0; i < batch; i++) {
    loadNative()!.sgemmBatch(
      A.subarray(oa(i) * M * Ka, (oa(i) + 1) * M * Ka),
      B.subarray(ob(i) * Ka * N, (ob(i) + 1) * Ka * N),
      C.subarray(i * M * N, (i + 1) * M * N),
      1,
      M,
      N,
      Ka,
      transposeA,
      transposeB,
      0,
      0,
    );
  }
  return out;
}

/** Flat index into `shape` (right-aligned, size-1 dims broadcast) of flat output index i over `outer`. */
function broadcastIndex(outer: number[], shape: number[]): (i: number) => number {
  const off = outer.length - shape.length;
  return (i: number) => {
    let idx = 0,
      stride = 1;
    for (let d = outer.length - 1; d >= 0; d--) {
      const coord = i % outer[d];
      i = Math.floor(i / outer[d]);
      const sd = d - off;
      if (sd >= 0) {
        idx += (shape[sd] === 1 ? 0 : coord) * stride;
        stride *= shape[sd];
      }
    }
    return idx;
  };
}

let installed = false;
let originals: tf.KernelConfig[] = [];

/**
 * Install the OpenBLAS kernels on the wasm backend (the wasm backend must be initialised).
 * `threads` sets OpenBLAS's thread count (1 per process when sweeps run one job per core).
 * Returns a description for run records.
 */
export function installBlasKernels(threads = 1): string {
  const n = loadNative();
  if (!n) throw new Error(`backend "blas" is not available: ${blasUnavailableReason()}`);
  n.setThreads(threads);
  if (!installed) {
    installed = true;
    originals = ['BatchMatMul', '_FusedMatMul', ...Object.keys(FAST_KERNELS)]
      .map((k) => tf.getKernel(k, 'wasm')!)
      .filter(Boolean);
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({
      kernelName: 'BatchMatMul',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
        const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
        return blasMatMul(backend as unknown as WasmBackend, a, b, transposeA, transposeB);
      },
    });
    // _FusedMatMul: matMul + bias (+ relu / linear activation); other activations keep wasm's kernel.
    const wasmFused = tf.getKernel('_FusedMatMul', 'wasm');
    tf.unregisterKernel('_FusedMatMul', 'wasm');
    tf.registerKernel({
      kernelName: '_FusedMatMul',
      backendName: 'wasm',
      kernelFunc: (args) => {
        const { inputs, backend, attrs } = args;
        const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
        const { transposeA, transposeB, activation } = attrs as unknown as {
          transposeA: boolean;
          transposeB: boolean;
          activation: string;
        };
        if (
          preluActivationWeights ||
          !['linear', 'relu'].includes(activation ?? 'linear') ||
          (bias && bias.shape.length > 1)
        ) {
          return wasmFused!.kernelFunc(args);
        }
        const wb = backend as unknown as WasmBackend;
        const out = blasMatMul(wb, a!, b!, transposeA, transposeB);
        const C = heapView(wb, out, size(out.shape));
        const N = out.shape[out.shape.length - 1];
        const bv = bias ? heapView(wb, bias, size(bias.shape)) : null;
        const relu = activation === 'relu';
        if (bv || relu) {
          for (let i = 0; i < C.length; i++) {
            let v = C[i] + (bv ? bv[bv.length === 1 ? 0 : i % N] : 0);
            if (relu && v < 0) v = 0;
            C[i] = v;
          }
        }
        return out;
      },
    });
    for (const k of fusedKernels(n)) tf.registerKernel(k);
    for (const [name, make] of Object.entries(FAST_KERNELS)) {
      const original = tf.getKernel(name, 'wasm');
      if (!original) continue;
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({
        kernelName: name,
        backendName: 'wasm',
        kernelFunc: make(original.kernelFunc as KernelFn, n),
      });
    }
  }
  return blasDescription(n);
}

// ── Element-wise and layout kernels ──────────────────────────────────────────────────────
//
// Once matmuls are fast, a training step's time moves to kernels wasm runs on scalar paths
// (bench/profile.ts): Sum over leading axes (every bias gradient), broadcasting Add/Mul/Sub/Div,
// SplitV/Concat on the last axis, Exp, and Identity, which wasm implements as a copy and tfjs's
// tape calls for every tensor it saves for the backward pass. Each kernel below serves the
// float32 cases natively and hands anything else to wasm's own kernel.

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type KernelFn = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

const allF32 = (ts: tf.TensorInfo[]) => ts.every((t) => t.dtype === 'float32');

/** Row-major strides of `shape`, with 0 on size-1 axes that `outShape` broadcasts (right-aligned). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const od = d + outShape.length - shape.length;
    strides[od] = shape[d] === 1 && outShape[od] !== 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

/** Merge adjacent axes whose strides are contiguous in the output and both operands (fewer, longer inner loops). */
function collapse(shape: number[], sa: number[], sb: number[]): [number[], number[], number[]] {
  const S = [shape[shape.length - 1]],
    A = [sa[sa.length - 1]],
    B = [sb[sb.length - 1]];
  for (let d = shape.length - 2; d >= 0; d--) {
    const n = S[0];
    if (sa[d] === A[0] * n && sb[d] === B[0] * n) S[0] *= shape[d];
    else {
      S.unshift(shape[d]);
      A.unshift(sa[d]);
      B.unshift(sb[d]);
    }
  }
  return [S, A, B];
}

const BINARY_OPS: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 };

function binaryKernel(name: string): (orig: KernelFn, n: Native) => KernelFn {
  const op = BINARY_OPS[name];
  return (orig, n) => (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (!allF32([a, b])) return orig(args);
    const wb = args.backend as WasmBackend;
    const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = wb.makeOutput(outShape, 'float32');
    const total = size(outShape);
    if (total === 0) return out;
    const shape = outShape.length ? outShape : [1];
    const [S, A, B] = collapse(
      shape,
      broadcastStrides(a.shape.length ? a.shape : [1], shape),
      broadcastStrides(b.shape.length ? b.shape : [1], shape),
    );
    n.binary(op, heapView(wb, a, size(a.shape)), heapView(wb, b, size(b.shape)), heapView(wb, out, total), S, A, B);
    return out;
  };
}

/** op 0 = exp (sigmoid, op 1, measured slower than wasm's vectorised one and is left to wasm). */
function unaryKernel(op: number): (orig: KernelFn, n: Native) => KernelFn {
  return (orig, n) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32') return orig(args);
    const wb = args.backend as WasmBackend;
    const out = wb.makeOutput(x.shape, 'float32');
    const total = size(x.shape);
    if (total) n.unary(op, heapView(wb, x, total), heapView(wb, out, total), total);
    return out;
  };
}

/** Sum / Mean over a contiguous run of axes, viewed as [outer, R, inner] → [outer, inner]. */
function reduceKernel(mean: boolean): (orig: KernelFn, n: Native) => KernelFn {
  return (orig, n) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32') return orig(args);
    const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
    if (!axes.length || axes.some((v, i) => i > 0 && v !== axes[i - 1] + 1)) return orig(args);
    const first = axes[0],
      last = axes[axes.length - 1];
    const outer = size(x.shape.slice(0, first)),
      R = size(x.shape.slice(first, last + 1)),
      inner = size(x.shape.slice(last + 1));
    const outShape = keepDims
      ? x.shape.map((s, d) => (d >= first && d <= last ? 1 : s))
      : x.shape.filter((_, d) => d < first || d > last);
    const wb = args.backend as WasmBackend;
    const out = wb.makeOutput(outShape, 'float32');
    if (!outer || !inner) return out;
    if (!R) return orig(args); // mean of nothing: wasm's convention
    n.reduce(heapView(wb, x, size(x.shape)), heapView(wb, out, outer * inner), outer, R, inner, mean ? 1 / R : 1);
    return out;
  };
}

const FAST_KERNELS: Record<string, (orig: KernelFn, n: Native) => KernelFn> = {
  Add: binaryKernel('Add'),
  Sub: binaryKernel('Sub'),
  Multiply: binaryKernel('Multiply'),
  RealDiv: binaryKernel('RealDiv'),
  Exp: unaryKernel(0),
  Sum: reduceKernel(false),
  Mean: reduceKernel(true),
  // Tensors are immutable: a clone can share its input's buffer (as Reshape does).
  Identity: (orig) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return orig(args);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
  SplitV: (orig, n) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    if (x.dtype !== 'float32') return orig(args);
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const wb = args.backend as WasmBackend;
    const outs = sizes.map((s) =>
      wb.makeOutput(
        x.shape.map((v, d) => (d === ax ? s : v)),
        'float32',
      ),
    );
    const outer = size(x.shape.slice(0, ax)),
      inner = size(x.shape.slice(ax + 1)),
      row = x.shape[ax] * inner;
    const src = heapView(wb, x, size(x.shape));
    let off = 0;
    outs.forEach((o, i) => {
      const len = sizes[i] * inner;
      if (len && outer) n.copyBlocks(src, off, row, heapView(wb, o, outer * len), 0, len, outer, len);
      off += len;
    });
    return outs;
  },
  Concat: (orig, n) => (args) => {
    const ins = Object.values(args.inputs) as tf.TensorInfo[];
    if (!ins.length || !allF32(ins)) return orig(args);
    const ax = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, ins[0].shape)[0];
    tf.backend_util.assertParamsConsistent(
      ins.map((t) => t.shape),
      ax,
    );
    const outShape = tf.backend_util.computeOutShape(
      ins.map((t) => t.shape),
      ax,
    );
    const wb = args.backend as WasmBackend;
    const out = wb.makeOutput(outShape, 'float32');
    const outer = size(outShape.slice(0, ax)),
      inner = size(outShape.slice(ax + 1)),
      row = outShape[ax] * inner;
    if (!outer || !row) return out;
    const dst = heapView(wb, out, outer * row);
    let off = 0;
    for (const t of ins) {
      const len = t.shape[ax] * inner;
      if (len) n.copyBlocks(heapView(wb, t, outer * len), 0, len, dst, off, row, outer, len);
      off += len;
    }
    return out;
  },
};

// ── Fused training ops ───────────────────────────────────────────────────────────────────
//
// A layer norm written with tfjs ops is ~12 kernels forward and ~35 backward, each a pass over
// the activations plus a dispatch; GELU is 3 + ~8. On blas they are one kernel each way
// (bench/profile.ts measured layer norms at about a third of the GRPO fwd+bwd before).
// blasOps (lib/native/ops.ts) serves them to the model; the maths is the composite ops'
// (test/native/ops.test.ts compares values and gradients).

const FUSED_NAMES = [
  'RsgLinear',
  'RsgLinearGrad',
  'RsgReadout',
  'RsgReadoutGrad',
  'RsgLayerNorm',
  'RsgLayerNormGrad',
  'RsgGelu',
  'RsgGeluGrad',
  'RsgAdamW',
  'RsgAttention',
  'RsgAttentionGrad',
  'RsgTokenLogProbs',
  'RsgTokenLogProbsGrad',
  'RsgEmbed',
  'RsgEmbedGrad',
];

/** Heap views of q, k, v and their row stride: three tensors (stride d) or one packed qkv (stride 3d). */
function qkvViews(
  wb: WasmBackend,
  qkv: tf.TensorInfo | undefined,
  q: tf.TensorInfo | undefined,
  k: tf.TensorInfo | undefined,
  v: tf.TensorInfo | undefined,
  B: number,
  Tq: number,
  Tk: number,
  d: number,
): [Float32Array, Float32Array, Float32Array, number] {
  if (qkv) {
    const all = heapView(wb, qkv, B * Tq * 3 * d);
    return [all, all.subarray(d), all.subarray(2 * d), 3 * d];
  }
  return [heapView(wb, q!, B * Tq * d), heapView(wb, k!, B * Tk * d), heapView(wb, v!, B * Tk * d), d];
}

function fusedKernels(n: Native): tf.KernelConfig[] {
  const f32In = (ts: tf.TensorInfo[], op: string) => {
    if (!allF32(ts)) throw new Error(`${op}: only float32 is supported`);
  };
  const EMPTY = new Float32Array(0);
  const i32In = (t: tf.TensorInfo, op: string, what: string) => {
    if (t.dtype !== 'int32') throw new Error(`${op}: ${what} must be int32, got ${t.dtype}`);
  };
  return [
    {
      kernelName: 'RsgTokenLogProbs',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { logits, targets } = inputs as Record<string, tf.TensorInfo>;
        f32In([logits], 'RsgTokenLogProbs');
        i32In(targets, 'RsgTokenLogProbs', 'targets');
        const V = logits.shape[logits.shape.length - 1],
          rows = size(targets.shape);
        if (rows * V !== size(logits.shape))
          throw new Error(`RsgTokenLogProbs: logits ${logits.shape} do not match targets ${targets.shape}`);
        const wb = backend as unknown as WasmBackend;
        const lp = wb.makeOutput(targets.shape, 'float32'),
          lse = wb.makeOutput([rows], 'float32');
        const tg = heapViewI32(wb, targets, rows);
        checkIds(tg, V, 'RsgTokenLogProbs', 'targets');
        n.tokenLogProbs(heapView(wb, logits, rows * V), tg, heapView(wb, lp, rows), heapView(wb, lse, rows), rows, V);
        return [lp, lse];
      },
    },
    {
      kernelName: 'RsgTokenLogProbsGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { dy, logits, targets, lse } = inputs as Record<string, tf.TensorInfo>;
        f32In([dy, logits, lse], 'RsgTokenLogProbsGrad');
        const V = logits.shape[logits.shape.length - 1],
          rows = size(targets.shape);
        const wb = backend as unknown as WasmBackend;
        const dx = wb.makeOutput(logits.shape, 'float32');
        n.tokenLogProbsGrad(
          heapView(wb, dy, rows),
          heapView(wb, logits, rows * V),
          heapViewI32(wb, targets, rows),
          heapView(wb, lse, rows),
          heapView(wb, dx, rows * V),
          rows,
          V,
        );
        return dx;
      },
    },
    {
      kernelName: 'RsgEmbed',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { table, ids } = inputs as Record<string, tf.TensorInfo>;
        f32In([table], 'RsgEmbed');
        i32In(ids, 'RsgEmbed', 'ids');
        const [V, d] = table.shape,
          rows = size(ids.shape);
        const wb = backend as unknown as WasmBackend;
        const out = wb.makeOutput([rows, d], 'float32');
        const iv = heapViewI32(wb, ids, rows);
        checkIds(iv, V, 'RsgEmbed', 'ids');
        n.embed(heapView(wb, table, V * d), iv, heapView(wb, out, rows * d), rows, d);
        return out;
      },
    },
    {
      kernelName: 'RsgEmbedGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { dy, ids } = inputs as Record<string, tf.TensorInfo>;
        f32In([dy], 'RsgEmbedGrad');
        const { vocab } = attrs as unknown as { vocab: number };
        const d = dy.shape[dy.shape.length - 1],
          rows = size(ids.shape);
        const wb = backend as unknown as WasmBackend;
        const dt = wb.makeOutput([vocab, d], 'float32');
        n.embedGrad(
          heapView(wb, dy, rows * d),
          heapViewI32(wb, ids, rows),
          heapView(wb, dt, vocab * d),
          rows,
          vocab,
          d,
        );
        return dt;
      },
    },
    {
      // q, k, v as three tensors, or as one packed qkv [B, T, 3d] (self-attention: no split)
      kernelName: 'RsgAttention',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { q, k, v, qkv, mask, pos } = inputs as Record<string, tf.TensorInfo | undefined>;
        const qs = qkv ? [qkv] : [q!, k!, v!];
        f32In([...qs, ...(mask ? [mask] : []), ...(pos ? [pos] : [])], 'RsgAttention');
        const { heads, causal } = attrs as unknown as { heads: number; causal: boolean };
        const [B, Tq] = qs[0].shape,
          Tk = qkv ? Tq : k!.shape[1],
          d = qkv ? qkv.shape[2] / 3 : q!.shape[2],
          dh = d / heads;
        const wb = backend as unknown as WasmBackend;
        const out = wb.makeOutput([B, Tq, pos ? 2 * d : d], 'float32'),
          probs = wb.makeOutput([B, heads, Tq, Tk], 'float32');
        const [qv, kv, vv, ld] = qkvViews(wb, qkv, q, k, v, B, Tq, Tk, d);
        n.attnForward(
          qv,
          kv,
          vv,
          mask ? heapView(wb, mask, B * Tk) : EMPTY,
          pos ? heapView(wb, pos, Tk * d) : EMPTY,
          heapView(wb, out, size(out.shape)),
          heapView(wb, probs, size(probs.shape)),
          B,
          Tq,
          Tk,
          heads,
          dh,
          1 / Math.sqrt(dh),
          causal,
          ld,
          ld,
          ld,
        );
        return [out, probs];
      },
    },
    {
      kernelName: 'RsgAttentionGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { dy, q, k, v, qkv, probs, pos } = inputs as Record<string, tf.TensorInfo | undefined>;
        const qs = qkv ? [qkv] : [q!, k!, v!];
        f32In([dy!, ...qs, probs!, ...(pos ? [pos] : [])], 'RsgAttentionGrad');
        // causal (optional): the forward pass was causal, so its probabilities' zeros may be skipped
        const { heads, causal = false } = attrs as unknown as { heads: number; causal?: boolean };
        const [B, Tq] = qs[0].shape,
          Tk = qkv ? Tq : k!.shape[1],
          d = qkv ? qkv.shape[2] / 3 : q!.shape[2],
          dh = d / heads;
        const wb = backend as unknown as WasmBackend;
        const grads = qs.map((x) => wb.makeOutput(x.shape, 'float32'));
        const [qv, kv, vv, ld] = qkvViews(wb, qkv, q, k, v, B, Tq, Tk, d);
        const [dq, dk, dv] = qkvViews(wb, qkv && grads[0], q && grads[0], k && grads[1], v && grads[2], B, Tq, Tk, d);
        n.attnBackward(
          heapView(wb, dy!, size(dy!.shape)),
          qv,
          kv,
          vv,
          heapView(wb, probs!, size(probs!.shape)),
          pos ? heapView(wb, pos, Tk * d) : EMPTY,
          dq,
          dk,
          dv,
          B,
          Tq,
          Tk,
          heads,
          dh,
          1 / Math.sqrt(dh),
          ld,
          ld,
          ld,
          causal,
        );
        return grads;
      },
    },
    {
      kernelName: 'RsgAdamW',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { p, g, m, v } = inputs as Record<string, tf.TensorInfo>;
        f32In([p, g, m, v], 'RsgAdamW');
        const a = attrs as Record<string, number>;
        const wb = backend as unknown as WasmBackend;
        const len = size(p.shape);
        const outs = [p, m, v].map((t) => wb.makeOutput(t.shape, 'float32'));
        const [po, mo, vo] = outs.map((t) => heapView(wb, t, len));
        n.adamw(
          heapView(wb, p, len),
          heapView(wb, g, len),
          heapView(wb, m, len),
          heapView(wb, v, len),
          po,
          mo,
          vo,
          len,
          a.b1,
          a.b2,
          a.c1,
          a.c2,
          a.eps,
          a.lr,
          a.wd,
          a.scale,
        );
        return outs;
      },
    },
    {
      kernelName: 'RsgLayerNorm',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, g, b } = inputs as Record<string, tf.TensorInfo>;
        f32In([x, g, b], 'RsgLayerNorm');
        const wb = backend as unknown as WasmBackend;
        const d = x.shape[x.shape.length - 1],
          rows = size(x.shape) / d;
        const y = wb.makeOutput(x.shape, 'float32'),
          mean = wb.makeOutput([rows], 'float32'),
          rstd = wb.makeOutput([rows], 'float32');
        n.lnForward(
          heapView(wb, x, rows * d),
          heapView(wb, g, d),
          heapView(wb, b, d),
          heapView(wb, y, rows * d),
          heapView(wb, mean, rows),
          heapView(wb, rstd, rows),
          rows,
          d,
          (attrs as { eps: number }).eps,
        );
        return [y, mean, rstd];
      },
    },
    {
      kernelName: 'RsgLayerNormGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { dy, x, g, mean, rstd, res } = inputs as Record<string, tf.TensorInfo | undefined> as Record<
          string,
          tf.TensorInfo
        >;
        f32In([dy, x, g, mean, rstd, ...(res ? [res] : [])], 'RsgLayerNormGrad');
        const wb = backend as unknown as WasmBackend;
        const d = x.shape[x.shape.length - 1],
          rows = size(x.shape) / d;
        if (res && size(res.shape) !== rows * d)
          throw new Error(`RsgLayerNormGrad: the residual must have ${rows * d} entries, got [${res.shape}]`);
        const dx = wb.makeOutput(x.shape, 'float32'),
          dg = wb.makeOutput([d], 'float32'),
          db = wb.makeOutput([d], 'float32');
        n.lnBackward(
          heapView(wb, dy, rows * d),
          heapView(wb, x, rows * d),
          heapView(wb, g, d),
          heapView(wb, mean, rows),
          heapView(wb, rstd, rows),
          heapView(wb, dx, rows * d),
          heapView(wb, dg, d),
          heapView(wb, db, d),
          rows,
          d,
          res ? heapView(wb, res, rows * d) : EMPTY,
        );
        return [dx, dg, db];
      },
    },
    {
      // x [rows, K] · w [K, N] + b [N], then GELU when asked, then + res [rows, N] when given:
      // [y] or [y, z] (z = the pre-activation)
      kernelName: 'RsgLinear',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, w, b, res } = inputs as Record<string, tf.TensorInfo | undefined> as Record<string, tf.TensorInfo>;
        f32In([x, w, b, ...(res ? [res] : [])], 'RsgLinear');
        const { gelu } = attrs as unknown as { gelu: boolean };
        const [rows, K] = x.shape,
          N = w.shape[1];
        if (x.shape.length !== 2 || w.shape.length !== 2 || w.shape[0] !== K || b.shape.join() !== `${N}`)
          throw new Error(`RsgLinear: x [rows, K], w [K, N], b [N] expected, got ${x.shape}, ${w.shape}, ${b.shape}`);
        if (res && res.shape.join() !== `${rows},${N}`)
          throw new Error(`RsgLinear: the residual must be [${rows}, ${N}], got [${res.shape}]`);
        const wb = backend as unknown as WasmBackend;
        const outs = (gelu ? [0, 1] : [0]).map(() => wb.makeOutput([rows, N], 'float32'));
        n.linearForward(
          heapView(wb, x, rows * K),
          heapView(wb, w, K * N),
          heapView(wb, b, N),
          res ? heapView(wb, res, rows * N) : EMPTY,
          heapView(wb, outs[0], rows * N),
          gelu ? heapView(wb, outs[1], rows * N) : EMPTY,
          rows,
          K,
          N,
          gelu,
        );
        return outs;
      },
    },
    {
      kernelName: 'RsgLinearGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { dy, x, w, z } = inputs as Record<string, tf.TensorInfo | undefined>;
        f32In([dy!, x!, w!, ...(z ? [z] : [])], 'RsgLinearGrad');
        const [rows, K] = x!.shape,
          N = w!.shape[1];
        const wb = backend as unknown as WasmBackend;
        const dx = wb.makeOutput([rows, K], 'float32'),
          dw = wb.makeOutput([K, N], 'float32'),
          db = wb.makeOutput([N], 'float32');
        const scratch = z ? wb.makeOutput([rows, N], 'float32') : null;
        n.linearBackward(
          heapView(wb, dy!, rows * N),
          heapView(wb, x!, rows * K),
          heapView(wb, w!, K * N),
          z ? heapView(wb, z, rows * N) : EMPTY,
          scratch ? heapView(wb, scratch, rows * N) : EMPTY,
          heapView(wb, dx, rows * K),
          heapView(wb, dw, K * N),
          heapView(wb, db, N),
          rows,
          K,
          N,
          z !== undefined,
        );
        if (scratch) wb.disposeData(scratch.dataId);
        return [dx, dw, db];
      },
    },
    {
      // both [rows, 2d] = [ctx | where], gate [rows, 2], w [d, d], b [d] → [rows, d]
      kernelName: 'RsgReadout',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { both, gate, w, b } = inputs as Record<string, tf.TensorInfo>;
        f32In([both, gate, w, b], 'RsgReadout');
        const [rows, d2] = both.shape,
          d = d2 / 2;
        if (both.shape.length !== 2 || d2 % 4 || gate.shape.join() !== `${rows},2` || w.shape.join() !== `${d},${d}`)
          throw new Error(
            `RsgReadout: both [rows, 2d], gate [rows, 2], w [d, d] expected, ` +
              `got ${both.shape}, ${gate.shape}, ${w.shape}`,
          );
        const wb = backend as unknown as WasmBackend;
        const y = wb.makeOutput([rows, d], 'float32');
        n.readoutForward(
          heapView(wb, both, rows * d2),
          heapView(wb, gate, rows * 2),
          heapView(wb, w, d * d),
          heapView(wb, b, d),
          heapView(wb, y, rows * d),
          rows,
          d,
        );
        return y;
      },
    },
    {
      kernelName: 'RsgReadoutGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { dy, both, gate, w } = inputs as Record<string, tf.TensorInfo>;
        f32In([dy, both, gate, w], 'RsgReadoutGrad');
        const [rows, d2] = both.shape,
          d = d2 / 2;
        const wb = backend as unknown as WasmBackend;
        const outs = [both.shape, gate.shape, w.shape, [d]].map((s) => wb.makeOutput(s, 'float32'));
        n.readoutBackward(
          heapView(wb, dy, rows * d),
          heapView(wb, both, rows * d2),
          heapView(wb, gate, rows * 2),
          heapView(wb, w, d * d),
          heapView(wb, outs[0], rows * d2),
          heapView(wb, outs[1], rows * 2),
          heapView(wb, outs[2], d * d),
          heapView(wb, outs[3], d),
          rows,
          d,
        );
        return outs;
      },
    },
    {
      kernelName: 'RsgGelu',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { x } = inputs as Record<string, tf.TensorInfo>;
        f32In([x], 'RsgGelu');
        const wb = backend as unknown as WasmBackend;
        const y = wb.makeOutput(x.shape, 'float32'),
          len = size(x.shape);
        n.geluForward(heapView(wb, x, len), heapView(wb, y, len), len);
        return y;
      },
    },
    {
      kernelName: 'RsgGeluGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { dy, x } = inputs as Record<string, tf.TensorInfo>;
        f32In([dy, x], 'RsgGeluGrad');
        const wb = backend as unknown as WasmBackend;
        const dx = wb.makeOutput(x.shape, 'float32'),
          len = size(x.shape);
        n.geluBackward(heapView(wb, dy, len), heapView(wb, x, len), heapView(wb, dx, len), len);
        return dx;
      },
    },
  ];
}

/** Put wasm's own kernels back (benchmarks compare both in one process). */
export function uninstallBlasKernels(): void {
  if (!installed) return;
  for (const k of FUSED_NAMES) tf.unregisterKernel(k, 'wasm');
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
  }
  installed = false;
}

/**
 * One AdamW step over every parameter (Ops.adamwAll on blas). A parameter whose p, m and v are
 * each the only tensor on their memory is updated in place, all of them in one native call; one
 * that shares memory with another tensor (a frozen copy made by clone, a tensor it was made from
 * and that is still alive) gets new tensors from the RsgAdamW kernel, assigned, so that nothing
 * else sees the update. Same arithmetic either way, element by element.
 */
export function adamwOnHeap(items: AdamWItem[], s: Omit<AdamWStep, 'wd'>): void {
  const n = loadNative()!;
  const wb = tf.backend() as unknown as WasmBackend & { refCount(id: unknown): number };
  const alone = (t: tf.Tensor) => t.dtype === 'float32' && wb.refCount(t.dataId) === 1;
  const inPlace = items.filter((it) => alone(it.p) && alone(it.m) && alone(it.v));
  const shared = items.filter((it) => !inPlace.includes(it));
  // the shared ones first: their new tensors may grow the heap, which would detach earlier views
  tf.tidy(() => {
    for (const { p, g, m, v, wd } of shared) {
      const [p1, m1, v1] = tf.engine().runKernel('RsgAdamW', { p, g, m, v }, { ...s, wd } as never) as tf.Tensor[];
      m.assign(m1);
      v.assign(v1);
      p.assign(p1);
    }
  });
  if (!inPlace.length) return;
  for (const { g } of inPlace)
    if (g.dtype !== 'float32') throw new Error('AdamW: only float32 gradients are supported');
  // the decoder's host copies of these weights would go stale: it reads them again next time
  for (const it of inPlace) forgetHostCopy(it.p);
  const view = (t: tf.Tensor) => heapView(wb, t, t.size);
  n.adamwInPlace(
    inPlace.map((it) => view(it.p)),
    inPlace.map((it) => view(it.g)),
    inPlace.map((it) => view(it.m)),
    inPlace.map((it) => view(it.v)),
    Float64Array.from(inPlace, (it) => it.wd),
    s.b1,
    s.b2,
    s.c1,
    s.c2,
    s.eps,
    s.lr,
    s.scale,
  );
}

/** Σ x² over every tensor, read straight from the wasm heap (the global gradient norm²). */
export function sumSquaresOnHeap(ts: tf.Tensor[]): number {
  const n = loadNative()!;
  const wb = tf.backend() as unknown as WasmBackend;
  let s = 0;
  for (const t of ts) s += n.sumSquares(heapView(wb, t, t.size));
  return s;
}
