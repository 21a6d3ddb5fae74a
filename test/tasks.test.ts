import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rolloutReward, DEFAULT_REGION_REWARD } from '../lib/tasks';
import { DEFAULT_GROUNDING_REWARD, groundingReward } from '../lib/rewards';
import { countingSplit, groundingSplit, regionSplit } from '../lib/data/splits';
import type { CountingSample, DetectionSample, RegionSample, VqaSample } from '../lib/data/samples';
import { close } from './helpers';

const g = groundingSplit('val', { count: 2 });
const region = (boxes: RegionSample['boxes']): RegionSample => ({
  ...regionSplit('region-test', { count: 1 })[0],
  boxes,
});
const CFG = { reward: DEFAULT_GROUNDING_REWARD };

test('grounding rollouts score exactly as groundingReward (SPEC §3.5)', () => {
  const text = `<think>x</think><answer>[${g[0].gt.x1}, ${g[0].gt.y1}, ${g[0].gt.x2 + 2}, ${g[0].gt.y2}]</answer>`;
  const r = rolloutReward(text, g[0], g[0], CFG);
  const want = groundingReward(text, g[0].gt, { imageWidth: 64, imageHeight: 64 }, DEFAULT_GROUNDING_REWARD);
  assert.equal(r, { task: 'grounding', format: want.format, iou: want.iou, aux: want.aux, total: want.total });
  // the negative control's target: another query's box
  const other = rolloutReward(text, g[0], g[1], CFG);
  close(other.iou, groundingReward(text, g[1].gt, { imageWidth: 64, imageHeight: 64 }).iou);
});

test('region rollouts: R_format + R_IoU + R_count (SPEC §3.7), hand-computed', () => {
  const s = region([
    { x1: 0, y1: 0, x2: 4, y2: 4 },
    { x1: 10, y1: 10, x2: 14, y2: 14 },
  ]);
  // one of two boxes, exact: R_IoU (eq. 4) = 1/2, R_count = exp(−2·1/2), format 1
  const one = '<think>x</think><answer>[[0, 0, 4, 4]]</answer>';
  const r = rolloutReward(one, s, s, CFG);
  close(r.iou, 0.5);
  close(r.aux, Math.exp(-1));
  close(r.total, 1 + 0.5 + Math.exp(-1));
  assert.is(r.task, 'region');
  // the count term dropped
  close(rolloutReward(one, s, s, { ...CFG, region: { ...DEFAULT_REGION_REWARD, countWeight: 0 } }).total, 1.5);
  // a box used twice: eq. 4 credits it for both targets when they coincide, Hungarian only once
  const twin = region([
    { x1: 0, y1: 0, x2: 4, y2: 4 },
    { x1: 0, y1: 0, x2: 4, y2: 4 },
  ]);
  close(rolloutReward(one, twin, twin, CFG).iou, 1);
  close(rolloutReward(one, twin, twin, { ...CFG, region: { matching: 'hungarian', countWeight: 1 } }).iou, 0.5);
  // garbage earns little and never throws
  const bad = rolloutReward('<answer>[[', s, s, CFG);
  assert.is(bad.format, 0);
  assert.is(bad.iou, 0);
  // task mismatch between a query and its target is a bug, said plainly
  assert.throws(() => rolloutReward(one, s, g[0], CFG), /region query, its target .* is a grounding one/);
});

const tag = (a: string) => `<think> x </think> <answer> ${a} </answer>`;
const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });
const counting = (count: number): CountingSample => ({ ...countingSplit('count-test', { count: 1 })[0], count });
const detection = (boxes: DetectionSample['boxes']): DetectionSample => ({
  task: 'detection',
  id: 'd',
  image: { width: 64, height: 64 },
  query: 'find every ship',
  category: 'ship',
  boxes,
});
const vqa = (answer: string, near: string[]): VqaSample => ({
  task: 'vqa',
  id: 'v',
  image: { width: 64, height: 64 },
  query: 'how many ships in the left half ?',
  kind: 'count',
  answer,
  near,
  category: 'ship',
});

