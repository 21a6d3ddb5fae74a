/**
 * lib/model/optimizer.ts against a plain float64 oracle written from the AdamW paper's update:
 * the learning-rate schedule at hand-computed points, and three AdamW steps (global-norm clipping,
 * bias correction, decoupled weight decay on matrices only) on the test backend's ops.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend';
import { AdamW, type OptimConfig, lrAt } from '../../lib/model/optimizer';
import { close } from '../helpers';

const backend = process.env.RSG_TEST_BACKEND ?? 'wasm';
const { ops } = await selectBackend(backend);

test('lrAt: linear warm-up, then cosine decay to minFrac·lr (hand-computed points)', () => {
  // warm-up 10 of 110 steps at lr 1: (step + 1)/10 while warming up, then t = (step − 10)/100
  close(lrAt(0, 110, 1, 10), 0.1);
  close(lrAt(4, 110, 1, 10), 0.5);
  close(lrAt(9, 110, 1, 10), 1);
  close(lrAt(10, 110, 1, 10), 1); // t = 0
  close(lrAt(35, 110, 1, 10), 0.1 + 0.9 * 0.5 * (1 + Math.SQRT1_2)); // t = 1/4: cos(π/4)
  close(lrAt(60, 110, 1, 10), 0.55); // t = 1/2: cos(π/2) = 0
  close(lrAt(110, 110, 1, 10), 0.1); // t = 1: minFrac
  close(lrAt(500, 110, 1, 10), 0.1); // held at the floor after the end
  close(lrAt(0, 100, 3e-4, 0), 3e-4); // no warm-up: the full rate at step 0
  close(lrAt(50, 100, 2, 0, 0), 1); // minFrac 0: half the rate half way
  for (let s = 10; s < 110; s++) assert.ok(lrAt(s + 1, 110, 1, 10) <= lrAt(s, 110, 1, 10), `decays at ${s}`);
});

type Arr = { shape: number[]; values: number[] };

/** The AdamW update in float64, written out element by element (no tfjs). */
function oracle(init: Record<string, Arr>, grads: Record<string, number[]>[], cfg: OptimConfig, decays: Set<string>) {
  const p = Object.fromEntries(Object.entries(init).map(([k, a]) => [k, [...a.values]]));
  const m = Object.fromEntries(Object.keys(init).map((k) => [k, init[k].values.map(() => 0)]));
  const v = Object.fromEntries(Object.keys(init).map((k) => [k, init[k].values.map(() => 0)]));
  const norms: number[] = [];
  grads.forEach((g, i) => {
    const step = i + 1;
    const norm = Math.sqrt(Object.values(g).reduce((s, xs) => s + xs.reduce((a, x) => a + x * x, 0), 0));
    norms.push(norm);
    const scale = cfg.clipNorm > 0 && norm > cfg.clipNorm ? cfg.clipNorm / norm : 1;
    const c1 = 1 - cfg.beta1 ** step,
      c2 = 1 - cfg.beta2 ** step;
    for (const k of Object.keys(init)) {
      const wd = decays.has(k) ? cfg.weightDecay : 0;
      for (let j = 0; j < p[k].length; j++) {
        const gj = g[k][j] * scale;
        m[k][j] = cfg.beta1 * m[k][j] + (1 - cfg.beta1) * gj;
        v[k][j] = cfg.beta2 * v[k][j] + (1 - cfg.beta2) * gj * gj;
        const update = m[k][j] / c1 / (Math.sqrt(v[k][j] / c2) + cfg.eps);
        p[k][j] -= cfg.lr * (update + wd * p[k][j]);
      }
    }
  });
  return { p, m, v, norms };
}

test(`AdamW (${backend}): three steps equal the float64 oracle (clipping, bias correction, decay)`, () => {
  const cfg: OptimConfig = { lr: 0.05, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.1, clipNorm: 1 };
  const init: Record<string, Arr> = {
    'l.w': { shape: [2, 3], values: [0.5, -1, 2, 0.25, -0.125, 1.5] }, // a matrix: decays
    'l.b': { shape: [3], values: [0.3, -0.7, 0.05] }, // a bias: no decay
    tok_emb: { shape: [2, 2], values: [1, -2, 0.75, 0.5] }, // an embedding: no decay
    dec_pos: { shape: [2, 2], values: [-0.4, 0.9, 0.1, -1.1] }, // position codes: no decay
  };
  // step 1: global norm ≈ 6.5 (clipped to 1); step 2: ≈ 0.13 (not clipped); step 3: ≈ 1.7 (clipped)
  const grads: Record<string, number[]>[] = [
    { 'l.w': [3, -2, 1, 4, 0.5, -1], 'l.b': [1, 2, -1], tok_emb: [0.5, 0, -0.5, 1], dec_pos: [2, -1, 0, 1] },
    {
      'l.w': [0.05, -0.02, 0.01, 0.04, 0, 0.03],
      'l.b': [0.01, 0.02, -0.1],
      tok_emb: [0, 0.05, 0, -0.02],
      dec_pos: [0.01, 0, 0, 0],
    },
    {
      'l.w': [-1, 0.5, 0.25, -0.5, 0.1, 0.8],
      'l.b': [0.3, -0.2, 0.1],
      tok_emb: [0.2, -0.1, 0.4, 0],
      dec_pos: [0, 0.6, -0.3, 0.2],
    },
  ];
  const want = oracle(init, grads, cfg, new Set(['l.w']));
  assert.ok(want.norms[0] > 1 && want.norms[1] < 1 && want.norms[2] > 1, `norms ${want.norms}`);

  const params = new Map(
    Object.entries(init).map(([k, a]) => [k, tf.variable(tf.tensor(a.values, a.shape), true, `optimizer-test/${k}`)]),
  );
  const opt = new AdamW(params, cfg, ops);
  const norms = grads.map((g) => {
    const gs = Object.fromEntries(
      Object.keys(init).map((k) => [`optimizer-test/${k}`, tf.tensor(g[k], init[k].shape)]),
    );
    const n = opt.apply(gs);
    tf.dispose(Object.values(gs));
    return n;
  });
  norms.forEach((n, i) => close(n, want.norms[i], 1e-5 * want.norms[i], `norm ${i}`));
  for (const k of Object.keys(init)) {
    const got = { p: params.get(k)!.dataSync(), m: opt.m.get(k)!.dataSync(), v: opt.v.get(k)!.dataSync() };
    for (const s of ['p', 'm', 'v'] as const)
      got[s].forEach((x, j) => {
        const w = want[s][k][j];
        close(x, w, 2e-6 * Math.max(1, Math.abs(w)), `${s} ${k}[${j}]`);
      });
  }
  // the decay matters at this tolerance: without it l.w[2] would end 0.05·0.1·~2 ≈ 0.01 away per step
  const noDecay = oracle(init, grads, cfg, new Set());
  assert.ok(Math.abs(noDecay.p['l.w'][2] - want.p['l.w'][2]) > 1e-3);
  assert.is(opt.step, 3);
  tf.dispose([...params.values()]);
  opt.dispose();
});

test('AdamW: a parameter without a gradient is an error that names it', () => {
  const params = new Map([['a.w', tf.variable(tf.ones([2, 2]), true, 'optimizer-test/missing')]]);
  const opt = new AdamW(params, { lr: 0.1, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0, clipNorm: 0 }, ops);
  assert.throws(() => opt.apply({}), /AdamW: no gradient for parameter optimizer-test\/missing/);
  assert.is(opt.step, 0);
  tf.dispose([...params.values()]);
  opt.dispose();
});

test.run();
