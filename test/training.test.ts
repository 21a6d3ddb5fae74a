/** lib/training.ts: when the SFT and GRPO loops evaluate and checkpoint (hand-listed steps), and model selection. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkSelection, isCheckpointStep, isEvalStep, Selector } from '../lib/training';
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

test('Selector: keeps the best (earliest on a tie), stops after `patience` evaluations without a better one', () => {
  const { calls, policy } = recorder();
  const s = new Selector({ every: 10, patience: 3 }, '/runs/x');
  assert.equal(
    [5, 10, 15, 20].map((d) => s.due(d)),
    [false, true, false, true],
  );
  // acc50 at steps 10…60: 0.2, 0.3, 0.3 (a tie: not better), 0.25, 0.1 → three without a better one at 50
  const seen = [0.2, 0.3, 0.3, 0.25, 0.1].map((a, i) => s.observe(10 * (i + 1), ev(a), policy));
  assert.equal(seen, [false, false, false, false, true]);
  assert.equal(s.state, { best: 0.3, bestStep: 20, since: 3, stopped: true });
  assert.equal(calls, ['save best 10', 'save best 20']);
  let saved = 0;
  s.finish(policy, () => saved++);
  assert.equal(calls.slice(2), ['restore best']);
  assert.is(saved, 1);
  assert.equal(s.summary(50), { step: 20, acc50: 0.3, trained: 50 });
  // no evaluation this step: nothing changes
  assert.is(s.observe(60, undefined, policy), false);
  assert.is(s.state.since, 3);
});

test('Selector: a resumed selector continues from its saved state; without a selection nothing happens', () => {
  const { calls, policy } = recorder();
  const s = new Selector({ every: 1, patience: 2 }, '/r', { best: 0.5, bestStep: 4, since: 1, stopped: false });
  assert.is(s.observe(6, ev(0.5), policy), true); // the second evaluation in a row without a better one
  assert.equal(calls, []);
  const none = new Selector(undefined, '/r');
  assert.is(none.due(10), false);
  assert.is(none.observe(10, ev(0.9), policy), false);
  none.finish(policy, () => calls.push('saved'));
  assert.equal(calls, []);
  assert.is(none.summary(10), undefined);
  // selection configured but nothing evaluated yet: the loop's model stays, summary says nothing
  const early = new Selector({ every: 100, patience: 1 }, '/r');
  early.finish(policy, () => calls.push('saved'));
  assert.equal(calls, []);
  assert.is(early.summary(50), undefined);
});

test('checkSelection: whole numbers ≥ 1, the field named', () => {
  assert.equal(checkSelection({ every: 5, patience: 1 }, 'sft.select'), { every: 5, patience: 1 });
  assert.throws(
    () => checkSelection({ every: 0, patience: 1 }, 'sft.select'),
    /sft\.select\.every = 0: must be an integer ≥ 1/,
  );
  assert.throws(() => checkSelection({ every: 5, patience: 1.5 }, 'grpo.select'), /grpo\.select\.patience = 1\.5/);
});

test.run();
