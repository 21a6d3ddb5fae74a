/**
 * lib/model/generate.ts: the decoding loop on a scripted decoder (no network), so every draw is
 * known by hand — greedy picks, the stop at `</answer>`, padding of finished rows, the length cap,
 * dropping finished rows from the decoder, log-probs at temperature 1 — and the sampled tokens'
 * frequencies against π^(1/T) computed by hand.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type * as tf from '@tensorflow/tfjs';
import { generate } from '../../lib/model/generate';
import type { EncoderInput, Net } from '../../lib/model/network';
import type { Decoder } from '../../lib/model/ops';
import { SPECIAL, TAGS, Tokenizer } from '../../lib/model/tokenizer';
import { Rng } from '../../lib/rng';

// ids: <pad> 0, <bos> 1, <eos> 2, <unk> 3, <think> 4, </think> 5, <answer> 6, </answer> 7, '0' 8, '1' 9, '2' 10
const tok = new Tokenizer([...SPECIAL, ...TAGS, '0', '1', '2']);
const V = tok.size;

type Call = { rows: number; ids: number[]; t0: number; L: number };

/**
 * A decoder whose row n at step t gives probability `dist(n, t)` (a distribution over V); it
 * records every call and, when `canRetain`, follows `retain` as the real decoders do.
 */
function scripted(N: number, dist: (n: number, t: number) => number[], canRetain: boolean) {
  const calls: Call[] = [];
  const retained: number[][] = [];
  let live = Array.from({ length: N }, (_, n) => n);
  const dec: Decoder = {
    logProbs(ids, t0, L) {
      calls.push({ rows: live.length, ids: [...ids], t0, L });
      assert.is(ids.length, live.length, 'one id per computed row');
      const out = new Float32Array(live.length * V);
      live.forEach((n, i) => dist(n, t0).forEach((p, j) => (out[i * V + j] = Math.log(p))));
      return out;
    },
    dispose() {},
  };
  if (canRetain)
    dec.retain = (keep) => {
      retained.push([...keep]);
      assert.ok(
        [...keep].every((n) => live.includes(n)),
        'keeps a subset of the computed rows',
      );
      live = [...keep];
    };
  return { dec, calls, retained };
}

/** A Net and EncoderInput just big enough for `generate`: B queries, the decoder from `make`. */
function fakeNet(B: number, maxCompletionLen: number, make: () => Decoder): { net: Net; enc: EncoderInput } {
  const net = { cfg: { vocabSize: V, maxCompletionLen }, ops: { decoder: make } } as unknown as Net;
  const enc = { patches: { shape: [B, 1, 1] } as unknown as tf.Tensor3D } as EncoderInput;
  return { net, enc };
}

/** 0.7 on `id`, the rest spread evenly. */
const peaked = (id: number) => Array.from({ length: V }, (_, j) => (j === id ? 0.7 : 0.3 / (V - 1)));

// Per row, the token it prefers at each step: row 0 answers in three tokens, row 1 never closes,
// row 2 closes at once, row 3 after one coordinate.
const SCRIPT = [
  [tok.answerOpenId, 9, tok.answerCloseId],
  [10, 10, 10, 10, 10, 10],
  [tok.answerCloseId],
  [8, tok.answerCloseId],
];

