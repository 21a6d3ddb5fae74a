import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/backend';
import { blasAvailable, blasUnavailableReason, installBlasKernels, uninstallBlasKernels } from '../lib/blas';
import { Rng } from '../lib/rng';

await selectBackend('wasm');
const available = blasAvailable();
if (!available) console.log(`blas tests skipped: ${blasUnavailableReason()}`);
const t = available ? test : test.skip;

/** Run f on wasm's own kernels and on the BLAS kernels; return both results as arrays. */
function both(f: () => tf.Tensor | tf.Tensor[]): [Float32Array[], Float32Array[]] {
  const run = () => tf.tidy(() => [f()].flat().map((x) => x.dataSync() as Float32Array));
  uninstallBlasKernels();
  const a = run();
  installBlasKernels();
  const b = run();
  uninstallBlasKernels();
  return [a, b];
}

function maxRel(a: Float32Array[], b: Float32Array[]): number {
  let w = 0;
  a.forEach((x, i) => x.forEach((v, j) => (w = Math.max(w, Math.abs(v - b[i][j]) / (1 + Math.abs(v))))));
  return w;
}

t('matMul agrees with wasm on random shapes, transposes and broadcast batch dims (incl. partial)', () => {
  const rng = new Rng(7);
  for (let k = 0; k < 150; k++) {
    const M = rng.int(1, 33), N = rng.int(1, 33), K = rng.int(1, 33), ta = rng.bool(), tb = rng.bool();
    const ba = rng.bool(0.3) ? [] : [rng.int(1, 3), rng.int(1, 3)];
    const bb = ba.length === 0 ? (rng.bool() ? [] : [rng.int(1, 3)]) : rng.choice([ba, [1, ba[1]], [ba[1]], []]);
    const a = tf.randomNormal([...ba, ta ? K : M, ta ? M : K], 0, 1, 'float32', k);
    const b = tf.randomNormal([...bb, tb ? N : K, tb ? K : N], 0, 1, 'float32', k + 999);
    const [r, g] = both(() => tf.matMul(a, b, ta, tb));
    assert.ok(maxRel(r, g) < 1e-5, `case ${k}: ${a.shape} × ${b.shape} (${ta}, ${tb})`);
    tf.dispose([a, b]);
  }
});

t('gradients through matMul agree with wasm', () => {
  const a = tf.randomNormal([3, 5, 7], 0, 1, 'float32', 1), b = tf.randomNormal([3, 7, 4], 0, 1, 'float32', 2);
  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    const A = ta ? tf.transpose(a, [0, 2, 1]) : a, B = tb ? tf.transpose(b, [0, 2, 1]) : b;
    const [r, g] = both(() => {
      const gr = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))([A, B]);
      return gr;
    });
    assert.ok(maxRel(r, g) < 1e-4, `transposes ${ta}, ${tb}`);
  }
  tf.dispose([a, b]);
});

t('fused matMul with bias and relu agrees with wasm', () => {
  const a = tf.randomNormal([9, 6], 0, 1, 'float32', 3), b = tf.randomNormal([6, 5], 0, 1, 'float32', 4), bias = tf.randomNormal([5], 0, 1, 'float32', 5);
  for (const activation of ['linear', 'relu'] as const) {
    const [r, g] = both(() => tf.fused.matMul({ a, b, bias, activation }));
    assert.ok(maxRel(r, g) < 1e-5, activation);
  }
  tf.dispose([a, b, bias]);
});

test.run();
