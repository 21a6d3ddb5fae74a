/**
 * Kernel-level fixes for the backends we run on.
 *
 * tfjs-backend-wasm 4.22 runs matMul with a transpose flag ~15× slower than an explicit
 * transpose followed by a plain matMul (measured: [2560, 96]ᵀ·[2560, 288] 130 ms vs 8.5 ms), and
 * every backward pass of a matMul uses transpose flags. `matMul` below transposes explicitly
 * where the backend needs it, and `installGradientFixes` replaces tfjs's BatchMatMul gradient
 * by the same formulas written with explicit transposes (identical maths, bench/ has the numbers).
 */
import * as tf from '@tensorflow/tfjs';

/** Backends whose transposed matMul is slow. */
const EXPLICIT_TRANSPOSE = new Set(['wasm']);
let explicitOnWasm = true;

/** The BLAS kernels transpose natively; they switch the workaround off (and back on). */
export function setExplicitTranspose(on: boolean): void {
  explicitOnWasm = on;
}

/** Swap the last two axes. */
function t2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(x, perm);
}

/** matMul(a, b, transposeA, transposeB), with explicit transposes on backends that need them. */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if ((transposeA || transposeB) && explicitOnWasm && EXPLICIT_TRANSPOSE.has(tf.getBackend())) {
    return tf.matMul(transposeA ? t2(a) : a, transposeB ? t2(b) : b);
  }
  return tf.matMul(a, b, transposeA, transposeB);
}

let installed = false;

/** Replace the BatchMatMul gradient (same formulas as tfjs-core's, via `matMul` above). Idempotent. */
export function installGradientFixes(): void {
  if (installed) return;
  installed = true;
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
        if (!transposeA && !transposeB) return { a: () => matMul(g, b, false, true), b: () => matMul(a, g, true, false) };
        if (!transposeA && transposeB) return { a: () => matMul(g, b, false, false), b: () => matMul(g, a, true, false) };
        if (transposeA && !transposeB) return { a: () => matMul(b, g, false, true), b: () => matMul(a, g, false, false) };
        return { a: () => matMul(b, g, true, true), b: () => matMul(g, a, true, true) };
      },
    });
  } finally {
    console.warn = warn;
  }
}
