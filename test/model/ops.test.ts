/**
 * lib/model/ops.ts: the composite tfjs ops — the reference every native kernel is tested against
 * (test/native/*) — against plain float64 oracles written here from their definitions: matrix
 * products with either operand transposed, layer norm, GELU, linear layers, the gated readout,
 * embeddings, log-probabilities at targets, multi-head attention (key mask, causal with fewer
 * queries than keys, the position readout) and the global norm.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend';
import { compositeOps } from '../../lib/model/ops';
import { Rng } from '../../lib/rng';

const backend = process.env.RSG_TEST_BACKEND ?? 'wasm';
await selectBackend(backend);

type M = number[][]; // row-major matrix
const rng = new Rng(5);
const rand = (r: number, c: number): M =>
  Array.from({ length: r }, () => Array.from({ length: c }, () => rng.normal()));
const T = (a: M): M => a[0].map((_, j) => a.map((row) => row[j]));
const mm = (a: M, b: M): M => a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const geluOf = (x: number) => x * sigmoid(1.702 * x);
function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** Every entry within 2e-5·max(1, |want|). */
function near(got: tf.Tensor, want: number[] | M | M[], what: string): void {
  const w = (want as unknown[]).flat(2) as number[];
  const g = got.dataSync();
  assert.is(g.length, w.length, `${what}: size`);
  w.forEach((x, i) =>
    assert.ok(Math.abs(g[i] - x) <= 2e-5 * Math.max(1, Math.abs(x)), `${what}[${i}]: ${g[i]} vs ${x}`),
  );
}

for (const explicitTranspose of [false, true]) {
  const ops = compositeOps('test', { explicitTranspose });
  const tag = `(${backend}${explicitTranspose ? ', explicit transposes' : ''})`;

  test(`matMul with either operand transposed ${tag}`, () => {
    const a = rand(3, 4),
      b = rand(4, 2);
    const want = mm(a, b);
    tf.tidy(() => {
      near(ops.matMul(tf.tensor2d(a), tf.tensor2d(b)), want, 'a·b');
      near(ops.matMul(tf.tensor2d(T(a)), tf.tensor2d(b), true), want, 'aᵀ·b');
      near(ops.matMul(tf.tensor2d(a), tf.tensor2d(T(b)), false, true), want, 'a·bᵀ');
      near(ops.matMul(tf.tensor2d(T(a)), tf.tensor2d(T(b)), true, true), want, 'aᵀ·bᵀ');
    });
  });
}

const ops = compositeOps('test', { explicitTranspose: backend === 'wasm' });

test('layerNorm, GELU and a linear layer with GELU and a residual', () => {
  const x = rand(2, 5),
    g = rand(1, 5)[0],
    b = rand(1, 5)[0],
    eps = 1e-5;
  const ln = x.map((row) => {
    const mu = row.reduce((s, v) => s + v, 0) / row.length;
    const vr = row.reduce((s, v) => s + (v - mu) ** 2, 0) / row.length; // biased, as tf.moments
    return row.map((v, j) => ((v - mu) / Math.sqrt(vr + eps)) * g[j] + b[j]);
  });
  const w = rand(5, 3),
    bias = rand(1, 3)[0],
    res = rand(2, 3);
  const lin = mm(x, w).map((row, i) => row.map((v, j) => res[i][j] + geluOf(v + bias[j])));
  tf.tidy(() => {
    near(ops.layerNorm(tf.tensor2d(x), tf.tensor1d(g), tf.tensor1d(b), eps), ln, 'layerNorm');
    near(
      ops.gelu(tf.tensor2d(x)),
      x.map((r) => r.map(geluOf)),
      'gelu',
    );
    // hand-computed: gelu(1) = 1·σ(1.702) = 0.845795…, gelu(−1) = −0.154204…
    near(ops.gelu(tf.tensor1d([1, -1, 0])), [0.8457957, -0.1542043, 0], 'gelu by hand');
    near(ops.linear(tf.tensor2d(x), tf.tensor2d(w), tf.tensor1d(bias), true, tf.tensor2d(res)), lin, 'linear');
    near(
      ops.linear(tf.tensor2d(x), tf.tensor2d(w), tf.tensor1d(bias), false),
      mm(x, w).map((r) => r.map((v, j) => v + bias[j])),
      'linear, no GELU',
    );
  });
});

test('gatedReadout: ctx·w + b + [first half of where · gate₀ | second half · gate₁]', () => {
  const d = 4,
    ctx = rand(2, d),
    where = rand(2, d),
    gate = rand(2, 2),
    w = rand(d, d),
    b = rand(1, d)[0];
  const lin = mm(ctx, w);
  const want = lin.map((row, r) => row.map((v, j) => v + b[j] + where[r][j] * gate[r][j < d / 2 ? 0 : 1]));
  const both = ctx.map((row, r) => [...row, ...where[r]]);
  tf.tidy(() =>
    near(ops.gatedReadout(tf.tensor2d(both), tf.tensor2d(gate), tf.tensor2d(w), tf.tensor1d(b)), want, 'readout'),
  );
});

