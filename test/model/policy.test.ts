import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend';
import { Policy } from '../../lib/model/policy';
import { encode, crossKV, decode } from '../../lib/model/network';
import { groundingSplit } from '../../lib/data/splits';
import { TINY } from '../helpers';

const { ops } = await selectBackend(process.env.RSG_TEST_BACKEND ?? 'wasm');
const samples = groundingSplit('val', { count: 2 });
const ARCH = { ...TINY, maxCompletionLen: 8 };

/** Logits of a few fixed completions, teacher-forced: [N, T, V]. */
function logits(p: Policy, ids: number[][]): number[][][] {
  return tf.tidy(() => {
    const enc = p.encoderInput(samples);
    const x = tf.tensor2d(ids, [ids.length, ids[0].length], 'int32');
    return decode(p, x, crossKV(p, encode(p, enc)), enc.keyMask, 1).arraySync() as number[][][];
  });
}

test('withCompletionBudget: the old positions and every other weight kept, fresh rows for the new ones', () => {
  const p = Policy.create(ARCH, 3, ops);
  const before = new Map([...p.params].map(([k, v]) => [k, Array.from(v.dataSync())]));
  const ids = [
    [1, 30, 31, 32, 33, 34, 35, 36],
    [1, 40, 41, 42, 43, 44, 45, 46],
  ];
  const want = logits(p, ids);
  const nTensors = tf.memory().numTensors;
  const q = p.withCompletionBudget(20, 7);
  assert.is(q.cfg.maxCompletionLen, 20);
  assert.is(p.params.size, 0, 'the old policy gave up its weights');
  assert.is(tf.memory().numTensors, nTensors, 'one table replaced by one table');
  const d = ARCH.dModel;
  const table = Array.from(q.params.get('dec_pos')!.dataSync());
  assert.equal(q.params.get('dec_pos')!.shape, [21, d]);
  assert.equal(table.slice(0, 9 * d), before.get('dec_pos'), 'rows 0 … 8 as they were');
  const fresh = table.slice(9 * d);
  const sd = Math.sqrt(fresh.reduce((a, x) => a + x * x, 0) / fresh.length);
  assert.ok(sd > 0.014 && sd < 0.026, `new rows drawn with std 0.02 (measured ${sd.toFixed(4)} over ${fresh.length})`);
  for (const [k, v] of q.params) if (k !== 'dec_pos') assert.equal(Array.from(v.dataSync()), before.get(k), k);
  assert.equal([...q.params.keys()], [...before.keys()], 'same weights, same order (checkpoints, optimizer state)');
  // what the policy computed for completions within the old budget, it computes still
  const got = logits(q, ids);
  got.forEach((row, n) => row.forEach((r, t) => r.forEach((v, j) => assert.is(v, want[n][t][j]))));
  // the same seed draws the same rows; another seed others
  const again = Policy.create(ARCH, 3, ops).withCompletionBudget(20, 7);
  const other = Policy.create(ARCH, 3, ops).withCompletionBudget(20, 8);
  assert.equal(Array.from(again.params.get('dec_pos')!.dataSync()), table);
  assert.not.equal(Array.from(other.params.get('dec_pos')!.dataSync()), table);
  [q, again, other].forEach((x) => x.dispose());
});

test('withCompletionBudget: the same budget is the same policy; a shorter one is refused', () => {
  const p = Policy.create(ARCH, 1, ops);
  assert.is(p.withCompletionBudget(8, 1), p);
  assert.throws(() => p.withCompletionBudget(4, 1), /4 must be an integer ≥ the policy's budget, 8/);
  assert.throws(() => p.withCompletionBudget(9.5, 1), /must be an integer/);
  p.dispose();
});

test.run();
