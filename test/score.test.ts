import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  breakdown,
  compareScores,
  readPredictions,
  rewardTerms,
  scoreOne,
  scorePredictions,
  sizeBucket,
  summarize,
} from '../lib/score';
import type { GroundingSample } from '../lib/data/samples';
import { iouByCells } from './oracles';
import { positionalReward } from '../lib/rewards';
import { close } from './helpers';

const img = { width: 100, height: 100 };
const sample = (
  id: string,
  gt: [number, number, number, number],
  category = 'ship',
  cue?: string,
): GroundingSample => ({
  id,
  image: img,
  query: `the ${category}`,
  gt: { x1: gt[0], y1: gt[1], x2: gt[2], y2: gt[3] },
  category,
  unique: false,
  meta: cue ? { cueFamily: cue } : undefined,
});
const SAMPLES = [
  sample('a', [0, 0, 10, 10]),
  sample('b', [20, 20, 40, 40], 'tank', 'ordinal'),
  sample('c', [50, 50, 60, 60]),
];

const tmp = () => mkdtempSync(join(tmpdir(), 'rsg-score-'));
const jsonl = (records: unknown[]) => {
  const f = join(tmp(), 'preds.jsonl');
  writeFileSync(f, records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  return f;
};

const PREDS = [
  { id: 'a', text: '<think>top left</think><answer>[0, 0, 10, 5]</answer>' }, // IoU 50/100
  { id: 'b', box: [20, 20, 40, 40] }, // IoU 1
  { id: 'c', text: 'I cannot see it.' }, // no box: format failure, IoU 0
];

test('scoreOne / summarize: hand-computed Acc@0.5/0.7, mIoU, cIoU; IoU agrees with a cell-counting oracle', () => {
  const file = jsonl(PREDS);
  const { preds } = readPredictions(file);
  const { scores, problems } = scorePredictions(file, SAMPLES, preds, 'pixels');
  assert.equal(problems, []);
  assert.equal(
    scores.map((s) => s.iou),
    [0.5, 1, 0],
  );
  assert.equal(
    scores.map((s) => s.format),
    [1, 1, 0],
  );
  assert.is(scores[2].box, null);
  close(scores[0].iou, iouByCells(scores[0].box!, SAMPLES[0].gt), 1e-9);
  const m = summarize(scores);
  close(m.acc50.value, 200 / 3, 1e-9);
  close(m.acc70.value, 100 / 3, 1e-9);
  close(m.miou.value, 50, 1e-9);
  close(m.ciou.value, 75, 1e-9); // (50 + 400 + 0) / (100 + 400 + 100)
  assert.ok(m.acc50.lo <= m.acc50.value && m.acc50.value <= m.acc50.hi);
  assert.equal(summarize(scores), m, 'seeded bootstrap: the same intervals every time');
});

test('scoreOne: coordinate conventions map to image pixels before IoU', () => {
  const s = SAMPLES[1];
  const n1000 = scoreOne(s, { id: 'b', line: 1, box: [200, 200, 400, 400] }, 'normalized-1000', {});
  assert.is(n1000.iou, 1);
  const n1 = scoreOne(
    s,
    { id: 'b', line: 1, text: '<think>x</think><answer>[0.2, 0.2, 0.4, 0.4]</answer>' },
    'normalized-1',
    {},
  );
  // SPEC §3.1: decimals are not a well-formed answer (R_format = 0) but the box is still read.
  assert.is(n1.format, 0);
  close(n1.iou, 1, 1e-9);
  // Qwen2.5-VL saw the 100×100 image as 112×112 (smart_resize with min_pixels 1).
  const q = scoreOne(s, { id: 'b', line: 1, box: [22.4, 22.4, 44.8, 44.8] }, 'qwen25vl-resized', { minPixels: 1 });
  close(q.iou, 1, 1e-9);
  // --parse anywhere also reads a bare list from a completion without an answer block.
  const bare = { id: 'b', line: 1, text: 'The box is [20, 20, 40, 40].' };
  assert.is(scoreOne(s, bare, 'pixels', {}).iou, 0);
  assert.is(scoreOne(s, bare, 'pixels', { parse: 'anywhere' }).iou, 1);
});

test('reward terms, breakdowns and size buckets', () => {
  const file = jsonl(PREDS);
  const { scores } = scorePredictions(file, SAMPLES, readPredictions(file).preds, 'pixels');
  const r = rewardTerms(scores);
  close(r.R_format, 2 / 3, 1e-12);
  close(r.R_IoU, 0.5, 1e-12);
  // R_GIoU = (GIoU + 1) / 2: the half box 0.75 (its hull is the GT), the exact box 1, no box 0 (SPEC §3.4).
  close(r.R_GIoU, (0.75 + 1 + 0) / 3, 1e-12);
  assert.equal(
    breakdown(scores, (s) => s.category),
    [
      { group: 'ship', n: 2, acc50: 50, miou: 25 },
      { group: 'tank', n: 1, acc50: 100, miou: 100 },
    ],
  );
  assert.equal(
    breakdown(scores, (s) => s.cue),
    [{ group: 'ordinal', n: 1, acc50: 100, miou: 100 }],
  );
  assert.is(sizeBucket({ x1: 0, y1: 0, x2: 5, y2: 5 }, img), 'small'); // 0.25% of the image
  assert.is(sizeBucket({ x1: 0, y1: 0, x2: 20, y2: 20 }, img), 'medium'); // 4%
  assert.is(sizeBucket({ x1: 0, y1: 0, x2: 50, y2: 50 }, img), 'large'); // 25%
});

test('compareScores: paired difference and McNemar on the same samples', () => {
  const f1 = jsonl(PREDS);
  const f2 = jsonl([
    { id: 'a', box: [0, 0, 10, 10] },
    { id: 'b', box: [0, 0, 1, 1] },
    { id: 'c', box: [50, 50, 60, 60] },
  ]);
  const a = scorePredictions(f1, SAMPLES, readPredictions(f1).preds, 'pixels').scores;
  const b = scorePredictions(f2, SAMPLES, readPredictions(f2).preds, 'pixels').scores;
  const c = compareScores(a, b);
  close(c.acc50.value, (200 / 3 - 200 / 3) * 1, 1e-9); // a: right on a, b; other: right on a, c
  close(c.miou.value, (100 * (0.5 + 1 + 0 - (1 + 0 + 1))) / 3, 1e-9);
  assert.equal(c.mcnemar, { b: 1, c: 1, p: 1 });
  assert.throws(() => compareScores(a, b.slice(1)), /not over the same samples/);
});

test('bad predictions: an error naming the line; --lenient counts them as failed answers', () => {
  const cases: [unknown[], RegExp][] = [
    [[PREDS[0], 'not json', PREDS[1], PREDS[2]], /preds\.jsonl:2: not a JSON record/],
    [[PREDS[0], { text: 'x' }], /preds\.jsonl:2: missing "id"/],
    [[PREDS[0], PREDS[0]], /preds\.jsonl:2: id a appears twice \(first on line 1\)/],
    [[PREDS[0], { id: 'b', box: [1, 2, 3] }], /preds\.jsonl:2: "box" must be 4 finite numbers/],
    [[PREDS[0], { id: 'b' }], /preds\.jsonl:2: no prediction/],
    [[[1, 2]], /preds\.jsonl:1: not a JSON object/],
  ];
  for (const [records, re] of cases) assert.throws(() => readPredictions(jsonl(records)), re);
  const unknown = jsonl([...PREDS, { id: 'zz', box: [0, 0, 1, 1] }]);
  assert.throws(
    () => scorePredictions(unknown, SAMPLES, readPredictions(unknown).preds, 'pixels'),
    /preds\.jsonl:4: id zz is not a sample/,
  );
  const missing = jsonl(PREDS.slice(0, 2));
  assert.throws(
    () => scorePredictions(missing, SAMPLES, readPredictions(missing).preds, 'pixels'),
    /1 sample\(s\) have no prediction \(first: c\).*--lenient/,
  );

  const messy = jsonl([PREDS[0], 'not json', { id: 'b' }, { id: 'zz', box: [0, 0, 1, 1] }]);
  const r = readPredictions(messy, { lenient: true });
  const s = scorePredictions(messy, SAMPLES, r.preds, 'pixels', { lenient: true });
  assert.equal(
    [...r.problems, ...s.problems].map((p) => p.line),
    [2, 3, 4, 0],
  );
  assert.equal(
    s.scores.map((x) => x.iou),
    [0.5, 0, 0],
  );
  assert.equal(
    s.scores.map((x) => x.format),
    [1, 0, 0],
  );
});

test('readPredictions takes the id and completion under the names model harnesses use', () => {
  const file = jsonl([
    { question_id: 'a', completion: '<answer>[0, 0, 10, 10]</answer>' },
    { sample_id: 7, response: 'r' },
    { id: 'c', output: 'o' },
  ]);
  const { preds } = readPredictions(file);
  assert.equal(
    [...preds.values()].map((p) => [p.id, p.text, p.line]),
    [
      ['a', '<answer>[0, 0, 10, 10]</answer>', 1],
      ['7', 'r', 2],
      ['c', 'o', 3],
    ],
  );
});

test('scoreOne at the bounds: IoU 0.7 exactly counts for Acc@0.7, a 1% box is medium, alpha reaches R_pos', () => {
  const s = sample('x', [0, 0, 10, 10]);
  const exact = scoreOne(s, { id: 'x', line: 1, box: [0, 0, 10, 7] }, 'pixels', {});
  close(exact.iou, 0.7, 1e-12);
  close(summarize([exact]).acc70.value, 100, 1e-12);
  assert.is(sizeBucket({ x1: 0, y1: 0, x2: 10, y2: 10 }, img), 'medium'); // exactly 1% of the image
  assert.is(sizeBucket({ x1: 0, y1: 0, x2: 10, y2: 9.99 }, img), 'small');
  const miss = { id: 'x', line: 1, box: [30, 30, 40, 40] as [number, number, number, number] };
  const size = { imageWidth: 100, imageHeight: 100 };
  const box = { x1: 30, y1: 30, x2: 40, y2: 40 };
  close(scoreOne(s, miss, 'pixels', {}).rewards.pos, positionalReward(box, s.gt, { ...size, alpha: 2.5 }), 1e-12);
  close(
    scoreOne(s, miss, 'pixels', { alpha: 1 }).rewards.pos,
    positionalReward(box, s.gt, { ...size, alpha: 1 }),
    1e-12,
  );
  assert.ok(scoreOne(s, miss, 'pixels', { alpha: 1 }).rewards.pos !== scoreOne(s, miss, 'pixels', {}).rewards.pos);
});

test('--parse anywhere reads a bare list only when there is no answer block at all', () => {
  const s = SAMPLES[1];
  const blockWithout = { id: 'b', line: 1, text: '<answer>not sure</answer> maybe [20, 20, 40, 40]' };
  assert.is(scoreOne(s, blockWithout, 'pixels', { parse: 'anywhere' }).iou, 0);
  assert.is(scoreOne(s, { ...blockWithout, text: 'maybe [20, 20, 40, 40]' }, 'pixels', { parse: 'anywhere' }).iou, 1);
});

test.run();
