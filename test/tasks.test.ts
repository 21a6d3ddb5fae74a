import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rolloutReward, DEFAULT_REGION_REWARD } from '../lib/tasks';
import { DEFAULT_GROUNDING_REWARD, groundingReward } from '../lib/rewards';
import { groundingSplit, regionSplit } from '../lib/data/splits';
import type { RegionSample } from '../lib/data/samples';
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
  assert.throws(() => rolloutReward(one, s, g[0], CFG), /region query, its target is not/);
});

test.run();
