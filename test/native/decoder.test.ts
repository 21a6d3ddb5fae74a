import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend';
import { blasAvailable, blasUnavailableReason, loadNative } from '../../lib/native/addon';
import { FastDecoder } from '../../lib/native/decoder';
import { Policy } from '../../lib/model/policy';
import { AdamW, DEFAULT_OPTIM } from '../../lib/model/optimizer';
import {
  DEFAULT_POLICY,
  type Net,
  TfjsDecoder,
  crossKV,
  decode,
  disposeEncoderInput,
  encode,
  tokenLogProbs,
} from '../../lib/model/network';
import { generate } from '../../lib/model/generate';
import { compositeOps, type Ops } from '../../lib/model/ops';
import { referenceLogProbs, sequenceTensors } from '../../lib/loss';
import { groundingSplit } from '../../lib/data/splits';
import { Rng } from '../../lib/rng';
import { TINY as TINY_BASE } from '../helpers';

const available = blasAvailable();
if (!available) console.log(`fast-inference tests skipped: ${blasUnavailableReason()}`);
const t = available ? test : test.skip;
const ops: Ops = available ? (await selectBackend('blas')).ops : compositeOps('wasm', { explicitTranspose: true });
const TINY = { ...TINY_BASE, nDecLayers: 2, maxCompletionLen: 20 };
const samples = groundingSplit('val', { count: 3 });

/** A tiny policy with weights far from their (near-uniform-logits) initial values. */
function shaken(seed: number, positionReadout = true): Policy {
  // without the readout, also without the patch stem and with two encoder layers: both encoder paths
  const arch = positionReadout ? TINY : { ...TINY, stemHidden: 0, nEncLayers: 2 };
  const p = Policy.create({ ...arch, positionReadout }, seed, ops);
  let k = 0;
  for (const v of p.params.values())
    v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', seed * 1000 + k++))));
  return p;
}

function randomSequences(rng: Rng, N: number, V: number, lens: number[]): number[][] {
  return Array.from({ length: N }, (_, n) => Array.from({ length: lens[n % lens.length] }, () => rng.int(0, V - 1)));
}

t('the blas ops decode with the dispatch-free decoder; the composite ops with the tfjs one', () => {
  const p = shaken(7);
  const enc = p.encoderInput(samples.slice(0, 1));
  const fast = p.ops.decoder(p, enc, 1, 4);
  const slow = compositeOps('blas', { explicitTranspose: false }).decoder(p, enc, 1, 4);
  assert.ok(fast instanceof FastDecoder);
  assert.ok(slow instanceof TfjsDecoder);
  // Both decode the same tokens to the same log-probs, a token at a time through their caches.
  const ids = [new Int32Array([1]), new Int32Array([30]), new Int32Array([31])];
  ids.forEach((x, i) => {
    const a = fast.logProbs(x, i, 1),
      b = slow.logProbs(x, i, 1);
    let worst = 0;
    a.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[j]))));
    assert.ok(worst < 1e-4, `step ${i}: max |Δ log π| = ${worst}`);
  });
  fast.dispose();
  slow.dispose();
  disposeEncoderInput(enc);
  p.dispose();
});

for (const readout of [true, false]) {
  t(
    `teacher-forced log-probs equal the tfjs decoder's (G = 2, ragged lengths, readout ${readout}, stem ${readout})`,
    () => {
      const p = shaken(1, readout),
        G = 2;
      const seqs = randomSequences(new Rng(3), 3 * G, p.tok.size, [7, 3, 5, 1]);
      const enc = p.encoderInput(samples);
      const s = sequenceTensors(seqs, p.tok.bosId, p.tok.padId);
      const want = tf.tidy(() =>
        tokenLogProbs(p.ops, decode(p, s.inputIds, crossKV(p, encode(p, enc)), enc.keyMask, G), s.targets).dataSync(),
      );
      const gotT = referenceLogProbs(p, { enc, group: G, ...s });
      const got = gotT.dataSync();
      gotT.dispose();
      assert.equal(got.length, want.length);
      // each completion's own positions (the pass skips the padding after it, which reads 0)
      const mask = s.mask.dataSync();
      let worst = 0;
      got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (mask[i] > 0 ? want[i] : 0)))));
      assert.ok(worst < 1e-4, `max |Δ log π| = ${worst}`);
      assert.ok(
        mask.some((m) => m === 0),
        'some padding',
      );
      // The log-probs are not trivially uniform (the check would be weak otherwise).
      assert.ok(Math.max(...want) - Math.min(...want) > 1, 'spread of log-probs');
      tf.dispose([enc.patches, enc.queryIds, enc.keyMask, s.inputIds, s.targets, s.mask]);
      p.dispose();
    },
  );
}

