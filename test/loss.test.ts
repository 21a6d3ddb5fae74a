import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/backend';
import { Policy } from '../lib/model/policy';
import { grpoLoss, sequenceLogProbs, sequenceTensors, sftLoss, type SequenceBatch } from '../lib/loss';
import { AdamW, DEFAULT_OPTIM } from '../lib/model/optimizer';
import { groundingSplit } from '../lib/data/splits';
import { close, TINY } from './helpers';

const { ops } = await selectBackend(process.env.RSG_TEST_BACKEND ?? 'wasm');
const queries = groundingSplit('val', { count: 2 });
const G = 2;
// Two groups of two hand-made completions each (token ids of "… [ a , b , c , d ] </answer>").
function batchFor(p: Policy, rows: number[][]): SequenceBatch {
  return { enc: p.encoderInput(queries), group: G, ...sequenceTensors(rows, p.tok.bosId, p.tok.padId) };
}
const rowsFor = (p: Policy) =>
  ['[ 1 , 2 , 3 , 4 ]', '[ 9 , 9 , 20 , 20 ]', '[ 5 , 5 , 9 , 9 ]', '[ 30 , 30 , 40 , 40 ]'].map((a) =>
    p.completionIds(`<think> find it . </think> <answer> ${a} </answer>`),
  );
const base = { epsilon: 0.2, betaKL: 0 };

test('w scales the loss of its group exactly (against w = 1)', () => {
  const p = Policy.create(TINY, 1, ops);
  const b = batchFor(p, rowsFor(p));
  const adv = new Float32Array([1, -1, 0.5, -0.5]);
  const L = (w: number[]) =>
    tf.tidy(
      () =>
        grpoLoss(p, b, {
          ...base,
          advantages: adv,
          weights: new Float32Array(w),
          refLogProbs: null,
        }).loss.dataSync()[0],
    );
  const ones = L([1, 1, 1, 1]);
  close(L([2.5, 2.5, 2.5, 2.5]), 2.5 * ones, 1e-6);
  // Per group: L(w1, w2) = (w1·ℓ_group1 + w2·ℓ_group2)/…, linear in each w.
  const g1 = L([1, 1, 0, 0]),
    g2 = L([0, 0, 1, 1]);
  close(g1 + g2, ones, 1e-6);
  close(L([3, 3, 0.5, 0.5]), 3 * g1 + 0.5 * g2, 1e-6);
  p.dispose();
});

test('β_KL = 0 removes the reference model; β_KL > 0 adds k3 ≥ 0, which is 0 against itself', () => {
  const p = Policy.create(TINY, 2, ops);
  const b = batchFor(p, rowsFor(p));
  const adv = new Float32Array([1, -1, 0.5, -0.5]),
    w = new Float32Array([1, 1, 1, 1]);
  const other = Policy.create(TINY, 99, ops);
  const refOther = tf.tidy(() => sequenceLogProbs(other, b));
  const refSelf = tf.tidy(() => sequenceLogProbs(p, b));
  const run = (ref: tf.Tensor2D | null, betaKL: number) =>
    tf.tidy(() => {
      const r = grpoLoss(p, b, { epsilon: 0.2, betaKL, advantages: adv, weights: w, refLogProbs: ref });
      return [r.loss.dataSync()[0], r.kl.dataSync()[0]];
    });
  const [l0] = run(null, 0);
  close(run(refOther, 0)[0], l0, 1e-7);
  const [l1, kl1] = run(refOther, 0.04);
  assert.ok(kl1 > 0 && Math.abs(l1 - l0) > 1e-5);
  close(run(refSelf, 0.04)[1], 0, 1e-6);
  tf.dispose([refOther, refSelf]);
  p.dispose();
  other.dispose();
});

