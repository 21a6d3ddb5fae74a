import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend';
import { blasAvailable, blasUnavailableReason } from '../../lib/native/blas';
import { FastDecoder, fastInferenceAvailable, fastSequenceLogProbs } from '../../lib/native/decoder';
import { Policy } from '../../lib/model/policy';
import { crossKV, decode, encode, tokenLogProbs } from '../../lib/model/network';
import { sequenceTensors } from '../../lib/loss';
import { groundingSplit } from '../../lib/data/splits';
import { Rng } from '../../lib/rng';

const available = blasAvailable();
if (!available) console.log(`fast-inference tests skipped: ${blasUnavailableReason()}`);
const t = available ? test : test.skip;
if (available) await selectBackend('blas');
const TINY = { imageSize: 64, patchSize: 16, dModel: 16, nHeads: 2, nEncLayers: 1, nDecLayers: 2, ffnMult: 2, maxQueryLen: 12, maxCompletionLen: 20 };
const samples = groundingSplit('val', { count: 3 });

/** A tiny policy with weights far from their (near-uniform-logits) initial values. */
function shaken(seed: number, positionReadout = true): Policy {
  const p = Policy.create({ ...TINY, positionReadout }, seed);
  let k = 0;
  for (const v of p.params.values()) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', seed * 1000 + k++))));
  return p;
}

function randomSequences(rng: Rng, N: number, V: number, lens: number[]): number[][] {
  return Array.from({ length: N }, (_, n) => Array.from({ length: lens[n % lens.length] }, () => rng.int(0, V - 1)));
}

t('the fast path is what the blas backend uses', () => {
  assert.ok(fastInferenceAvailable());
});

for (const readout of [true, false]) {
  t(`teacher-forced log-probs equal the tfjs decoder's (G = 2, ragged lengths, readout ${readout})`, () => {
    const p = shaken(1, readout), G = 2;
    const seqs = randomSequences(new Rng(3), 3 * G, p.tok.size, [7, 3, 5, 1]);
    const enc = p.encoderInput(samples);
    const s = sequenceTensors(seqs, p.tok.bosId, p.tok.padId);
    const want = tf.tidy(() => tokenLogProbs(decode(p.params, p.cfg, s.inputIds, crossKV(p.params, p.cfg, encode(p.params, p.cfg, enc)), enc.keyMask, G), s.targets).dataSync());
    const got = fastSequenceLogProbs(p.params, p.cfg, enc, s.inputIds.dataSync() as Int32Array, s.targets.dataSync() as Int32Array, G, s.inputIds.shape[1]);
    assert.equal(got.length, want.length);
    let worst = 0;
    got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]))));
    assert.ok(worst < 1e-4, `max |Δ log π| = ${worst}`);
    // The log-probs are not trivially uniform (the check would be weak otherwise).
    assert.ok(Math.max(...want) - Math.min(...want) > 1, 'spread of log-probs');
    tf.dispose([enc.patches, enc.queryIds, enc.keyMask, s.inputIds, s.targets, s.mask]);
    p.dispose();
  });
}

t('one token at a time with the cache equals all positions at once', () => {
  const p = shaken(2), G = 3, T = 6, V = p.tok.size;
  const seqs = randomSequences(new Rng(4), 2 * G, V, [T]);
  const enc = p.encoderInput(samples.slice(0, 2));
  const ids = new Int32Array(2 * G * T);
  seqs.forEach((r, n) => r.forEach((k, i) => (ids[n * T + i] = k)));
  const all = new FastDecoder(p.params, p.cfg, enc, G, T).step(ids, 0, T);
  const inc = new FastDecoder(p.params, p.cfg, enc, G, T);
  for (let i = 0; i < T; i++) {
    const cur = Int32Array.from({ length: 2 * G }, (_, n) => ids[n * T + i]);
    const lg = inc.step(cur, i, 1);
    for (let n = 0; n < 2 * G; n++) for (let j = 0; j < V; j++) {
      const a = lg[n * V + j], b = all[(n * T + i) * V + j];
      assert.ok(Math.abs(a - b) < 1e-4, `row ${n} t ${i} token ${j}: ${a} vs ${b}`);
    }
  }
  tf.dispose([enc.patches, enc.queryIds, enc.keyMask]);
  p.dispose();
});

t('greedy generation on the fast path writes the tfjs decoder\'s argmax at every step', () => {
  const p = shaken(5), G = 1;
  const gen = p.generate(samples, new Rng(1), { group: G, temperature: 1, maxLen: 12, greedy: true });
  // Re-score the generated text teacher-forced on tfjs: each token must be that position's argmax.
  const enc = p.encoderInput(samples);
  const s = sequenceTensors(gen.ids, p.tok.bosId, p.tok.padId);
  const lp = tf.tidy(() => tf.logSoftmax(decode(p.params, p.cfg, s.inputIds, crossKV(p.params, p.cfg, encode(p.params, p.cfg, enc)), enc.keyMask, G)).arraySync());
  gen.ids.forEach((row, n) => row.forEach((k, i) => {
    const r = lp[n][i], best = Math.max(...r);
    assert.ok(r[k] >= best - 1e-4, `row ${n} step ${i}: chose ${k} (${r[k]}), best ${best}`);
    assert.ok(Math.abs(gen.logProbs[n][i] - r[k]) < 1e-4, `row ${n} step ${i}: log-prob`);
  }));
  assert.ok(gen.ids.some((r) => r.length > 1));
  tf.dispose([enc.patches, enc.queryIds, enc.keyMask, s.inputIds, s.targets, s.mask]);
  p.dispose();
});

t('FastDecoder.logSoftmax normalises each row', () => {
  const p = shaken(6);
  const enc = p.encoderInput(samples.slice(0, 1));
  const dec = new FastDecoder(p.params, p.cfg, enc, 1, 2);
  const V = p.cfg.vocabSize;
  const x = new Float32Array(2 * V).map((_, i) => (i % 7) - 3 + (i === 5 ? 1e3 : 0));
  const raw = x.slice();
  dec.logSoftmax(x);
  for (const o of [0, V]) {
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(x[o + j]);
    assert.ok(Math.abs(z - 1) < 1e-5, `row sum ${z}`);
    // log-softmax differs from the input by one constant per row
    for (let j = 1; j < V; j++) assert.ok(Math.abs((x[o + j] - x[o]) - (raw[o + j] - raw[o])) < 1e-3);
  }
  tf.dispose([enc.patches, enc.queryIds, enc.keyMask]);
  p.dispose();
});

test.run();
