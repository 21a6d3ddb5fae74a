/**
 * The blas ops (lib/native/ops.ts: one native kernel each way for linear layers, layer norm, GELU,
 * attention and AdamW) against the composite tfjs ops (lib/model/ops.ts) on the same backend: values and
 * gradients of each op, AdamW step for step, and a whole policy's loss and every parameter's
 * gradient. Both implement one set of formulas; they may differ by float rounding only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend';
import { blasAvailable, blasUnavailableReason, loadNative } from '../../lib/native/addon';
import { compositeOps, type Ops } from '../../lib/model/ops';
import { AdamW } from '../../lib/model/optimizer';
import { Policy } from '../../lib/model/policy';
import { sequenceTensors, sftLoss } from '../../lib/loss';
import { type Net, disposeEncoderInput, ownedVariable } from '../../lib/model/network';
import { groundingSplit } from '../../lib/data/splits';
import { Rng } from '../../lib/rng';
import { TINY } from '../helpers';

const available = blasAvailable();
if (!available) console.log(`blas ops tests skipped: ${blasUnavailableReason()}`);
const t = available ? test : test.skip;
const fused: Ops | null = available ? (await selectBackend('blas')).ops : null;
const composite = compositeOps('blas', { explicitTranspose: false });

function maxRel(a: Float32Array[], b: Float32Array[]): number {
  assert.is(a.length, b.length);
  let w = 0;
  a.forEach((x, i) => {
    assert.is(x.length, b[i].length, `output ${i} has another size`);
    x.forEach((v, j) => (w = Math.max(w, Math.abs(v - b[i][j]) / (1 + Math.abs(v)))));
  });
  return w;
}

/** f's value and its gradients with respect to xs, for one set of ops. */
function valueAndGrads(ops: Ops, f: (ops: Ops, ...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): Float32Array[] {
  return tf.tidy(() => {
    const y = f(ops, ...xs);
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 99);
    const grads = tf.grads((...zs: tf.Tensor[]) => tf.sum(tf.mul(f(ops, ...zs), dy)))(xs);
    return [y, ...grads].map((z) => z.dataSync() as Float32Array);
  });
}

function agree(f: (ops: Ops, ...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], tol: number, what: string): void {
  const a = valueAndGrads(composite, f, xs);
  const b = valueAndGrads(fused!, f, xs);
  const worst = maxRel(a, b);
  assert.ok(worst < tol, `${what}: max rel ${worst}`);
  assert.ok(
    a.slice(1).every((g) => g.some((x) => x !== 0)),
    `${what}: every input gets a gradient`,
  );
}

t('layer norm and GELU: values and gradients equal the composite ops', () => {
  const x = tf.randomNormal([5, 7, 12], 0, 2, 'float32', 1);
  const g = tf.randomNormal([12], 1, 0.3, 'float32', 2);
  const b = tf.randomNormal([12], 0, 1, 'float32', 3);
  agree((ops, z, gg, bb) => ops.layerNorm(z, gg, bb, 1e-5), [x, g, b], 2e-5, 'layer norm');
  agree((ops, z) => ops.gelu(z), [x], 2e-5, 'GELU');
  agree((ops, z, gg, bb) => ops.gelu(ops.layerNorm(z, gg, bb, 1e-5)), [x, g, b], 2e-5, 'GELU ∘ layer norm');
  // the comparison can fail: a GELU with another slope is caught
  const wrong: Ops = { ...composite, gelu: (z) => tf.mul(z, tf.sigmoid(tf.mul(z, 1.6))) };
  assert.ok(
    maxRel(
      valueAndGrads(composite, (o, z) => o.gelu(z), [x]),
      valueAndGrads(wrong, (o, z) => o.gelu(z), [x]),
    ) > 1e-3,
  );
  tf.dispose([x, g, b]);
});