test('the gradient is the policy gradient −∇ mean_i A_i·mean_t log π (ratio = 1, clip inactive)', () => {
  const p = Policy.create(TINY, 3, ops);
  const b = batchFor(p, rowsFor(p));
  const adv = new Float32Array([1.3, -0.4, 0.2, -1.1]),
    w = new Float32Array([1, 1, 2, 2]);
  const vars = [...p.params.values()];
  const g1 = tf.variableGrads(
    () => grpoLoss(p, b, { ...base, advantages: adv, weights: w, refLogProbs: null }).loss,
    vars,
  );
  const g2 = tf.variableGrads(() => {
    const lp = sequenceLogProbs(p, b);
    const perRow = tf.div(tf.sum(tf.mul(lp, b.mask), 1), tf.sum(b.mask, 1));
    return tf.neg(tf.mean(tf.mul(perRow, tf.tensor1d(Array.from(adv, (a, i) => a * w[i]))))) as tf.Scalar;
  }, vars);
  // The loss value is −mean(A·w) because ρ = 1: (−1.3 + 0.4 − 0.4 + 2.2)/4 = 0.225. Only the gradients match the
  // surrogate's.
  close(g1.value.dataSync()[0], 0.225, 1e-6);
  for (const v of vars) {
    const a = g1.grads[v.name].dataSync(),
      c = g2.grads[v.name].dataSync();
    a.forEach((x, i) => close(x, c[i], 1e-5 + 1e-4 * Math.abs(c[i])));
  }
  tf.dispose([g1.value, g2.value, ...Object.values(g1.grads), ...Object.values(g2.grads)]);
  p.dispose();
});

test('with π_old given (μ > 1), the loss is the clipped surrogate computed per token by hand', () => {
  const p = Policy.create(TINY, 5, ops);
  const b = batchFor(p, rowsFor(p));
  const lp = tf.tidy(() => sequenceLogProbs(p, b));
  const [N, T] = lp.shape;
  // π_old: the current log-probs shifted per row, so ρ = exp(δ_row) ∈ {e^0.5, e^−0.5, e^0.1, e^−0.05}.
  const delta = [-0.5, 0.5, -0.1, 0.05];
  const old = tf.tidy(() => tf.add(lp, tf.tensor2d(delta.map((d) => Array(T).fill(d)))) as tf.Tensor2D);
  const adv = new Float32Array([1.3, -0.4, 0.2, -1.1]),
    w = new Float32Array([1, 1, 2, 2]),
    eps = 0.2;
  const parts = grpoLoss(p, b, {
    ...base,
    epsilon: eps,
    advantages: adv,
    weights: w,
    refLogProbs: null,
    oldLogProbs: old,
  });
  // Oracle: ℓ = −min(ρA, clip(ρ, 0.8, 1.2)A) per token; the row means of a constant are that constant.
  const mask = b.mask.arraySync();
  let want = 0,
    clipped = 0,
    tokens = 0;
  for (let n = 0; n < N; n++) {
    const rho = Math.exp(-delta[n]);
    const l = -Math.min(rho * adv[n], Math.min(Math.max(rho, 1 - eps), 1 + eps) * adv[n]);
    want += (w[n] * l) / N;
    const len = mask[n].reduce((s, x) => s + x, 0);
    tokens += len;
    if (rho < 1 - eps || rho > 1 + eps) clipped += len;
  }
  close(parts.loss.dataSync()[0], want, 1e-5);
  close(parts.clipFrac.dataSync()[0], clipped / tokens, 1e-6);
  assert.ok(clipped > 0 && clipped < tokens, 'the test covers both clipped and unclipped rows');
  tf.dispose([lp, old, parts.loss, parts.kl, parts.clipFrac]);
  p.dispose();
});

test('the KL term is k3 = e^d − d − 1 per token (d = log π_ref − log π), weighted by w, computed by hand', () => {
  const p = Policy.create(TINY, 6, ops);
  const b = batchFor(p, rowsFor(p));
  const lp = tf.tidy(() => sequenceLogProbs(p, b));
  const [N, T] = lp.shape;
  // the reference: the policy's log-probs shifted by a constant per row, so d = δ_row on every token
  const delta = [0.5, -0.5, 0.1, -0.05];
  const ref = tf.tidy(() => tf.add(lp, tf.tensor2d(delta.map((d) => Array(T).fill(d)))) as tf.Tensor2D);
  const w = new Float32Array([1, 2, 0.5, 1]),
    betaKL = 0.04;
  // zero advantages: the policy-gradient term is 0, the loss is β_KL · mean_n w_n · mean_t k3
  const parts = grpoLoss(p, b, { ...base, betaKL, advantages: new Float32Array(N), weights: w, refLogProbs: ref });
  const k3 = delta.map((d) => Math.exp(d) - d - 1);
  const lens = b.mask.arraySync().map((row) => row.reduce((s, x) => s + x, 0));
  close(parts.loss.dataSync()[0], (betaKL * k3.reduce((s, k, n) => s + w[n] * k, 0)) / N, 1e-6);
  close(parts.kl.dataSync()[0], k3.reduce((s, k, n) => s + lens[n] * k, 0) / lens.reduce((s, x) => s + x, 0), 1e-6);
  tf.dispose([lp, ref, parts.loss, parts.kl, parts.clipFrac]);
  p.dispose();
});