test('embed gathers rows, and its gradient reaches the table only, summed per id', () => {
  const table = rand(4, 3);
  const ids = [2, 0, 2];
  const dy = rand(3, 3);
  tf.tidy(() => {
    const t = tf.tensor2d(table),
      idT = tf.tensor1d(ids, 'int32');
    near(
      ops.embed(idT, t),
      ids.map((i) => table[i]),
      'embed',
    );
    const grad = tf.grad((tab: tf.Tensor) => tf.sum(tf.mul(ops.embed(idT, tab), tf.tensor2d(dy))))(t);
    const want = table.map((row, i) => row.map((_, j) => ids.reduce((s, id, n) => s + (id === i ? dy[n][j] : 0), 0)));
    near(grad, want, 'd table');
  });
});

test('tokenLogProbs: x[target] − log Σ exp(x), and its gradient softmax − one-hot', () => {
  const logits = rand(3, 5).map((r) => r.map((v) => 3 * v));
  const targets = [4, 0, 2];
  const lse = (r: number[]) => Math.max(...r) + Math.log(r.reduce((s, v) => s + Math.exp(v - Math.max(...r)), 0));
  tf.tidy(() => {
    const x = tf.tensor2d(logits),
      tg = tf.tensor1d(targets, 'int32');
    near(
      ops.tokenLogProbs(x, tg),
      logits.map((r, i) => r[targets[i]] - lse(r)),
      'log p',
    );
    const g = tf.grad((l: tf.Tensor) => tf.sum(ops.tokenLogProbs(l, tg)))(x);
    near(
      g,
      logits.map((r, i) => softmax(r).map((p, j) => (j === targets[i] ? 1 : 0) - p)),
      'd logits',
    );
  });
});

/** Multi-head attention of one batch row in float64: q [Tq, d], k, v [Tk, d]. */
function attend(q: M, k: M, v: M, heads: number, mask: number[] | null, causal: boolean, pos: M | null): M {
  const Tq = q.length,
    Tk = k.length,
    d = q[0].length,
    dh = d / heads;
  const out: M = q.map(() => new Array<number>(d).fill(0));
  const meanP: M = q.map(() => new Array<number>(Tk).fill(0));
  for (let h = 0; h < heads; h++) {
    const cols = (r: number[]) => r.slice(h * dh, (h + 1) * dh);
    for (let i = 0; i < Tq; i++) {
      const s = k.map((kr, j) => {
        let x = cols(q[i]).reduce((a, qv, c) => a + qv * cols(kr)[c], 0) / Math.sqrt(dh);
        if (mask) x += mask[j];
        if (causal && j > Tk - Tq + i) x += -1e9;
        return x;
      });
      const p = softmax(s);
      p.forEach((pj, j) => (meanP[i][j] += pj / heads));
      for (let c = 0; c < dh; c++) out[i][h * dh + c] = p.reduce((a, pj, j) => a + pj * v[j][h * dh + c], 0);
    }
  }
  return pos ? out.map((row, i) => [...row, ...mm([meanP[i]], pos)[0]]) : out;
}

test('attention: key mask, causal with fewer queries than keys, position readout; selfAttention on qkv', () => {
  const heads = 2,
    d = 4,
    Tk = 4,
    Tq = 2,
    B = 2;
  const q = [rand(Tq, d), rand(Tq, d)],
    k = [rand(Tk, d), rand(Tk, d)],
    v = [rand(Tk, d), rand(Tk, d)];
  const mask = [
    [0, 0, -1e9, 0],
    [0, 0, 0, 0],
  ];
  const pos = rand(Tk, d);
  tf.tidy(() => {
    const [qt, kt, vt] = [q, k, v].map((x) => tf.tensor3d(x));
    const mt = tf.tensor2d(mask);
    near(
      ops.attention(qt, kt, vt, mt, null, heads, false),
      [0, 1].map((b) => attend(q[b], k[b], v[b], heads, mask[b], false, null)),
      'masked',
    );
    near(
      ops.attention(qt, kt, vt, null, null, heads, true),
      [0, 1].map((b) => attend(q[b], k[b], v[b], heads, null, true, null)),
      'causal',
    );
    near(
      ops.attention(qt, kt, vt, mt, tf.tensor2d(pos), heads, false),
      [0, 1].map((b) => attend(q[b], k[b], v[b], heads, mask[b], false, pos)),
      'with the position readout',
    );
    // self-attention over T = 3 positions packed as [q | k | v]
    const x = [rand(3, 3 * d), rand(3, 3 * d)];
    const parts = (m: M, p: number) => m.map((r) => r.slice(p * d, (p + 1) * d));
    near(
      ops.selfAttention(tf.tensor3d(x), null, heads, true),
      x.map((m) => attend(parts(m, 0), parts(m, 1), parts(m, 2), heads, null, true, null)),
      'selfAttention',
    );
    assert.equal(ops.attention(qt, kt, vt, null, null, heads, false).shape, [B, Tq, d]);
  });
});

test('globalNorm: √(Σ g²) over every tensor', () => {
  const ts = [tf.tensor1d([3, 4]), tf.tensor2d([[12]]), tf.tensor1d([0, 84])];
  assert.ok(Math.abs(ops.globalNorm(ts) - 85) < 1e-4); // 9 + 16 + 144 + 7056 = 7225
  tf.dispose(ts);
});

test.run();
