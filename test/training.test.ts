/** lib/training.ts: when the SFT and GRPO loops evaluate and checkpoint (hand-listed steps). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isCheckpointStep, isEvalStep } from '../lib/training';

const steps = (f: (done: number) => boolean, total: number) => Array.from({ length: total }, (_, i) => i + 1).filter(f);

test('isEvalStep: every `every` steps, never at the end (the final evaluation covers it), never when 0', () => {
  assert.equal(
    steps((d) => isEvalStep(d, 100, 400), 400),
    [100, 200, 300],
  );
  assert.equal(
    steps((d) => isEvalStep(d, 3, 10), 10),
    [3, 6, 9],
  );
  assert.equal(
    steps((d) => isEvalStep(d, 0, 10), 10),
    [],
  );
});

test('isCheckpointStep: every `every` steps and at the end', () => {
  assert.equal(
    steps((d) => isCheckpointStep(d, 50, 120), 120),
    [50, 100, 120],
  );
  assert.equal(
    steps((d) => isCheckpointStep(d, 50, 100), 100),
    [50, 100],
  );
  assert.equal(
    steps((d) => isCheckpointStep(d, 500, 40), 40),
    [40],
  );
});

test.run();
