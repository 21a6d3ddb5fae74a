/**
 * The `blas` backend: tfjs's wasm backend with its matrix products served by OpenBLAS through
 * a small native addon (`native/`, built by `npm run build:native`).
 *
 * Why this shape (measured, see bench/): wasm runs elementwise ops fast with SIMD and has low
 * per-op overhead, but its BatchMatMul is slow on batched small matrices (attention: ~0.8
 * GFLOP/s) and on transposed operands. So only BatchMatMul and _FusedMatMul change: the new
 * kernels call `cblas_sgemm` directly on the wasm heap (zero copy) and everything else stays
 * on wasm. The addon is optional: without it, `auto` picks plain wasm with one log line.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, projectRequire } from './files';
import { setExplicitTranspose } from './kernels';

type Native = {
  sgemmBatch(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, m: number, n: number, k: number, ta: boolean, tb: boolean, sa: number, sb: number): void;
  setThreads(n: number): void;
  config(): { threads: number; config: string };
};

const ADDON = join(PROJECT_ROOT, 'native', 'build', 'Release', 'rsg_blas.node');
let native: Native | null | undefined;

/** The addon, or null when it is not built or cannot load. */
export function loadNative(): Native | null {
  if (native !== undefined) return native;
  try {
    native = existsSync(ADDON) ? (projectRequire(ADDON) as Native) : null;
  } catch {
    native = null;
  }
  return native;
}

export function blasAvailable(): boolean {
  return loadNative() !== null;
}

/** Why the addon is unavailable, for the one log line. */
export function blasUnavailableReason(): string {
  if (!existsSync(ADDON)) return `${ADDON} is not built (run \`npm run build:native\`; needs g++ and libopenblas-dev)`;
  try {
    projectRequire(ADDON);
    return 'unknown';
  } catch (e) {
    return `cannot load ${ADDON}: ${(e as Error).message.split('\n')[0]}`;
  }
}

type WasmBackend = {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  disposeData(id: unknown): void;
};

function heapView(backend: WasmBackend, t: tf.TensorInfo, size: number): Float32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, size);
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** C = op(A)·op(B) with broadcast batch dims; returns the output TensorInfo on the wasm heap. */
function blasMatMul(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('blas BatchMatMul: only float32 is supported');
  const ar = a.shape.length, br = b.shape.length;
  const M = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const Ka = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const Kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const N = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (Ka !== Kb) throw new Error(`Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  const batchA = size(a.shape.slice(0, -2)), batchB = size(b.shape.slice(0, -2));
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = size(outer);
  const out = backend.makeOutput([...outer, M, N], 'float32');
  // Views are made after makeOutput: allocating may grow (and move) the wasm heap.
  const A = heapView(backend, a, size(a.shape)), B = heapView(backend, b, size(b.shape)), C = heapView(backend, out, batch * M * N);
  if ((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1)) {
    // One call: equal batches, or one side broadcast whole (stride 0).
    native!.sgemmBatch(A, B, C, batch, M, N, Ka, transposeA, transposeB, batchA === 1 ? 0 : M * Ka, batchB === 1 ? 0 : Ka * N);
    return out;
  }
  // Partial broadcasting ([2, 2] with [1, 2]): map each output batch index to its operands.
  const oa = broadcastIndex(outer, a.shape.slice(0, -2)), ob = broadcastIndex(outer, b.shape.slice(0, -2));
  for (let i = 0; i < batch; i++) {
    native!.sgemmBatch(
      A.subarray(oa(i) * M * Ka, (oa(i) + 1) * M * Ka), B.subarray(ob(i) * Ka * N, (ob(i) + 1) * Ka * N),
      C.subarray(i * M * N, (i + 1) * M * N), 1, M, N, Ka, transposeA, transposeB, 0, 0);
  }
  return out;
}

/** Flat index into `shape` (right-aligned, size-1 dims broadcast) of flat output index i over `outer`. */
function broadcastIndex(outer: number[], shape: number[]): (i: number) => number {
  const off = outer.length - shape.length;
  return (i: number) => {
    let idx = 0, stride = 1;
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
    originals = ['BatchMatMul', '_FusedMatMul'].map((k) => tf.getKernel(k, 'wasm')!).filter(Boolean);
    setExplicitTranspose(false); // OpenBLAS handles transposed operands natively
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
        const { transposeA, transposeB, activation } = attrs as unknown as { transposeA: boolean; transposeB: boolean; activation: string };
        if (preluActivationWeights || !['linear', 'relu'].includes(activation ?? 'linear') || (bias && bias.shape.length > 1)) {
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
  }
  return blasDescription(n);
}

function blasDescription(n: Native): string {
  return `wasm + OpenBLAS sgemm (${n.config().config.trim()}, ${n.config().threads} thread${n.config().threads === 1 ? '' : 's'})`;
}

/** Put wasm's own kernels back (benchmarks compare both in one process). */
export function uninstallBlasKernels(): void {
  if (!installed) return;
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
  }
  installed = false;
  setExplicitTranspose(true);
}

export function blasInstalled(): boolean {
  return installed;
}