t('one token at a time with the cache equals all positions at once', () => {
  const p = shaken(2),
    G = 3,
    T = 6,
    V = p.tok.size;
  const seqs = randomSequences(new Rng(4), 2 * G, V, [T]);
  const enc = p.encoderInput(samples.slice(0, 2));
  const ids = new Int32Array(2 * G * T);
  seqs.forEach((r, n) => r.forEach((k, i) => (ids[n * T + i] = k)));
  const all = new FastDecoder(p, enc, G, T).step(ids, 0, T);
  const inc = new FastDecoder(p, enc, G, T);
  for (let i = 0; i < T; i++) {
    const cur = Int32Array.from({ length: 2 * G }, (_, n) => ids[n * T + i]);
    const lg = inc.step(cur, i, 1);
    for (let n = 0; n < 2 * G; n++)
      for (let j = 0; j < V; j++) {
        const a = lg[n * V + j],
          b = all[(n * T + i) * V + j];
        assert.ok(Math.abs(a - b) < 1e-4, `row ${n} t ${i} token ${j}: ${a} vs ${b}`);
      }
  }
  tf.dispose([enc.patches, enc.queryIds, enc.keyMask]);
  p.dispose();
});

t("greedy generation on the fast path writes the tfjs decoder's argmax at every step", () => {
  const p = shaken(5),
    G = 1;
  const gen = p.generate(samples, new Rng(1), { group: G, temperature: 1, maxLen: 12, greedy: true });
  // Re-score the generated text teacher-forced on tfjs: each token must be that position's argmax.
  const enc = p.encoderInput(samples);
  const s = sequenceTensors(gen.ids, p.tok.bosId, p.tok.padId);
  const lp = tf.tidy(() =>
    tf.logSoftmax(decode(p, s.inputIds, crossKV(p, encode(p, enc)), enc.keyMask, G)).arraySync(),
  );
  gen.ids.forEach((row, n) =>
    row.forEach((k, i) => {
      const r = lp[n][i],
        best = Math.max(...r);
      assert.ok(r[k] >= best - 1e-4, `row ${n} step ${i}: chose ${k} (${r[k]}), best ${best}`);
      assert.ok(Math.abs(gen.logProbs[n][i] - r[k]) < 1e-4, `row ${n} step ${i}: log-prob`);
    }),
  );
  assert.ok(gen.ids.some((r) => r.length > 1));
  tf.dispose([enc.patches, enc.queryIds, enc.keyMask, s.inputIds, s.targets, s.mask]);
  p.dispose();
});

t('FastDecoder.logProbs normalises each row and is the logits shifted by one constant per row', () => {
  const p = shaken(6);
  const enc = p.encoderInput(samples.slice(0, 1));
  const V = p.cfg.vocabSize;
  const raw = new FastDecoder(p, enc, 1, 2).step(new Int32Array([1, 30]), 0, 2);
  const x = new FastDecoder(p, enc, 1, 2).logProbs(new Int32Array([1, 30]), 0, 2);
  for (const o of [0, V]) {
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(x[o + j]);
    assert.ok(Math.abs(z - 1) < 1e-5, `row sum ${z}`);
    for (let j = 1; j < V; j++) assert.ok(Math.abs(x[o + j] - x[o] - (raw[o + j] - raw[o])) < 1e-3);
  }
  disposeEncoderInput(enc);
  p.dispose();
});

t("FastDecoder.retain drops rows and leaves every other row's log-probs as before (to sgemm rounding)", () => {
  const p = shaken(3),
    G = 3,
    T = 8;
  const enc = p.encoderInput(samples);
  const N = samples.length * G;
  const rng = new Rng(4);
  const toks = Array.from({ length: T }, () => Int32Array.from({ length: N }, () => rng.int(1, p.cfg.vocabSize - 1)));
  const full = new FastDecoder(p, enc, G, T),
    part = new FastDecoder(p, enc, G, T);
  // query 0 keeps rows 0 and 2, then 2; query 1 keeps 4; query 2 keeps 7 and 8, then none
  const plan = new Map([
    [2, [0, 2, 3, 4, 7, 8]],
    [5, [2, 4]],
  ]);
  let compared = 0;
  for (let t0 = 0; t0 < T; t0++) {
    const keep = plan.get(t0);
    if (keep) part.retain(Int32Array.from(keep));
    const a = full.logProbs(toks[t0], t0, 1);
    const live = part.rows;
    const b = part.logProbs(
      live.map((n) => toks[t0][n]),
      t0,
      1,
    );
    const V = p.cfg.vocabSize;
    live.forEach((n, i) => {
      // a smaller batch may take another sgemm edge kernel: the last bits may differ, nothing more
      for (let j = 0; j < V; j++)
        assert.ok(Math.abs(b[i * V + j] - a[n * V + j]) < 1e-5, `t ${t0}, row ${n}, token ${j}`);
      compared++;
    });
  }
  assert.is(compared, 2 * 9 + 3 * 6 + 3 * 2);
  assert.throws(() => part.retain(new Int32Array([3])), /row 3 is not a live row/);
  assert.throws(() => part.retain(new Int32Array([4, 2])), /ascending subset/);
  tf.dispose([enc.patches, enc.queryIds, enc.keyMask]);
  p.dispose();
});

