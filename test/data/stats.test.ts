import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  datasetStats,
  regionStats,
  regionStatsMarkdown,
  statsMarkdown,
  taskMixStats,
  taskMixStatsMarkdown,
} from '../../lib/data/stats';
import type { GroundingSample, RegionSample, TaskSample } from '../../lib/data/samples';
import { REGION_OOD_SPLITS, regionSplit } from '../../lib/data/splits';

const mk = (
  id: string,
  gt: { x1: number; y1: number; x2: number; y2: number },
  objects: { box: typeof gt }[],
  distractors: number[],
  cueFamily: string,
): GroundingSample => ({
  id,
  image: { width: 64, height: 64 },
  query: 'q',
  gt,
  category: 'vehicle',
  unique: distractors.length === 0,
  meta: { objects, distractors, cueFamily },
});

test('hand-computed statistics on three samples', () => {
  const g1 = { x1: 0, y1: 0, x2: 4, y2: 4 },
    g2 = { x1: 10, y1: 10, x2: 19, y2: 19 };
  const s = datasetStats([
    mk('a', g1, [{ box: g1 }, { box: { x1: 2, y1: 2, x2: 6, y2: 6 } }], [1], 'ordinal'), // distractor overlaps: IoU > 0
    mk(
      'b',
      g2,
      [{ box: g2 }, { box: { x1: 40, y1: 40, x2: 49, y2: 49 } }, { box: { x1: 0, y1: 50, x2: 9, y2: 59 } }],
      [1, 2],
      'absolute',
    ),
    mk('c', g1, [{ box: g1 }], [], 'category'),
  ]);
  assert.is(s.n, 3);
  assert.equal(s.cueFamilies, { ordinal: 1, absolute: 1, category: 1 });
  assert.is(s.uniqueFrac, 1 / 3);
  assert.is(s.distractorFrac, 2 / 3);
  assert.is(s.meanDistractors, 1);
  assert.equal(s.objectsPerImage, { mean: 2, min: 1, max: 3 });
  assert.is(s.targetSide.median, 4); // √16, √81, √16 → sorted 4, 4, 9
  assert.is(s.distractorIoUZero, 2 / 3); // of three distractors, the two far ones
  assert.match(statsMarkdown('x', s), /with same-class distractors: 66\.7%/);
});

test('region statistics: how many objects each query names, hand-counted', () => {
  const box = { x1: 0, y1: 0, x2: 2, y2: 2 };
  const r = (category: string, k: number): RegionSample => ({
    id: `${category}-${k}`,
    image: { width: 8, height: 8 },
    query: `all ${category}s`,
    category,
    boxes: Array.from({ length: k }, () => box),
  });
  const st = regionStats([r('ship', 0), r('ship', 2), r('vehicle', 1), r('vehicle', 2)]);
  assert.equal(st.targets, { 0: 1, 1: 1, 2: 2 });
  assert.equal(st.classes, { ship: 2, vehicle: 2 });
  assert.is(st.emptyFrac, 0.25);
  assert.is(st.meanTargets, 5 / 4);
  assert.match(regionStatsMarkdown('x', st), '0: 25.0%, 1: 25.0%, 2: 50.0% (mean 1.25; none: 25.0%)');
});

test('region splits: some queries name nothing, several name many; the dense shift names more', () => {
  const test = regionStats(regionSplit('region-test', { count: 300 }));
  const dense = regionStats(regionSplit(REGION_OOD_SPLITS[2], { count: 300 }));
  assert.ok(test.emptyFrac > 0.05 && test.emptyFrac < 0.5, `empty ${test.emptyFrac}`);
  assert.ok(Object.keys(test.targets).some((k) => Number(k) >= 3));
  assert.ok(dense.meanTargets > test.meanTargets, `${dense.meanTargets} vs ${test.meanTargets}`);
});

test('task mix statistics, hand-counted: tasks, objects per counting/detection query, VQA kinds and answers', () => {
  const img = { width: 64, height: 64 };
  const b = { x1: 0, y1: 0, x2: 4, y2: 4 };
  const samples = [
    mk('g', b, [], [], 'category'),
    { task: 'counting', id: 'c', image: img, query: 'q', category: 'ship', count: 2, boxes: [b, b] },
    { task: 'detection', id: 'd', image: img, query: 'q', category: 'ship', boxes: [b] },
    { task: 'vqa', id: 'v1', image: img, query: 'q', kind: 'presence', answer: 'no', near: [], category: 'ship' },
    {
      task: 'vqa',
      id: 'v2',
      image: img,
      query: 'q',
      kind: 'presence',
      answer: 'there are',
      near: [],
      category: 'ship',
    },
    { task: 'vqa', id: 'v3', image: img, query: 'q', kind: 'count', answer: '1', near: ['0', '2'], category: 'ship' },
  ] as TaskSample[];
  const st = taskMixStats(samples);
  assert.equal(st.tasks, { grounding: 1, counting: 1, detection: 1, vqa: 3 });
  assert.equal(st.objects, { 1: 1, 2: 1 });
  assert.equal(st.vqaKinds, { presence: 2, count: 1 });
  assert.equal(st.vqaAnswers, { presence: { no: 1, 'there are': 1 }, count: { 1: 1 } });
  const md = taskMixStatsMarkdown('mix', st);
  assert.match(md, /tasks: vqa 50.0%/);
  assert.match(md, /VQA presence answers: no 50.0%, there are 50.0%/);
});

test.run();
