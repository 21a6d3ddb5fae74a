import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluatePolicy, samplingEvaluation } from '../lib/evaluate';
import type { Policy } from '../lib/model/policy';
import type { GroundingSample, TaskSample } from '../lib/data/samples';
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

test('greedy evaluation per cue family, hand-computed: IoU exactly 0.5 is a hit, Acc@0.7 at its own bound', () => {
  const cued = (id: string, cueFamily: string | undefined) =>
    ({ ...gt([0, 0, 10, 10]), id, meta: cueFamily ? { cueFamily } : undefined }) as GroundingSample;
  // IoU 1, 0.5 exactly (half the box), 0.49 (4.9 of 10 rows), 0.7 exactly, and a miss.
  const texts = [ans('[0, 0, 10, 10]'), ans('[0, 0, 10, 5]'), ans('[0, 0, 10, 4.9]'), ans('[0, 0, 10, 7]'), 'none'];
  const samples = [cued('a', 'ordinal'), cued('b', 'ordinal'), cued('c', 'relational'), cued('d', 'relational')];
  const e = evaluatePolicy(scripted(texts, []), [...samples, cued('e', undefined)]);
  close(e.acc50, 3 / 5);
  close(e.acc70, 2 / 5);
  close(e.miou, (1 + 0.5 + 0.49 + 0.7 + 0) / 5);
  assert.equal(Object.keys(e.byCue).sort(), ['ordinal', 'relational', 'unknown']);
  assert.equal(e.byCue.ordinal, { n: 2, acc50: 1 });
  assert.equal(e.byCue.relational, { n: 2, acc50: 0.5 });
  assert.equal(e.byCue.unknown, { n: 1, acc50: 0 });
});

test('the task mix, hand-computed: each task scored as its own, pooled Acc@0.5, per-task metrics and mAP@0.5', () => {
  const img = { width: 64, height: 64 };
  const samples = [
    { id: 'g', image: img, query: 'q', gt: { x1: 0, y1: 0, x2: 10, y2: 10 }, category: 'ship', unique: true },
    { task: 'counting', id: 'c', image: img, query: 'q', category: 'ship', count: 3, boxes: [] },
    {
      task: 'detection',
      id: 'd',
      image: img,
      query: 'find every ship',
      category: 'ship',
      boxes: [
        { x1: 0, y1: 0, x2: 10, y2: 10 },
        { x1: 20, y1: 20, x2: 30, y2: 30 },
      ],
    },
    { task: 'vqa', id: 'v', image: img, query: 'q', kind: 'count', answer: '3', near: ['2', '4'], category: 'ship' },
  ] as TaskSample[];
  const answers: Record<string, string> = {
    g: ans('[0, 0, 10, 5]'), // IoU 0.5: right
    c: ans('2'), // R_count 2/3, not the count
    d: ans('[[0, 0, 10, 10]]'), // F1 2/3 ≥ 0.5: right; AP: precision 1 up to recall 1/2 → 0.5
    v: ans('4'), // near: score 0.6, not the answer
  };
  const byId: Policy = {
    cfg: { maxCompletionLen: 64 },
    generate: (chunk: readonly TaskSample[]) => {
      const texts = chunk.map((x) => answers[x.id]);
      return { texts, ids: texts.map(() => [1, 2]), logProbs: [], finished: texts.map(() => true) };
    },
  } as unknown as Policy;
  const e = evaluatePolicy(byId, samples);
  assert.equal(
    e.results.map((r) => r.id),
    ['g', 'c', 'd', 'v'],
  );
  close(e.acc50, 2 / 4);
  close(e.miou, (0.5 + 0 + 2 / 3 + 0) / 4);
  assert.is(e.formatRate, 1);
  assert.is(e.meanLength, 2);
  const t = e.tasks!;
  assert.equal(Object.keys(t).sort(), ['counting', 'detection', 'grounding', 'vqa']);
  assert.equal([t.grounding!.acc, t.counting!.acc, t.detection!.acc, t.vqa!.acc], [1, 0, 1, 0]);
  close(t.counting!.meanScore, 2 / 3);
  close(t.vqa!.meanScore, 0.6);
  close(t.detection!.map50!, 0.5);
  assert.is(t.grounding!.map50, undefined);
});

test.run();