t('sampling that drops finished rows draws the tokens of sampling that decodes them to the end', () => {
  const p = shaken(8),
    G = 4,
    maxLen = 16;
  const enc = p.encoderInput(samples);
  let retained = 0;
  // </answer> made likely (+3 nats) so that rows finish at scattered steps
  const decoder = (withRetain: boolean) => () => {
    const d = new FastDecoder(p, enc, G, maxLen);
    const boosted = {
      logProbs: (ids: Int32Array, t0: number, L: number) => {
        const lp = d.logProbs(ids, t0, L);
        for (let r = 0; r < lp.length / p.cfg.vocabSize; r++) lp[r * p.cfg.vocabSize + p.tok.answerCloseId] += 3;
        return lp;
      },
      dispose: () => d.dispose(),
    };
    return withRetain
      ? {
          ...boosted,
          retain: (keep: Int32Array) => {
            retained++;
            d.retain(keep);
          },
        }
      : boosted;
  };
  const run = (withRetain: boolean) =>
    generate({ cfg: p.cfg, ops: { decoder: decoder(withRetain) } } as unknown as Net, p.tok, enc, new Rng(9), {
      group: G,
      temperature: 1,
      maxLen,
      greedy: false,
    });
  const a = run(false),
    b = run(true);
  assert.equal(b.ids, a.ids);
  assert.equal(b.finished, a.finished);
  a.logProbs.forEach((row, n) => row.forEach((x, i) => assert.ok(Math.abs(b.logProbs[n][i] - x) < 1e-5)));
  const lengths = new Set(a.ids.map((r) => r.length));
  assert.ok(lengths.size >= 3, `rows end at ${lengths.size} different lengths`);
  assert.ok(retained >= 2, `retain was called ${retained} times`);
  tf.dispose([enc.patches, enc.queryIds, enc.keyMask]);
  p.dispose();
});

t("sampling with the decoder's own draw gives the tokens and log-probs of the JavaScript draw, bit for bit", () => {
  const p = shaken(11),
    G = 5;
  const enc = p.encoderInput(samples);
  const run = (nativeDraw: boolean, temperature: number) =>
    generate(
      {
        cfg: p.cfg,
        ops: {
          decoder: () => {
            const d = new FastDecoder(p, enc, G, 16);
            return nativeDraw
              ? d
              : { logProbs: d.logProbs.bind(d), retain: d.retain.bind(d), dispose: () => d.dispose() };
          },
        },
      } as unknown as Net,
      p.tok,
      enc,
      new Rng(12),
      { group: G, temperature, maxLen: 16, greedy: false },
    );
  for (const temperature of [1, 0.4, 1.7]) {
    const a = run(false, temperature),
      b = run(true, temperature);
    assert.equal(b.ids, a.ids, `T ${temperature}`);
    assert.equal(b.logProbs, a.logProbs, `T ${temperature}`);
    assert.ok(new Set(a.ids.flat()).size > 5, 'the draws cover several tokens');
  }
  tf.dispose([enc.patches, enc.queryIds, enc.keyMask]);
  p.dispose();
});