test('the SFT loss is the mean negative log-likelihood over completion tokens only: padding changes nothing', () => {
  const p = Policy.create(TINY, 7, ops);
  const rows = rowsFor(p);
  const T = Math.max(...rows.map((r) => r.length));
  const tight = { enc: p.encoderInput(queries), group: G, ...sequenceTensors(rows, p.tok.bosId, p.tok.padId) };
  const padded = { enc: p.encoderInput(queries), group: G, ...sequenceTensors(rows, p.tok.bosId, p.tok.padId, T + 7) };
  const lp = tf.tidy(() => sequenceLogProbs(p, tight));
  const mask = tight.mask.arraySync(),
    lps = lp.arraySync();
  let sum = 0,
    n = 0;
  mask.forEach((row, i) => row.forEach((m, t) => ((sum += m * lps[i][t]), (n += m))));
  const a = tf.tidy(() => sftLoss(p, tight).dataSync()[0]),
    c = tf.tidy(() => sftLoss(p, padded).dataSync()[0]);
  close(a, -sum / n, 1e-5);
  close(c, a, 1e-5);
  lp.dispose();
  p.dispose();
});

test('one update moves probability toward the higher-advantage completion', () => {
  const p = Policy.create(TINY, 4, ops);
  const b = batchFor(p, rowsFor(p));
  const logp = () =>
    tf.tidy(() => {
      const lp = sequenceLogProbs(p, b);
      return Array.from(tf.sum(tf.mul(lp, b.mask), 1).dataSync());
    });
  const before = logp();
  // Group 1: completion 0 is good (A > 0), completion 1 bad; group 2 the other way round.
  const adv = new Float32Array([1, -1, -1, 1]);
  const opt = new AdamW(p.params, { ...DEFAULT_OPTIM, lr: 1e-2 }, ops);
  const { value, grads } = tf.variableGrads(
    () => grpoLoss(p, b, { ...base, advantages: adv, weights: new Float32Array([1, 1, 1, 1]), refLogProbs: null }).loss,
    [...p.params.values()],
  );
  opt.apply(grads);
  tf.dispose([value, ...Object.values(grads)]);
  const after = logp();
  // Within each group, log π(good) − log π(bad) grows: mass moves toward the higher advantage.
  // (Absolute log-probs of the bad one may still rise: all four share most tokens.)
  assert.ok(after[0] - after[1] > before[0] - before[1] + 0.1, `group 1: ${before} → ${after}`);
  assert.ok(after[3] - after[2] > before[3] - before[2] + 0.1, `group 2: ${before} → ${after}`);
  assert.ok(after[0] > before[0] && after[3] > before[3]);
  opt.dispose();
  p.dispose();
});

test('SFT lowers the loss on a tiny set', () => {
  const p = Policy.create(TINY, 5, ops);
  const data = groundingSplit('train', { count: 8 });
  const b: SequenceBatch = {
    enc: p.encoderInput(data),
    group: 1,
    ...sequenceTensors(
      data.map((s) => p.completionIds((s.meta!.cot as Record<string, string>).short)),
      p.tok.bosId,
      p.tok.padId,
    ),
  };
  const opt = new AdamW(p.params, { ...DEFAULT_OPTIM, lr: 3e-3 }, ops);
  const losses: number[] = [];
  for (let i = 0; i < 50; i++) {
    const { value, grads } = tf.variableGrads(() => sftLoss(p, b), [...p.params.values()]);
    losses.push(value.dataSync()[0]);
    opt.apply(grads);
    tf.dispose([value, ...Object.values(grads)]);
  }
  assert.ok(losses[49] < 0.6 * losses[0], `${losses[0]} → ${losses[49]}`);
  assert.ok(losses[49] < losses[25] && losses[25] < losses[0]);
  opt.dispose();
  p.dispose();
});

test.run();
