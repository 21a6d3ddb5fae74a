/**
 * Choosing the tfjs backend. `auto` prefers `tensorflow` (tfjs-node-gpu, then tfjs-node, when
 * the user installed one), then `wasm`, then `cpu`. An explicit choice that is not available
 * is an error that says how to get it. The chosen backend is recorded with every run.
 */
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from './model/ops';
import { projectRequire } from './files';

export const BACKENDS = ['auto', 'tensorflow', 'blas', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];



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

let selected: { name: string; detail: string } | null = null;
let quietFallback = false;

/** OpenBLAS threads per process: $RSG_BLAS_THREADS, default 1 (sweeps run one process per core). */
function blasThreads(): number {
  const n = Number(process.env.RSG_BLAS_THREADS ?? 1);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/**
 * Activate a backend; returns what ran (e.g. { name: 'wasm', detail: 'tfjs-backend-wasm 4.22.0' }).
 * Idempotent for the same choice.
 */
export async function selectBackend(choice: BackendName | string = process.env.RSG_BACKEND ?? 'auto'): Promise<{ name: string; detail: string }> {
  if (!(BACKENDS as readonly string[]).includes(choice)) {
    throw new Error(`unknown backend "${choice}"; choose from: ${BACKENDS.join(', ')}`);
  }
  if (selected && (choice === 'auto' || choice === selected.name)) return selected;
  let detail = '';
  switch (choice) {
    case 'tensorflow': {
      const pkg = await tryTensorflow();
      if (!pkg) throw new Error('backend "tensorflow" is not available: install @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node (version 4.22.0) — their install downloads libtensorflow, which needs internet access');
      detail = pkg;
      break;
    }
    case 'blas': {
      const { installBlasKernels } = await import('./native/blas');
      if (!(await tryWasm())) throw new Error('backend "blas" needs the wasm backend, which failed to initialise');
      detail = installBlasKernels(blasThreads());
      break;
    }
    case 'wasm':
      if (!(await tryWasm())) throw new Error('backend "wasm" failed to initialise');
      (await import('./native/blas')).uninstallBlasKernels();
      detail = `tfjs-backend-wasm ${tf.version.tfjs}`;
      break;
    case 'cpu':
      await tf.setBackend('cpu');
      detail = 'tfjs cpu (plain JS)';
      break;
    case 'auto': {
      const pkg = await tryTensorflow();
      if (pkg) { detail = pkg; break; }
      const blas = await import('./native/blas');
      if (blas.blasAvailable() && (await tryWasm())) { detail = blas.installBlasKernels(blasThreads()); break; }
      if (!quietFallback) console.error(`backend: OpenBLAS kernels unavailable — ${blas.blasUnavailableReason()}; using wasm`);
      if (await tryWasm()) { detail = `tfjs-backend-wasm ${tf.version.tfjs}`; break; }
      await tf.setBackend('cpu');
      detail = 'tfjs cpu (plain JS)';
      break;
    }
  }
  await tf.ready();
  installGradientFixes();
  quietFallback = true; // say it once per process
  const blasOn = (await import('./native/blas')).blasInstalled();
  selected = { name: blasOn && tf.getBackend() === 'wasm' ? 'blas' : tf.getBackend(), detail };
  return selected;
}
