import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend';
import { blasAvailable, blasUnavailableReason } from '../../lib/native/addon';
import { installBlasKernels, uninstallBlasKernels } from '../../lib/native/kernels';
import { Rng } from '../../lib/rng';

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
    const M = rng.int(1, 33),
      N = rng.int(1, 33),
      K = rng.int(1, 33),
      ta = rng.bool(),
      tb = rng.bool();
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
  const a = tf.randomNormal([3, 5, 7], 0, 1, 'float32', 1),
    b = tf.randomNormal([3, 7, 4], 0, 1, 'float32', 2);
  for (const [ta, tb] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    const A = ta ? tf.transpose(a, [0, 2, 1]) : a,
      B = tb ? tf.transpose(b, [0, 2, 1]) : b;
    const [r, g] = both(() => {
      const gr = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))([A, B]);
      return gr;
    });
    assert.ok(maxRel(r, g) < 1e-4, `transposes ${ta}, ${tb}`);
  }
  tf.dispose([a, b]);
});

t('fused matMul with bias and relu agrees with wasm', () => {
  const a = tf.randomNormal([9, 6], 0, 1, 'float32', 3),
    b = tf.randomNormal([6, 5], 0, 1, 'float32', 4),
    bias = tf.randomNormal([5], 0, 1, 'float32', 5);
  for (const activation of ['linear', 'relu'] as const) {
    const [r, g] = both(() => tf.fused.matMul({ a, b, bias, activation }));
    assert.ok(maxRel(r, g) < 1e-5, activation);
  }
  tf.dispose([a, b, bias]);
});

/** A random shape of rank 1–4 with sides 1–6, and a shape broadcastable to it. */
function shapes(rng: Rng): [number[], number[]] {
  const a = Array.from({ length: rng.int(1, 4) }, () => rng.int(1, 6));
  const b = a.slice(rng.int(0, a.length - 1)).map((s) => (rng.bool(0.4) ? 1 : s));
  return rng.bool() ? [a, b] : [b, a];
}

t('broadcasting Add/Sub/Mul/Div agree with wasm on random shapes (and scalars)', () => {
  const rng = new Rng(11);
  for (let k = 0; k < 200; k++) {
    const [sa, sb] = k < 4 ? [[], [3, 2]] : shapes(rng);
    const a = tf.randomNormal(sa, 0, 1, 'float32', k),
      b = tf.add(tf.abs(tf.randomNormal(sb, 0, 1, 'float32', k + 500)), 0.5);
    const [r, g] = both(() => [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), tf.sub(b, a), tf.div(b, a)]);
    assert.ok(maxRel(r, g) < 1e-6, `case ${k}: ${sa} ∘ ${sb}`);
    assert.equal(
      r.map((x) => x.length),
      g.map((x) => x.length),
    );
    tf.dispose([a, b]);
  }
});

t('Sum/Mean over every contiguous (and non-contiguous) axis set agree with wasm', () => {
  const rng = new Rng(12);
  for (let k = 0; k < 120; k++) {
    const shape = Array.from({ length: rng.int(1, 4) }, () => rng.int(1, 8));
    const x = tf.randomNormal(shape, 0, 1, 'float32', k);
    const r = shape.length;
    const lo = rng.int(0, r - 1),
      hi = rng.int(lo, r - 1);
    const axes = rng.bool(0.2) && r > 2 ? [0, r - 1] : Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
    const keep = rng.bool();
    const [a, b] = both(() => [tf.sum(x, axes, keep), tf.mean(x, axes, keep), tf.sum(x)]);
    assert.ok(maxRel(a, b) < 1e-5, `case ${k}: ${shape} over ${axes}`);
    tf.dispose(x);
  }
});

t('SplitV, Concat, Exp, Sigmoid and Identity agree with wasm', () => {
  const rng = new Rng(13);
  for (let k = 0; k < 60; k++) {
    const shape = Array.from({ length: rng.int(1, 3) }, () => rng.int(1, 6));
    const ax = rng.int(0, shape.length - 1);
    const x = tf.randomNormal(shape, 0, 1, 'float32', k);
    const cut = rng.int(0, shape[ax]);
    const y = tf.randomNormal(
      shape.map((s, d) => (d === ax ? rng.int(1, 4) : s)),
      0,
      1,
      'float32',
      k + 1,
    );
    const [a, b] = both(() => [
      ...tf.split(x, [cut, shape[ax] - cut], ax),
      tf.concat([x, y, x], ax),
      tf.exp(x),
      tf.sigmoid(x),
      tf.clone(x),
    ]);
    assert.ok(maxRel(a, b) < 1e-6, `case ${k}: ${shape} axis ${ax}`);
    tf.dispose([x, y]);
  }
});

t('exp is accurate to a few ulp over the float range (and keeps NaN, clamps −∞ to ~0)', () => {
  installBlasKernels();
  try {
    const xs = Float32Array.from({ length: 20001 }, (_, i) => -86 + (172 * i) / 20000);
    const got = tf.tidy(() => tf.exp(tf.tensor1d(xs)).dataSync());
    let worst = 0;
    xs.forEach((x, i) => (worst = Math.max(worst, Math.abs(got[i] - Math.exp(x)) / Math.exp(x))));
    assert.ok(worst < 5e-7, `max relative error ${worst}`);
    const edge = tf.tidy(() => tf.exp(tf.tensor1d([NaN, -Infinity, -1e9, 0])).dataSync());
    assert.ok(Number.isNaN(edge[0]));
    assert.ok(edge[1] >= 0 && edge[1] < 1e-37 && edge[2] < 1e-37);
    assert.is(edge[3], 1);
  } finally {
    uninstallBlasKernels();
  }
});

t('a shared Identity buffer is not disturbed when either tensor is disposed or a variable is reassigned', () => {
  installBlasKernels();
  try {
    const x = tf.tensor1d([1, 2, 3]);
    const c = x.clone();
    x.dispose();
    assert.equal([...c.dataSync()], [1, 2, 3]);
    const v = tf.variable(c.clone());
    const before = tf.memory().numTensors;
    v.assign(tf.tensor1d([7, 8, 9]));
    assert.equal([...c.dataSync()], [1, 2, 3]);
    assert.equal([...v.dataSync()], [7, 8, 9]);
    assert.ok(tf.memory().numTensors <= before + 1);
    tf.dispose([c, v]);
  } finally {
    uninstallBlasKernels();
  }
});

test.run();
