import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend';
import { Policy } from '../../lib/model/policy';
import {
  encode,
  crossKV,
  decode,
  tokenLogProbs,
  patchify,
  memoryPositionCodes,
  positionCode,
  validatePolicy,
  type KVCache,
} from '../../lib/model/network';
import { sequenceTensors } from '../../lib/loss';
import { groundingSplit } from '../../lib/data/splits';
import { close, TINY } from '../helpers';

const { ops } = await selectBackend(process.env.RSG_TEST_BACKEND ?? 'wasm');
const samples = groundingSplit('val', { count: 3 });

test('shapes: memory [B, S, d], logits [N, T, V]; rollouts of one query fold into its memory', () => {
  const p = Policy.create(TINY, 1, ops);
  tf.tidy(() => {
    const enc = p.encoderInput(samples);
    const mem = encode(p, enc);
    assert.equal(mem.shape, [3, 16 + 12, 16]);
    const G = 2;
    const ids = tf.zeros([3 * G, 5], 'int32') as tf.Tensor2D;
    const logits = decode(p, ids, crossKV(p, mem), enc.keyMask, G);
    assert.equal(logits.shape, [6, 5, p.tok.size]);
  });
  p.dispose();
});

test('masking: query padding and future tokens do not change the logits', () => {
  const p = Policy.create(TINY, 2, ops);
  tf.tidy(() => {
    const enc = p.encoderInput(samples.slice(0, 1));
    const kv = crossKV(p, encode(p, enc));
    const seqA = tf.tensor2d([[1, 30, 31, 32]], [1, 4], 'int32');
    const seqB = tf.tensor2d([[1, 30, 50, 60]], [1, 4], 'int32');
    const la = decode(p, seqA, kv, enc.keyMask, 1).arraySync()[0];
    const lb = decode(p, seqB, kv, enc.keyMask, 1).arraySync()[0];
    // Positions 0 and 1 see the same prefix, so their logits must be equal (causal mask).
    for (const t of [0, 1]) la[t].forEach((v, j) => close(v, lb[t][j], 1e-5));
    assert.ok(la[3].some((v, j) => Math.abs(v - lb[3][j]) > 1e-4));
    // Padding the query with extra pad tokens changes nothing (key mask).
    const q = p.queryIds(samples[0].query);
    const enc2 = p.encoderInput([{ ...samples[0] }]);
    void q;
    const m1 = encode(p, enc).arraySync()[0][0];
    const m2 = encode(p, enc2).arraySync()[0][0];
    m1.forEach((v, j) => close(v, m2[j], 1e-6));
  });
  p.dispose();
});

test('log-probs agree with a direct softmax computation', () => {
  const p = Policy.create(TINY, 3, ops);
  tf.tidy(() => {
    const enc = p.encoderInput(samples.slice(0, 2));
    const seq = sequenceTensors(
      [
        [30, 31, 5],
        [40, 7],
      ],
      p.tok.bosId,
      p.tok.padId,
    );
    const logits = decode(p, seq.inputIds, crossKV(p, encode(p, enc)), enc.keyMask, 1);
    const lp = tokenLogProbs(p.ops, logits, seq.targets).arraySync();
    const L = logits.arraySync(),
      tg = seq.targets.arraySync();
    for (let n = 0; n < 2; n++)
      for (let t = 0; t < 3; t++) {
        const row = L[n][t];
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        close(lp[n][t], row[tg[n][t]] - lse, 1e-4);
      }
  });
  p.dispose();
});

test('incremental decoding with the KV cache equals the full forward pass', () => {
  const p = Policy.create(TINY, 4, ops);
  tf.tidy(() => {
    const G = 2;
    const enc = p.encoderInput(samples.slice(0, 2));
    const kv = crossKV(p, encode(p, enc));
    const rows = [
      [1, 30, 31, 32],
      [1, 40, 41, 5],
      [1, 9, 30, 12],
      [1, 33, 34, 35],
    ];
    const full = decode(p, tf.tensor2d(rows, [4, 4], 'int32'), kv, enc.keyMask, G).arraySync();
    const cache: KVCache = [{ k: null, v: null }];
    // One token at a time, then two at once: both extend the cache and match the full pass.
    for (const [t0, L] of [
      [0, 1],
      [1, 1],
      [2, 2],
    ]) {
      const ids = tf.tensor2d(
        rows.map((r) => r.slice(t0, t0 + L)),
        [4, L],
        'int32',
      );
      const step = decode(p, ids, kv, enc.keyMask, G, t0, cache).arraySync();
      for (let n = 0; n < 4; n++)
        for (let l = 0; l < L; l++) step[n][l].forEach((v, j) => close(v, full[n][t0 + l][j], 2e-4));
    }
    cache.forEach((c) => {
      c.k?.dispose();
      c.v?.dispose();
    });
  });
  p.dispose();
});

test('patchify lays pixels out patch by patch; position codes have norm 1/√2', () => {
  const size = 4,
    rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = i % 256;
  const a = patchify(rgb, size, 2);
  // Patch (0, 1) starts at pixel (x = 2, y = 0): byte (0·4 + 2)·3 = 6 → (6/255 − 0.5)·4.
  close(a[1 * 12], (6 / 255 - 0.5) * 4, 1e-6);
  const c = positionCode(10, 20, 32, 64);
  close(Math.hypot(...c), Math.SQRT1_2, 1e-6);
  assert.throws(
    () => validatePolicy({ ...p0().cfg, patchSize: 7 }),
    /policy config.patchSize = 7: must divide imageSize/,
  );
});

test('memory position codes: patch centres then zeros for the query tokens, made once per shape', () => {
  const cfg = p0().cfg;
  const g = cfg.imageSize / cfg.patchSize,
    d = cfg.dModel;
  const a = memoryPositionCodes(cfg);
  assert.is(a.length, (g * g + cfg.maxQueryLen) * d);
  // patch (row 1, column 2): centre x = 2.5·p, y = 1.5·p
  const p = cfg.patchSize;
  assert.equal(
    [...a.subarray((1 * g + 2) * d, (1 * g + 3) * d)],
    [...positionCode(2.5 * p, 1.5 * p, d, cfg.imageSize)],
  );
  assert.ok(a.subarray(g * g * d).every((v) => v === 0));
  assert.is(memoryPositionCodes({ ...cfg }), a); // the same shape: the same array
  const wider = memoryPositionCodes({ ...cfg, maxQueryLen: cfg.maxQueryLen + 1 });
  assert.is(wider.length, a.length + d);
  assert.equal([...wider.subarray(0, a.length)], [...a]);
});

function p0() {
  return Policy.create(TINY, 9, ops);
}

test.run();
