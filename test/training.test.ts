/** lib/training.ts: when the SFT and GRPO loops evaluate and checkpoint (hand-listed steps), and model selection. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkSelection, isCheckpointStep, isEvalStep, selectionSteps, Selector } from '../lib/training';
import type { Evaluation } from '../lib/evaluate';
import type { Policy } from '../lib/model/policy';

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

/** A stand-in policy that records what selection saves and restores. */
function recorder() {
  const calls: string[] = [];
  const policy = {
    save: (dir: string, st: { step: number }) => calls.push(`save ${dir.split('/').pop()} ${st.step}`),
    restore: (dir: string) => calls.push(`restore ${dir.split('/').pop()}`),
  } as unknown as Policy;
  return { calls, policy };
}
const ev = (acc50: number) => ({ acc50 }) as Evaluation;

test('selectionSteps: first·growthⁱ rounded, each step once, then the last step', () => {
  assert.equal(selectionSteps({ first: 10, growth: 2, patience: 1 }, 100), [10, 20, 40, 80, 100]);
  // √2 from 5 over 40 steps: 5, 7.07, 10, 14.14, 20, 28.28 (40 is the end)
  assert.equal(selectionSteps({ first: 5, growth: Math.SQRT2, patience: 1 }, 40), [5, 7, 10, 14, 20, 28, 40]);
  // 1, 1.2, 1.44, 1.73, 2.07, 2.49, 2.99, 3.58, 4.30 (5.16 is past the end): repeats once each
  assert.equal(selectionSteps({ first: 1, growth: 1.2, patience: 1 }, 5), [1, 2, 3, 4, 5]);
  // a first step past the end: only the end
  assert.equal(selectionSteps({ first: 50, growth: 2, patience: 1 }, 30), [30]);
});

test('Selector: keeps the best (earliest on a tie), stops after `patience` evaluations without a better one', () => {
  const { calls, policy } = recorder();
  const s = new Selector({ first: 10, growth: 2, patience: 3 }, 200, '/runs/x');
  assert.equal(
    [5, 10, 15, 20, 40, 60, 200].map((d) => s.due(d)),
    [false, true, false, true, true, false, true],
  );
  // acc50 at steps 10, 20, 40, 80, 160: 0.2, 0.3, 0.3 (a tie: not better), 0.25, 0.1 → three without a better one
  const seen = [0.2, 0.3, 0.3, 0.25, 0.1].map((a, i) => s.observe(10 * 2 ** i, ev(a), policy));
  assert.equal(seen, [false, false, false, false, true]);
  assert.equal(s.state, { best: 0.3, bestStep: 20, since: 3, stopped: true });
  assert.equal(calls, ['save best 10', 'save best 20']);
  let saved = 0;
  s.finish(policy, () => saved++);
  assert.equal(calls.slice(2), ['restore best']);
  assert.is(saved, 1);
  assert.equal(s.summary(160), { step: 20, acc50: 0.3, trained: 160 });
  // no evaluation this step: nothing changes
  assert.is(s.observe(170, undefined, policy), false);
  assert.is(s.state.since, 3);
});

test('Selector: a resumed selector continues from its saved state; without a selection nothing happens', () => {
  const { calls, policy } = recorder();
  const saved = { best: 0.5, bestStep: 4, since: 1, stopped: false };
  const s = new Selector({ first: 1, growth: 2, patience: 2 }, 8, '/r', saved);
  assert.is(s.observe(8, ev(0.5), policy), true); // the second evaluation in a row without a better one
  assert.equal(calls, []);
  const none = new Selector(undefined, 10, '/r');
  assert.is(none.due(10), false);
  assert.is(none.observe(10, ev(0.9), policy), false);
  none.finish(policy, () => calls.push('saved'));
  assert.equal(calls, []);
  assert.is(none.summary(10), undefined);
  // selection configured but nothing evaluated yet: the loop's model stays, summary says nothing
  const early = new Selector({ first: 100, growth: 2, patience: 1 }, 200, '/r');
  early.finish(policy, () => calls.push('saved'));
  assert.equal(calls, []);
  assert.is(early.summary(50), undefined);
});

test('Selector without a patience keeps the best and never stops: the whole budget trains', () => {
  const { calls, policy } = recorder();
  const s = new Selector({ first: 1, growth: 2 }, 64, '/r');
  const seen = [0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1].map((a, i) => s.observe(2 ** i, ev(a), policy));
  assert.equal(seen, Array(7).fill(false));
  assert.equal(s.state, { best: 0.4, bestStep: 1, since: 6, stopped: false });
  assert.equal(calls, ['save best 1']);
});

test('checkSelection: first and patience (optional) whole numbers ≥ 1, growth > 1, the field named', () => {
  const ok = { first: 5, growth: 1.5, patience: 1 };
  assert.equal(checkSelection(ok, 'sft.select'), ok);
  assert.equal(checkSelection({ first: 5, growth: 2 }, 'grpo.select'), { first: 5, growth: 2 });
  assert.throws(
    () => checkSelection({ ...ok, first: 0 }, 'sft.select'),
    /sft\.select\.first = 0: must be an integer ≥ 1/,
  );
  assert.throws(() => checkSelection({ ...ok, patience: 1.5 }, 'grpo.select'), /grpo\.select\.patience = 1\.5/);
  assert.throws(
    () => checkSelection({ ...ok, growth: 1 }, 'grpo.select'),
    /grpo\.select\.growth = 1: must be a number > 1/,
  );
  assert.throws(() => checkSelection({ ...ok, growth: NaN }, 'grpo.select'), /growth = NaN/);
});

test.run();