t("layer norm's gradient with a residual's added in the same pass: the bits of an Add after it", () => {
  const run = (name: string, inputs: Record<string, tf.Tensor>, attrs = {}) =>
    tf.engine().runKernel(name, inputs as never, attrs) as tf.Tensor[];
  tf.tidy(() => {
    // rows of the width the policy uses and an odd one (vector loops and their tails)
    for (const d of [96, 13]) {
      const x = tf.randomNormal([3, 37, d], 0, 2, 'float32', 21);
      const g = tf.randomNormal([d], 1, 0.3, 'float32', 22);
      const b = tf.randomNormal([d], 0, 0.3, 'float32', 23);
      const [, mean, rstd] = run('RsgLayerNorm', { x, g, b }, { eps: 1e-5 });
      const dy = tf.randomNormal(x.shape, 0, 1, 'float32', 24);
      const res = tf.randomNormal(x.shape, 0, 1, 'float32', 25);
      const plain = run('RsgLayerNormGrad', { dy, x, g, mean, rstd });
      const withRes = run('RsgLayerNormGrad', { dy, x, g, mean, rstd, res });
      const want = [tf.add(res, plain[0]), plain[1], plain[2]].map((z) => z.dataSync());
      const got = withRes.map((z) => z.dataSync());
      want.forEach((w, i) =>
        assert.ok(
          w.every((v, j) => Object.is(v, got[i][j])),
          `d ${d}: output ${i} differs`,
        ),
      );
      // the residual was added (not ignored) where the two differ
      assert.ok(got[0].some((v, j) => v !== plain[0].dataSync()[j]));
    }
  });
});

t('linear layers with and without GELU and a residual: values and gradients equal the composite ops', () => {
  for (const [rows, K, N] of [
    [150, 12, 20],
    [3, 5, 1],
  ]) {
    const x = tf.randomNormal([rows, K], 0, 1.5, 'float32', 4);
    const w = tf.randomNormal([K, N], 0, 0.5, 'float32', 5);
    const b = tf.randomNormal([N], 0, 1, 'float32', 6);
    const res = tf.randomNormal([rows, N], 0, 1, 'float32', 10);
    for (const gelu of [false, true]) {
      const what = `linear ${rows}×${K}×${N} gelu ${gelu}`;
      agree((ops, z, ww, bb) => ops.linear(z, ww, bb, gelu), [x, w, b], 2e-5, what);
      agree((ops, z, ww, bb, rr) => ops.linear(z, ww, bb, gelu, rr), [x, w, b, res], 2e-5, `${what} + residual`);
    }
    // the comparison can fail: a bias left out is caught
    const noBias: Ops = { ...fused!, linear: (z, ww, bb, gelu) => fused!.linear(z, ww, tf.zerosLike(bb), gelu) };
    assert.ok(
      maxRel(
        valueAndGrads(composite, (o, z, ww, bb) => o.linear(z, ww, bb, true), [x, w, b]).slice(0, 1),
        valueAndGrads(noBias, (o, z, ww, bb) => o.linear(z, ww, bb, true), [x, w, b]).slice(0, 1),
      ) > 1e-3,
    );
    tf.dispose([x, w, b, res]);
  }
});

t("a linear layer gives the unfused kernels' bits (matMul, Add, GELU, Add and gradients) on 1 and 2 threads", () => {
  const nat = loadNative()!;
  const before = nat.config().threads;
  // the blas kernels one by one: what the policy ran before the fused kernel
  const unfused: Ops = {
    ...fused!,
    linear: (x, w, b, gelu, res) => {
      const z = tf.add(fused!.matMul(x, w), b);
      const y = gelu ? fused!.gelu(z) : z;
      return res ? tf.add(res, y) : y;
    },
  };
  try {
    // split by rows (rows ≥ 4N) and by columns (rows < 4N) across threads, both above the work threshold
    for (const [rows, K, N] of [
      [2048, 64, 64],
      [512, 96, 288],
    ]) {
      const x = tf.randomNormal([rows, K], 0, 1, 'float32', 7);
      const w = tf.randomNormal([K, N], 0, 0.3, 'float32', 8);
      const b = tf.randomNormal([N], 0, 1, 'float32', 9);
      const res = tf.randomNormal([rows, N], 0, 1, 'float32', 11);
      for (const threads of [1, 2]) {
        nat.setThreads(threads);
        for (const [gelu, withRes] of [
          [false, false],
          [true, false],
          [false, true],
          [true, true],
        ]) {
          const f = (o: Ops, z: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, rr?: tf.Tensor) =>
            o.linear(z, ww, bb, gelu, rr);
          const xs = withRes ? [x, w, b, res] : [x, w, b];
          const a = valueAndGrads(unfused, f, xs),
            c = valueAndGrads(fused!, f, xs);
          a.forEach((u, i) =>
            assert.ok(
              u.every((v, j) => Object.is(v, c[i][j])),
              `${rows}×${K}×${N}, ${threads} thread(s), gelu ${gelu}, residual ${withRes}: output ${i} differs`,
            ),
          );
        }
      }
      tf.dispose([x, w, b, res]);
    }
  } finally {
    nat.setThreads(before);
  }
});