const TAIL = (canRetain: boolean) => (canRetain ? 'finished rows dropped' : 'finished rows fed <pad>');
for (const canRetain of [true, false])
  test(`greedy: argmax per row, stop at </answer>, cap at min(maxLen, maxCompletionLen); ${TAIL(canRetain)}`, () => {
    const s = scripted(4, (n, t) => peaked(SCRIPT[n][t] ?? 10), canRetain);
    const { net, enc } = fakeNet(2, 4, () => s.dec);
    const g = generate(net, tok, enc, new Rng(1), { group: 2, temperature: 1, maxLen: 9, greedy: true });
    assert.equal(g.ids, [[6, 9, 7], [10, 10, 10, 10], [7], [8, 7]]);
    assert.equal(g.finished, [true, false, true, true]);
    for (const lps of g.logProbs) for (const lp of lps) assert.is(lp, Math.fround(Math.log(0.7)));
    assert.is(g.texts[0], tok.decode([6, 9, 7]));
    assert.equal(
      s.calls.map((c) => [c.t0, c.L]),
      [0, 1, 2, 3].map((t) => [t, 1]),
      'one token per step, 4 steps (maxCompletionLen 4 < maxLen 9)',
    );
    if (canRetain) {
      // a quarter finished → drop them: after t 0 row 2 (3 of 4 open), after t 1 row 3, after t 2 row 0
      assert.equal(s.retained, [[0, 1, 3], [0, 1], [1]]);
      assert.equal(
        s.calls.map((c) => c.ids),
        [[1, 1, 1, 1], [6, 10, 8], [9, 10], [10]],
      );
    } else {
      assert.equal(
        s.calls.map((c) => c.rows),
        [4, 4, 4, 4],
      );
      // the previous step's draws, <pad> (0) for a row already finished
      assert.equal(
        s.calls.map((c) => c.ids),
        [
          [1, 1, 1, 1],
          [6, 10, 7, 8],
          [9, 10, 0, 7],
          [7, 10, 0, 0],
        ],
      );
    }
  });

test('generation stops once every row has finished', () => {
  const s = scripted(3, () => peaked(tok.answerCloseId), true);
  const { net, enc } = fakeNet(1, 64, () => s.dec);
  const g = generate(net, tok, enc, new Rng(1), { group: 3, temperature: 1, maxLen: 64, greedy: true });
  assert.equal(g.ids, [[7], [7], [7]]);
  assert.is(s.calls.length, 1);
});

/** Draw one token for each of N rows from `p` at temperature T; the count of each token. */
function drawCounts(p: number[], T: number, N: number, seed: number) {
  const s = scripted(N, () => p, true);
  const { net, enc } = fakeNet(1, 64, () => s.dec);
  const g = generate(net, tok, enc, new Rng(seed), { group: N, temperature: T, maxLen: 1, greedy: false });
  const counts = new Array<number>(V).fill(0);
  g.ids.forEach((r) => counts[r[0]]++);
  // log π at temperature 1 whatever T is
  g.ids.forEach((r, n) => assert.is(g.logProbs[n][0], Math.fround(Math.log(p[r[0]]))));
  return counts;
}

test('sampling: token frequencies follow π^(1/T) (T 1, 0.5, 2; hand-computed, within 4.5 σ)', () => {
  const p = new Array<number>(V).fill(0);
  [p[8], p[9], p[10], p[7]] = [0.5, 0.25, 0.15, 0.1];
  const N = 20000;
  for (const T of [1, 0.5, 2]) {
    const w = p.map((x) => (x > 0 ? x ** (1 / T) : 0));
    const z = w.reduce((a, b) => a + b, 0);
    // T 0.5: 0.25, 0.0625, 0.0225, 0.01 over 0.345 → 0.725, 0.181, 0.065, 0.029
    const counts = drawCounts(p, T, N, 7);
    for (let j = 0; j < V; j++) {
      const q = w[j] / z,
        sd = Math.sqrt(N * q * (1 - q));
      assert.ok(Math.abs(counts[j] - N * q) <= 4.5 * sd + 1e-9, `T ${T}, token ${j}: ${counts[j]} vs ${N * q}`);
    }
  }
  // sharper at low temperature: the favourite's share rises from T 2 to T 0.5
  assert.ok(drawCounts(p, 0.5, N, 3)[8] > drawCounts(p, 2, N, 3)[8]);
});

test('sampling is reproducible from the seed', () => {
  const p = [0, 0, 0, 0, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2];
  assert.equal(drawCounts(p, 1, 500, 11), drawCounts(p, 1, 500, 11));
  assert.not.equal(drawCounts(p, 1, 500, 11), drawCounts(p, 1, 500, 12));
});

test.run();
