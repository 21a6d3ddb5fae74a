/** lib/data/samples.ts: a sample's task from its shape. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type TaskSample, isGroundingSample, isRegionSample, taskOf } from '../../lib/data/samples';

const image = { width: 8, height: 8 };
const box = { x1: 1, y1: 1, x2: 4, y2: 4 };
const base = { id: 'x', image, query: 'q', category: 'ship' };

test('taskOf: counting, detection and VQA name their task; grounding has one box, a region a list', () => {
  const cases: [TaskSample, string][] = [
    [{ ...base, gt: box, unique: true }, 'grounding'],
    [{ ...base, boxes: [box] }, 'region'],
    [{ ...base, boxes: [] }, 'region'], // a region query may name no object
    [{ ...base, task: 'counting', count: 2, boxes: [box, box] }, 'counting'],
    [{ ...base, task: 'detection', boxes: [box] }, 'detection'],
    [{ ...base, task: 'vqa', kind: 'presence', answer: 'no', near: [] }, 'vqa'],
  ];
  for (const [s, want] of cases) {
    assert.is(taskOf(s), want);
    assert.is(isGroundingSample(s), want === 'grounding');
    assert.is(isRegionSample(s), want === 'region');
  }
});

test.run();