t("the position readout's output layer: the composite's values and gradients, and the unfused kernels' bits", () => {
  const nat = loadNative()!;
  const before = nat.config().threads;
  // the blas kernels one by one (splits, products, concat, linear, Add): what the policy ran before
  const unfused: Ops = { ...fused!, gatedReadout: composite.gatedReadout.bind(fused!) };
  const f = (o: Ops, bo: tf.Tensor, g: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => o.gatedReadout(bo, g, ww, bb);
  try {
    for (const [rows, d] of [
      [30, 8],
      [4096, 96], // above the threads' work threshold: the products split by rows
      [64, 96], // split by columns
    ]) {
      const both = tf.randomNormal([rows, 2 * d], 0, 1, 'float32', 12);
      const gate = tf.sigmoid(tf.randomNormal([rows, 2], 0, 2, 'float32', 13));
      const w = tf.randomNormal([d, d], 0, 0.3, 'float32', 14);
      const b = tf.randomNormal([d], 0, 1, 'float32', 15);
      if (rows === 30) agree(f, [both, gate, w, b], 2e-5, 'gated readout');
      for (const threads of [1, 2]) {
        nat.setThreads(threads);
        const a = valueAndGrads(unfused, f, [both, gate, w, b]),
          c = valueAndGrads(fused!, f, [both, gate, w, b]);
        a.forEach((u, i) =>
          assert.ok(
            u.every((v, j) => Object.is(v, c[i][j])),
            `${rows}×${d}, ${threads} thread(s): output ${i} differs`,
          ),
        );
      }
      // the comparison can fail: gates swapped are caught
      const swapped: Ops = {
        ...fused!,
        gatedReadout: (bo, g, ww, bb) => fused!.gatedReadout(bo, tf.reverse(g, -1), ww, bb),
      };
      assert.ok(
        maxRel(valueAndGrads(fused!, f, [both, gate, w, b]), valueAndGrads(swapped, f, [both, gate, w, b])) > 1e-3,
      );
      tf.dispose([both, gate, w, b]);
    }
  } finally {
    nat.setThreads(before);
  }
});

for (const [causal, withMask, withPos] of [
  [false, false, false],
  [false, true, false],
  [true, false, false],
  [false, true, true],
  [true, false, true],
] as const) {
  t(`attention (causal ${causal}, key mask ${withMask}, position readout ${withPos}) equals the composite`, () => {
    const B = 3,
      T = 6,
      d = 8,
      heads = 2;
    const q = tf.randomNormal([B, T, d], 0, 1, 'float32', 11);
    const k = tf.randomNormal([B, T, d], 0, 1, 'float32', 12);
    const v = tf.randomNormal([B, T, d], 0, 1, 'float32', 13);
    // additive key mask: the last two keys of row 1 and the last key of row 2 are padding
    const maskRows = [0, 1, 2].map((r) => Array.from({ length: T }, (_, j) => (j >= T - r ? -1e9 : 0)));
    const mask = withMask ? tf.tensor2d(maskRows) : null;
    const pos = withPos ? tf.randomNormal([T, d], 0, 0.5, 'float32', 14) : null;
    const f = (ops: Ops, qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
      ops.attention(qq, kk, vv, mask, pos, heads, causal);
    const [y] = valueAndGrads(composite, f, [q, k, v]);
    assert.is(y.length, B * T * (withPos ? 2 * d : d));
    agree(f, [q, k, v], 1e-4, 'attention');
    tf.dispose([q, k, v, ...(mask ? [mask] : []), ...(pos ? [pos] : [])]);
  });
}

t('self-attention on a packed qkv equals the composite (split, then attention)', () => {
  const qkv = tf.randomNormal([3, 6, 24], 0, 1, 'float32', 15);
  const mask = tf.tensor2d([0, 1, 2].map((r) => Array.from({ length: 6 }, (_, j) => (j >= 6 - r ? -1e9 : 0))));
  for (const causal of [false, true]) {
    agree((ops, x) => ops.selfAttention(x, causal ? null : mask, 2, causal), [qkv], 1e-4, `causal ${causal}`);
    // the packed kernel computes what the three-tensor kernel computes, to the bit
    const [a, b] = [
      (ops: Ops, x: tf.Tensor) => ops.selfAttention(x, mask, 2, causal),
      (ops: Ops, x: tf.Tensor) => {
        const [q, k, v] = tf.split(x, 3, -1);
        return ops.attention(q, k, v, mask, null, 2, causal);
      },
    ].map((f) => valueAndGrads(fused!, f, [qkv]));
    assert.equal(Array.from(a[0]), Array.from(b[0]), 'values');
    assert.equal(Array.from(a[1]), Array.from(b[1]), 'gradients');
  }
  tf.dispose([qkv, mask]);
});

t('token embeddings and log-probs at the targets: values and gradients equal the composite ops', () => {
  // repeated ids: the table's gradient sums several rows into one
  const ids = tf.tensor2d([3, 0, 3, 5, 1, 3, 0, 6], [2, 4], 'int32');
  const table = tf.randomNormal([7, 5], 0, 1, 'float32', 21);
  agree((ops, tt) => ops.embed(ids, tt), [table], 1e-6, 'embedding');
  const [rows] = valueAndGrads(fused!, (ops, tt) => ops.embed(ids, tt), [table]);
  assert.equal(
    Array.from(rows.slice(0, 5)),
    Array.from(table.dataSync().slice(15, 20)),
    'row 0 is table row 3, exactly',
  );
  const logits = tf.randomNormal([2, 4, 7], 0, 3, 'float32', 22);
  agree((ops, x) => ops.tokenLogProbs(x, ids), [logits], 2e-5, 'log-probs at the targets');
  // the comparison can fail: log-probs at the wrong targets are caught
  const shifted = tf.tensor2d([2, 0, 3, 5, 1, 3, 0, 6], [2, 4], 'int32');
  const a = valueAndGrads(composite, (ops, x) => ops.tokenLogProbs(x, ids), [logits]);
  const b = valueAndGrads(fused!, (ops, x) => ops.tokenLogProbs(x, shifted), [logits]);
  assert.ok(maxRel(a, b) > 1e-2);
  const outside = tf.tensor2d([7, 0], [1, 2], 'int32');
  assert.throws(() => fused!.embed(outside, table), /RsgEmbed: ids\[0\] = 7 is outside 0 … 6/);
  assert.throws(
    () => fused!.tokenLogProbs(tf.zeros([1, 2, 7]), outside),
    /RsgTokenLogProbs: targets\[0\] = 7 is outside 0 … 6/,
  );
  tf.dispose([ids, table, logits, shifted, outside]);
});

t('AdamW (clipping, decoupled decay on matrices only) follows the composite update step for step', () => {
  const run = (ops: Ops) => {
    const params = new Map([
      ['w.w', tf.variable(tf.randomNormal([6, 5], 0, 1, 'float32', 1), true, 'w.w')],
      ['b.b', tf.variable(tf.randomNormal([5], 0, 1, 'float32', 2), true, 'b.b')],
      ['tok_emb', tf.variable(tf.randomNormal([4, 5], 0, 1, 'float32', 3), true, 'tok_emb')],
    ]);
    const opt = new AdamW(params, { lr: 0.05, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.1, clipNorm: 1 }, ops);
    const norms: number[] = [];
    for (let s = 0; s < 4; s++) {
      const grads = Object.fromEntries(
        [...params.values()].map((v, i) => [v.name, tf.randomNormal(v.shape, 0, s + 1, 'float32', 1 + 10 * s + i)]),
      );
      norms.push(opt.apply(grads));
      tf.dispose(Object.values(grads));
    }
    const out = [...params.values(), ...opt.m.values(), ...opt.v.values()].map((x) => x.dataSync() as Float32Array);
    tf.dispose([...params.values(), ...opt.m.values(), ...opt.v.values()]);
    return { out, norms };
  };
  const a = run(composite),
    b = run(fused!);
  const worst = maxRel(a.out, b.out);
  assert.ok(worst < 1e-5, `max rel ${worst}`);
  a.norms.forEach((n, i) => assert.ok(Math.abs(n - b.norms[i]) < 1e-4 * n, `norm ${i}: ${n} vs ${b.norms[i]}`));
  assert.ok(
    a.norms.some((n) => n > 1),
    'clipping exercised',
  );
});

t('AdamW on blas writes over parameters alone on their memory, never over memory another tensor shares', () => {
  const cfg = { lr: 0.05, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.1, clipNorm: 0 };
  const make = () =>
    new Map([
      ['ip.w', ownedVariable(tf.randomNormal([7, 5], 0, 1, 'float32', 31), true, 'ip.w')],
      ['ip.b', ownedVariable(tf.randomNormal([5], 0, 1, 'float32', 32), true, 'ip.b')],
    ]);
  const grads = (ps: Map<string, tf.Variable>, s: number) =>
    Object.fromEntries([...ps.values()].map((v, i) => [v.name, tf.randomNormal(v.shape, 0, 1, 'float32', 40 + s + i)]));
  const run = (ops: Ops, share: boolean) => {
    const ps = make();
    const frozen = share ? ps.get('ip.b')!.clone() : null; // shares ip.b's memory, as a frozen copy does
    const before = frozen?.dataSync().slice();
    const ids = [...ps.values()].map((v) => v.dataId);
    const opt = new AdamW(ps, cfg, ops);
    for (let s = 0; s < 3; s++) {
      const g = grads(ps, s);
      opt.apply(g);
      tf.dispose(Object.values(g));
      if (s === 0 && frozen) {
        assert.equal(frozen.dataSync(), before, 'the tensor sharing ip.b did not change');
        assert.is.not(ps.get('ip.b')!.dataId, ids[1], 'ip.b shared its memory: it got new memory');
      }
    }
    const stillAlone = [...ps.values()].map((v, i) => v.dataId === ids[i]);
    const out = [...ps.values(), ...opt.m.values(), ...opt.v.values()].map((x) => x.dataSync() as Float32Array);
    tf.dispose([...ps.values(), ...(frozen ? [frozen] : [])]);
    opt.dispose();
    return { out, stillAlone };
  };
  const ref = run(composite, false);
  const alone = run(fused!, false),
    shared = run(fused!, true);
  assert.equal(alone.stillAlone, [true, true], 'parameters alone on their memory are updated in place');
  assert.equal(shared.stillAlone, [true, false]);
  for (const r of [alone, shared]) assert.ok(maxRel(ref.out, r.out) < 1e-5, `max rel ${maxRel(ref.out, r.out)}`);
  // the composite path really assigns new tensors: the comparison above is between two methods
  assert.equal(run(composite, false).stillAlone, [false, false]);
});

for (const readout of [true, false]) {
  t(`a policy's SFT loss and every parameter's gradient equal the composite ops' (readout ${readout})`, () => {
    const arch = { ...TINY, nEncLayers: 2, nDecLayers: 2, maxCompletionLen: 20, positionReadout: readout };
    const pf = Policy.create(arch, 4, fused!);
    let k = 0;
    for (const v of pf.params.values())
      v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 100 + k++))));
    const pc: Net = { params: pf.params, cfg: pf.cfg, ops: composite };
    const samples = groundingSplit('val', { count: 3 });
    const enc = pf.encoderInput(samples);
    const G = 2;
    const rng = new Rng(9);
    const seqs = Array.from({ length: 3 * G }, (_, n) =>
      Array.from({ length: 3 + (n % 4) }, () => rng.int(0, pf.tok.size - 1)),
    );
    const s = sequenceTensors(seqs, pf.tok.bosId, pf.tok.padId);
    const vars = [...pf.params.values()];
    const run = (p: Net) =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => sftLoss(p, { enc, group: G, ...s }), vars);
        return [value.dataSync() as Float32Array, ...vars.map((v) => grads[v.name].dataSync() as Float32Array)];
      });
    const a = run(pc),
      b = run(pf);
    const worst = maxRel(a, b);
    assert.ok(worst < 1e-4, `max rel ${worst}`);
    assert.ok(
      a.slice(1).every((g) => g.some((x) => x !== 0)),
      'every parameter gets a gradient',
    );
    tf.dispose([s.inputIds, s.targets, s.mask]);
    disposeEncoderInput(enc);
    pf.dispose();
  });
}

test.run();