test('counting rollouts: R_format + R_count (SPEC §3.6), hand-computed', () => {
  // n* = 3, answer 2: 1 − |2 − 3| / max(2, 3, 1) = 2/3
  const r = rolloutReward(tag('2'), counting(3), counting(3), CFG);
  assert.is(r.task, 'counting');
  close(r.iou, 2 / 3);
  close(r.total, 1 + 2 / 3);
  assert.is(r.aux, 0);
  // a sentence in the answer still counts (the first integer) but is not the format
  const loose = rolloutReward(tag('there are 3 ships'), counting(3), counting(3), CFG);
  assert.equal([loose.format, loose.iou], [0, 1]);
  assert.equal([rolloutReward('garbage', counting(3), counting(3), CFG).total], [0]);
});

test('detection rollouts: R_format + F1@0.5 (SPEC §6.3), hand-computed', () => {
  const d = detection([box(0, 0, 10, 10), box(20, 20, 30, 30)]);
  // one of two found, no extra box: P = 1, R = 1/2, F1 = 2/3
  const r = rolloutReward(tag('[[0, 0, 10, 10]]'), d, d, CFG);
  assert.equal([r.task, r.format], ['detection', 1]);
  close(r.iou, 2 / 3);
  // a half-overlapping box (IoU 0.5) counts; a box at IoU 1/3 does not
  close(rolloutReward(tag('[[0, 0, 10, 5], [20, 20, 30, 30]]'), d, d, CFG).iou, 1);
  close(rolloutReward(tag('[[0, 0, 30, 10], [20, 20, 30, 30]]'), d, d, CFG).iou, 0.5); // IoU 1/3: P = R = 1/2
  const none = detection([]);
  assert.equal([rolloutReward(tag('[]'), none, none, CFG).iou, rolloutReward(tag('[]'), d, d, CFG).iou], [1, 0]);
});

test('VQA rollouts: 1 for the answer, 0.6 for a near answer, else 0; compared case- and space-blind', () => {
  const q = vqa('3', ['2', '4']);
  assert.equal(
    ['3', ' 3 .', '4', '2', '5', ''].map((a) => rolloutReward(tag(a), q, q, CFG).iou),
    [1, 1, 0.6, 0.6, 0, 0],
  );
  const c = vqa('storage tank', []);
  assert.is(rolloutReward(tag('Storage  Tank'), c, c, CFG).total, 2);
  // a blank answer is not the format; no answer block scores nothing
  assert.equal([rolloutReward(tag(''), c, c, CFG).format, rolloutReward('storage tank', c, c, CFG).total], [0, 0]);
});

test('a rollout is scored against a target of its own task only', () => {
  assert.throws(() => rolloutReward(tag('3'), counting(3), vqa('3', []), CFG), /counting query, its target v is a vqa/);
});

test('an unparseable detection answer finds nothing; R_pos clips to a non-square image’s own height', () => {
  const d = detection([box(0, 0, 10, 10)]);
  assert.is(rolloutReward('no boxes here', d, d, CFG).iou, 0);
  const wide = { ...g[0], image: { ...g[0].image, width: 128, height: 32 }, gt: box(10, 10, 20, 20) };
  const text = '<think>x</think><answer>[10, 22, 20, 40]</answer>'; // below the target, past the image's edge
  const want = groundingReward(text, wide.gt, { imageWidth: 128, imageHeight: 32 }, DEFAULT_GROUNDING_REWARD);
  const square = groundingReward(text, wide.gt, { imageWidth: 128, imageHeight: 128 }, DEFAULT_GROUNDING_REWARD);
  assert.ok(want.aux > 0 && want.aux !== square.aux, `${want.aux} ${square.aux}`);
  assert.is(rolloutReward(text, wide, wide, CFG).aux, want.aux);
});

test.run();
