import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluatePolicy, samplingEvaluation } from '../lib/evaluate';
import type { Policy } from '../lib/model/policy';
import type { GroundingSample } from '../lib/data/samples';
import type { GenerateOptions } from '../lib/model/generate';
import { close } from './helpers';

// A stand-in policy that "samples" fixed texts, so every number below is computed by hand.
function scripted(texts: string[], seen: GenerateOptions[]): Policy {
  return {
    cfg: { maxCompletionLen: 64 },
    generate: (chunk: readonly unknown[], _rng: unknown, o: GenerateOptions) => {
      seen.push(o);
      assert.is(texts.length, chunk.length * o.group);
      return { texts, ids: texts.map(() => []), logProbs: texts.map(() => []), finished: texts.map(() => true) };
    },
  } as unknown as Policy;
}
const ans = (b: string) => `<think> x </think> <answer> ${b} </answer>`;
const gt = ([x1, y1, x2, y2]: [number, number, number, number]) =>
  ({ id: 'q', gt: { x1, y1, x2, y2 }, image: { width: 64, height: 64 } }) as unknown as GroundingSample;

test('sampling evaluation, hand-computed: Acc@0.5 per rollout, mean IoU, pass@G, best IoU, IoU std in group', () => {
  const seen: GenerateOptions[] = [];
  // Sample A (gt [0,0,10,10]): IoU 1 and IoU 0.5 (half the box). Sample B: garbage (0) and a miss (0).
  const texts = [ans('[0, 0, 10, 10]'), ans('[0, 0, 10, 5]'), 'no answer here', ans('[20, 20, 30, 30]')];
  const e = samplingEvaluation(scripted(texts, seen), [gt([0, 0, 10, 10]), gt([0, 0, 10, 10])], {
    group: 2,
    temperature: 0.7,
    seed: 1,
  });
  assert.is(e.n, 2);
  close(e.acc50, 2 / 4); // two of four rollouts reach IoU ≥ 0.5
  close(e.miou, 1.5 / 4);
  close(e.passAtG, 1 / 2); // only A has a hit
  close(e.bestIoU, (1 + 0) / 2);
  close(e.iouStdInGroup, (0.25 + 0) / 2); // population std of [1, 0.5] is 0.25
  // R_format + R_IoU per rollout: well-formed answers earn the format point, the garbage does not.
  assert.equal(e.rewards, [
    [2, 1.5],
    [0, 1],
  ]);
  // It samples (never greedy) at the requested temperature and group size.
  assert.equal(
    seen.map((o) => [o.greedy, o.temperature, o.group]),
    [[false, 0.7, 2]],
  );
});

test('sampling evaluation of an empty set is all zeros, not NaN', () => {
  const e = samplingEvaluation(scripted([], []), [], { group: 4, temperature: 1, seed: 1 });
  assert.equal([e.n, e.acc50, e.miou, e.passAtG, e.bestIoU], [0, 0, 0, 0, 0]);
});

test('greedy evaluation of an empty set is an error, never NaN in a table', () => {
  assert.throws(() => evaluatePolicy(scripted([], []), []), /no samples to evaluate/);
});

test('greedy evaluation, hand-computed, with a 400-digit coordinate: IoU and format 0', () => {
  const big = '9'.repeat(400);
  const texts = [ans('[0, 0, 10, 10]'), ans(`[0, 0, ${big}, 10]`)];
  const e = evaluatePolicy(scripted(texts, []), [gt([0, 0, 10, 10]), gt([0, 0, 10, 10])]);
  assert.equal([e.acc50, e.miou, e.formatRate], [0.5, 0.5, 0.5]);
  assert.ok(Object.values(e).every((v) => typeof v !== 'number' || Number.isFinite(v)));
});

test.run();