t('the decoder reads a frozen model once and sees weights the model is given later', () => {
  const p = shaken(11);
  const enc = p.encoderInput(samples.slice(0, 2));
  const ids = new Int32Array(randomSequences(new Rng(5), 2, p.cfg.vocabSize, [6]).flat());
  const run = (ops: Ops) => {
    const dec = ops.decoder(p, enc, 1, 6);
    try {
      return Float32Array.from(dec.logProbs(ids, 0, 6)); // a copy: the decoder's array is reused after dispose
    } finally {
      dec.dispose();
    }
  };
  const slow = compositeOps('blas', { explicitTranspose: false });
  const first = run(p.ops);
  assert.equal(Array.from(run(p.ops)), Array.from(first), 'a second decoder of the same weights: the same numbers');
  // an assigned weight (what the optimizer and checkpoint loading do) is read again, not served stale
  const emb = p.params.get('tok_emb')!;
  emb.assign(tf.tidy(() => tf.mul(emb, 1.5)));
  /** The decoder now against the tfjs one (must agree) and against `prev` (must have moved). */
  const check = (what: string, prev: Float32Array) => {
    const now = run(p.ops),
      oracle = run(slow);
    const worst = Math.max(...now.map((v, j) => Math.abs(v - oracle[j]))),
      moved = Math.max(...now.map((v, j) => Math.abs(v - prev[j])));
    assert.ok(worst < 1e-4, `${what}: max |Δ log π| against the tfjs decoder = ${worst}`);
    assert.ok(moved > 1e-2, `${what}: the log-probs moved (max ${moved})`);
    return now;
  };
  const after = check('after assign', first);
  // an AdamW step on blas writes over the weights' own memory (the same tensor data): read again too
  // (the first step gives new data to weights `shaken` left shared with a tensor it kept; the second is in place)
  const weights = [...p.params.values()];
  const opt = new AdamW(p.params, { ...DEFAULT_OPTIM, lr: 0.05 }, p.ops);
  const grads = Object.fromEntries(weights.map((v, k) => [v.name, tf.randomNormal(v.shape, 0, 1, 'float32', k)]));
  opt.apply(grads, 0.05);
  run(p.ops); // the decoder's copies of the first step's weights
  const before = weights.map((v) => v.dataId);
  opt.apply(grads, 0.05);
  tf.dispose(Object.values(grads));
  assert.ok(
    weights.every((v, k) => v.dataId === before[k]),
    'the step was taken in place (else this checks nothing new)',
  );
  check('after an in-place AdamW step', after);
  opt.dispose();
  disposeEncoderInput(enc);
  tf.dispose([...p.params.values()]);
});

t('on two threads the decoder splits its rows and computes what one thread does (to float rounding)', () => {
  // the default width, so that a one-token step over 48 rows is worth splitting (the addon's threshold)
  const arch = { ...DEFAULT_POLICY, maxCompletionLen: 12 };
  const p = Policy.create(arch, 6, ops),
    G = 16,
    T = 10;
  const enc = p.encoderInput(samples);
  const N = samples.length * G,
    V = p.cfg.vocabSize;
  const rng = new Rng(12);
  const ids = Int32Array.from({ length: N * T }, () => rng.int(1, V - 1));
  const column = (t0: number, live: Int32Array) => Int32Array.from(live, (n) => ids[n * T + t0]);
  /** all positions at once, then one token at a time with rows retained midway (cutting query 1's run) */
  const run = (): Float32Array[] => {
    const out = [Float32Array.from(new FastDecoder(p, enc, G, T).logProbs(ids, 0, T))];
    const d = new FastDecoder(p, enc, G, T);
    for (let t0 = 0; t0 < T; t0++) {
      if (t0 === 4) d.retain(Int32Array.from({ length: N }, (_, n) => n).filter((n) => n % 3 !== 0));
      out.push(Float32Array.from(d.logProbs(column(t0, d.rows), t0, 1)));
    }
    d.dispose();
    return out;
  };
  const nat = loadNative()!;
  const before = nat.config().threads;
  try {
    nat.setThreads(1);
    const one = run();
    nat.setThreads(2);
    const two = run(),
      again = run();
    one.forEach((a, i) => {
      assert.is(a.length, two[i].length);
      let worst = 0;
      a.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - two[i][j]))));
      // rows split in two take other sgemm edge kernels: the last bits may differ, nothing more
      assert.ok(worst < 1e-4, `pass ${i}: max difference ${worst}`);
      assert.ok(
        two[i].every((x, j) => Object.is(x, again[i][j])),
        `pass ${i}: two runs on two threads differ`,
      );
    });
    // the full pass's position t equals the incremental step t (on two threads too)
    for (let t0 = 0; t0 < 4; t0++)
      for (let n = 0; n < N; n++)
        for (let j = 0; j < V; j += 7)
          assert.ok(Math.abs(two[0][(n * T + t0) * V + j] - two[1 + t0][n * V + j]) < 1e-4, `t ${t0} row ${n}`);
  } finally {
    nat.setThreads(before);
  }
  tf.dispose([enc.patches, enc.queryIds, enc.keyMask]);
  p.dispose();
});

test.run();
