/**
 * Choosing the tfjs backend, once, at the boundary (STYLE 13). `auto` prefers `tensorflow`
 * (tfjs-node-gpu, then tfjs-node, when the user installed one), then `blas` (wasm + the
 * project's OpenBLAS kernels, when `native/` is built), then `wasm` (with one log line saying
 * why), then `cpu`. An explicit choice that is not available is an error that says what is.
 *
 * The result carries the `ops` every model, loss and optimizer is written in
 * (lib/model/ops.ts); nothing downstream asks which backend runs. The chosen backend is
 * recorded with every run.
 */
import * as tf from '@tensorflow/tfjs';
import { type Ops, compositeOps, installMatMulGradient } from './model/ops';
import { blasAvailable, blasUnavailableReason } from './native/addon';
import { projectRequire } from './files';

export const BACKENDS = ['auto', 'tensorflow', 'blas', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export type Backend = {
  /** what runs: tensorflow | blas | wasm | cpu */
  name: string;
  /** e.g. the OpenBLAS build and thread count */
  detail: string;
  ops: Ops;
};

function tryRequire(name: string): boolean {
  try {
    projectRequire(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * tfjs-node(-gpu) registers the `tensorflow` backend when loaded. A require that succeeds is not
 * enough: this project aliases @tensorflow/tfjs-node to plain tfjs for danfojs (see
 * package.json overrides), so the registry is what tells whether the real package is there.
 */
async function tryTensorflow(): Promise<string | null> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if (!tryRequire(pkg) || !tf.engine().registryFactory['tensorflow']) continue;
    try {
      if (await tf.setBackend('tensorflow')) return pkg;
    } catch {
      /* registered but failed to initialise: try the next option */
    }
  }
  return null;
}

async function tryWasm(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-wasm');
  return tf.setBackend('wasm');
}

/** OpenBLAS threads per process: $RSG_BLAS_THREADS, default 1 (one worker process per core). */
function blasThreads(): number {
  const n = Number(process.env.RSG_BLAS_THREADS ?? 1);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

let selected: Backend | null = null;
let quietFallback = false;

async function activate(name: 'tensorflow' | 'blas' | 'wasm' | 'cpu', detail: string): Promise<Backend> {
  const { installBlasKernels, uninstallBlasKernels } = await import('./native/kernels');
  let ops: Ops;
  if (name === 'blas') {
    detail = installBlasKernels(blasThreads());
    ops = (await import('./native/ops')).blasOps();
  } else {
    if (name === 'wasm') uninstallBlasKernels();
    ops = compositeOps(name, { explicitTranspose: name === 'wasm' });
  }
  await tf.ready();
  installMatMulGradient(name === 'wasm');
  return { name, detail, ops };
}

/**
 * Activate a backend; returns what runs and its ops. Idempotent for the same choice; switching
 * (benchmarks and tests compare backends in one process) re-registers what differs.
 */
export async function selectBackend(
  choice: BackendName | string = process.env.RSG_BACKEND ?? 'auto',
): Promise<Backend> {
  if (!(BACKENDS as readonly string[]).includes(choice)) {
    throw new Error(`unknown backend "${choice}"; choose from: ${BACKENDS.join(', ')}`);
  }
  if (selected && (choice === 'auto' || choice === selected.name)) return selected;
  switch (choice) {
    case 'tensorflow': {
      const pkg = await tryTensorflow();
      if (!pkg) {
        throw new Error(
          'backend "tensorflow" is not available: install @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node ' +
            '(version 4.22.0) — their install downloads libtensorflow, which needs internet access',
        );
      }
      selected = await activate('tensorflow', pkg);
      break;
    }
    case 'blas':
      if (!blasAvailable()) throw new Error(`backend "blas" is not available: ${blasUnavailableReason()}`);
      if (!(await tryWasm())) throw new Error('backend "blas" needs the wasm backend, which failed to initialise');
      selected = await activate('blas', '');
      break;
    case 'wasm':
      if (!(await tryWasm())) throw new Error('backend "wasm" failed to initialise');
      selected = await activate('wasm', `tfjs-backend-wasm ${tf.version.tfjs}`);
      break;
    case 'cpu':
      await tf.setBackend('cpu');
      selected = await activate('cpu', 'tfjs cpu (plain JS)');
      break;
    case 'auto': {
      const pkg = await tryTensorflow();
      if (pkg) selected = await activate('tensorflow', pkg);
      else if (blasAvailable() && (await tryWasm())) selected = await activate('blas', '');
      else {
        if (!quietFallback)
          console.error(`backend: OpenBLAS kernels unavailable — ${blasUnavailableReason()}; using wasm`);
        if (await tryWasm()) selected = await activate('wasm', `tfjs-backend-wasm ${tf.version.tfjs}`);
        else {
          await tf.setBackend('cpu');
          selected = await activate('cpu', 'tfjs cpu (plain JS)');
        }
      }
      break;
    }
  }
  quietFallback = true; // say it once per process
  return selected!;
}
