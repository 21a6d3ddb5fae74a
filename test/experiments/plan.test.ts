/** `--plan`: stages grouped by cost, timed from finished stages, and the executor's schedule replayed. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BaseSpec, type GrpoSpec, type SftSpec, DEFAULT_GRPO, DEFAULT_SFT } from '../../lib/pipeline';
import { costClass, planLines, planStages, rateKeys } from '../../experiments/plan';
import { budgetOf } from '../../experiments/cost';
import { TINY } from '../helpers';

const base: BaseSpec = {
  kind: 'base',
  arch: { ...TINY, stemHidden: 0, positionReadout: true },
  seed: 0,
  sft: { ...DEFAULT_SFT, steps: 100 },
  curriculum: [{ until: 1, data: { split: 'generic', count: 4 } }],
  eval: { split: 'val', count: 2 },
};
const sft: SftSpec = {
  kind: 'sft',
  from: base,
  seed: 1,
  sft: { ...DEFAULT_SFT, steps: 50 },
  data: { split: 'train', count: 4 },
  eval: { split: 'val', count: 2 },
};
const grpo = (from: BaseSpec | SftSpec, steps: number): GrpoSpec => ({
  kind: 'grpo',
  from,
  seed: 1,
  grpo: { ...DEFAULT_GRPO, steps },
  data: { split: 'train', count: 4 },
  eval: { split: 'val', count: 2 },
});

function inEmptyRuns<T>(fn: () => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'rsg-plan-'));
  const prev = process.env.RSG_RUNS_DIR;
  process.env.RSG_RUNS_DIR = dir;
  try {
    return fn();
  } finally {
    if (prev === undefined) delete process.env.RSG_RUNS_DIR;
    else process.env.RSG_RUNS_DIR = prev;
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the schedule replays the executor: parents first, the first ready task takes a free job', () => {
  inEmptyRuns(() => {
    const timed = [
      { cls: costClass(base), kind: 'base', steps: 100, seconds: 100 },
      { cls: costClass(sft), kind: 'sft', steps: 50, seconds: 50 },
      { cls: costClass(grpo(sft, 10)), kind: 'grpo', steps: 10, seconds: 10 },
      { cls: costClass(grpo(base, 10)), kind: 'grpo', steps: 10, seconds: 30 },
      { cls: costClass(grpo(base, 10)), kind: 'grpo', steps: 10, seconds: 10 }, // median of 30 and 10: 20
    ];
    // By hand, 2 jobs: base 0–100; then sft 100–150 beside grpo(base) 100–120; grpo(sft) 150–160.
    const p = planStages([grpo(sft, 10), grpo(base, 10)], 2, timed);
    assert.is(p.wallSeconds, 160);
    assert.is(p.pendingSeconds, 100 + 50 + 10 + 20);
    assert.is(p.untimed, 0);
    assert.equal(
      p.rows.map((r) => [r.stages, r.done, r.seconds, r.basis]),
      [
        [1, 0, 100, 'median of 1'],
        [1, 0, 50, 'median of 1'],
        [1, 0, 10, 'median of 1'],
        [1, 0, 20, 'median of 2'],
      ],
    );
    // One job: everything in a row.
    assert.is(planStages([grpo(sft, 10), grpo(base, 10)], 1, timed).wallSeconds, 180);
  });
});

test('a group not timed here borrows seconds per step from the closest timed one: split, then budget', () => {
  inEmptyRuns(() => {
    const geocot: SftSpec = { ...sft, sft: { ...sft.sft, target: 'geocot' }, maxCompletionLen: 128 };
    const long = (steps: number, split: string): GrpoSpec => ({
      ...grpo(geocot, steps),
      grpo: { ...DEFAULT_GRPO, steps, maxLen: 128 },
      data: { split, count: 4 },
    });
    const timedAs = (s: GrpoSpec, seconds: number) => ({
      cls: costClass(s),
      kind: s.kind,
      keys: rateKeys(s),
      steps: s.grpo.steps,
      seconds,
    });
    const timed = [timedAs(grpo(base, 10), 10), timedAs(long(10, 'train'), 25)]; // 1 and 2.5 s/step
    const fewShot = { ...grpo(base, 40), data: { split: 'train', count: 2 } };
    const p = planStages([fewShot, long(20, 'multi-train')], 1, timed);
    assert.equal(
      p.rows.map((r) => [r.cls, r.seconds, r.basis]),
      [
        [costClass(base), null, 'not timed here'],
        [costClass(fewShot), 40, 's/step of GRPO from base, 8×8 rollouts ≤ 64 tokens on train'],
        [costClass(geocot), null, 'not timed here'],
        [costClass(long(20, 'multi-train')), 50, 's/step of GRPO from sft (geocot), 8×8 rollouts ≤ 128 tokens'],
      ],
    );
    // the kind alone would have priced the Geo-CoT stage at the median of 1 and 2.5 s/step
    assert.equal(rateKeys(long(20, 'multi-train')).at(-1), 'grpo');
  });
});

test('an SFT group with no SFT timed here steps at the base’s pretraining rate, and says so', () => {
  inEmptyRuns(() => {
    const timed = [{ cls: costClass(base), kind: 'base', keys: rateKeys(base), steps: 100, seconds: 30 }]; // 0.3 s/step
    const p = planStages([grpo(sft, 40)], 1, timed);
    assert.equal(
      p.rows.map((r) => [r.cls, r.seconds, r.basis]),
      [
        [costClass(base), 30, 'median of 1'],
        [costClass(sft), 15, 's/step of base'],
        [costClass(grpo(sft, 40)), null, 'not timed here'],
      ],
    );
    // a timed SFT stage of any kind comes first
    const withSft = [...timed, { cls: 'other sft', kind: 'sft', keys: ['sft'], steps: 10, seconds: 1 }];
    assert.equal(planStages([sft], 1, withSft).rows[1].basis, 's/step of sft');
  });
});

test('a group not timed here takes its kind’s seconds per step; a kind not timed at all is counted apart', () => {
  inEmptyRuns(() => {
    const timed = [
      { cls: 'other sft', kind: 'sft', steps: 10, seconds: 20 },
      { cls: 'other grpo', kind: 'grpo', steps: 10, seconds: 5 },
    ];
    const p = planStages([grpo(sft, 40)], 1, timed);
    assert.equal(
      p.rows.map((r) => [r.seconds, r.basis]),
      [
        [null, 'not timed here'],
        [100, 's/step of sft'],
        [20, 's/step of grpo'],
      ],
    );
    assert.is(p.untimed, 1);
    assert.is(p.wallSeconds, 120);
    assert.match(
      planLines(p, 1).join('\n'),
      /3 stages, 0 done; the rest: 2m00s of one core, about 2m00s on 1 job\(s\) — plus 1 stage/,
    );
  });
});

test('borrowed by kind alone, seconds per step scale with the completion budget, and the basis says so', () => {
  inEmptyRuns(() => {
    const b = base.arch.maxCompletionLen,
      g = DEFAULT_GRPO.maxLen;
    const geocot: SftSpec = { ...sft, sft: { ...sft.sft, target: 'geocot' }, maxCompletionLen: 2 * b };
    const long: GrpoSpec = { ...grpo(geocot, 20), grpo: { ...DEFAULT_GRPO, steps: 20, maxLen: 2 * g } };
    assert.equal([budgetOf(base), budgetOf(geocot), budgetOf(sft), budgetOf(long)], [b, 2 * b, b, 2 * g]);
    // GRPO from the base at g tokens, 1 and 3 s/step (median 2); the base pretrains at 0.5 s/step
    const timed = [
      { cls: 'g1', kind: 'grpo', keys: rateKeys(grpo(base, 10)), budget: g, steps: 10, seconds: 10 },
      { cls: 'g2', kind: 'grpo', keys: rateKeys(grpo(base, 10)), budget: g, steps: 10, seconds: 30 },
      { cls: costClass(base), kind: 'base', keys: rateKeys(base), budget: b, steps: 100, seconds: 50 },
    ];
    const p = planStages([long, grpo(sft, 20)], 1, timed);
    assert.equal(
      p.rows.map((r) => [r.cls, r.seconds, r.basis]),
      [
        [costClass(base), 50, 'median of 1'],
        // 50 steps at the base's 0.5 s/step, doubled for twice the tokens
        [costClass(geocot), 50, `s/step of base, scaled to ${2 * b} tokens`],
        [costClass(long), 80, `s/step of grpo, scaled to ${2 * g} tokens`],
        [costClass(sft), 25, 's/step of base'],
        [costClass(grpo(sft, 20)), 40, 's/step of grpo'],
      ],
    );
  });
});

test.run();
