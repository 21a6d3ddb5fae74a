/** A stage's price here: read from the finished stages of a runs directory, by cost class or borrowed rate. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GrpoSpec, type StageSpec, DEFAULT_GRPO, stageDir } from '../../lib/pipeline';
import { costClass, stagePricer, stageSteps, timedStages } from '../../experiments/cost';
import { withTempDirs } from '../helpers';
import { tinyBase } from '../stages';

const base = tinyBase(0, 100);
const grpo = (seed: number, steps: number): GrpoSpec => ({
  kind: 'grpo',
  from: base,
  seed,
  grpo: { ...DEFAULT_GRPO, steps },
  data: { split: 'train', count: 4 },
  eval: { split: 'val', count: 2 },
});

function finished(spec: StageSpec, seconds: number, steps = stageSteps(spec)): void {
  const dir = stageDir(spec);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ spec }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ kind: spec.kind, seconds, steps }));
}

test('timed from summary.json: finished stages by class, unfinished and unreadable ones left out', () =>
  withTempDirs(['RSG_RUNS_DIR'], () => {
    finished(base, 300);
    finished(grpo(1, 10), 20);
    finished(grpo(2, 10), 40);
    finished(grpo(3, 10), 90);
    // a stage still training (no summary) and one whose summary is torn
    mkdirSync(stageDir(grpo(4, 10)), { recursive: true });
    writeFileSync(join(stageDir(grpo(4, 10)), 'config.json'), JSON.stringify({ spec: grpo(4, 10) }));
    finished(grpo(5, 10), 1);
    writeFileSync(join(stageDir(grpo(5, 10)), 'summary.json'), '{"seconds": 1');
    const timed = timedStages();
    assert.equal(timed.map((t) => [t.kind, t.seconds]).sort(), [
      ['base', 300],
      ['grpo', 20],
      ['grpo', 40],
      ['grpo', 90],
    ]);
    // each with its completion budget: the base's answers, the GRPO rollouts' cap
    assert.equal(timed.map((t) => [t.kind, t.budget]).sort(), [
      ['base', base.arch.maxCompletionLen],
      ...[1, 2, 3].map(() => ['grpo', DEFAULT_GRPO.maxLen]),
    ]);
    const price = stagePricer(timed);
    // its own class: the median of 20, 40 and 90 s; a 30-step run borrows 40/10 s per step (the median rate)
    assert.equal(price(grpo(9, 10)), { seconds: 40, basis: 'median of 3' });
    assert.equal(price(grpo(9, 30)), {
      seconds: 120,
      basis: `s/step of GRPO from base, 8×8 rollouts ≤ 64 tokens on train`,
    });
    assert.is(costClass(grpo(9, 30)), costClass(grpo(1, 30)));
    // a stage that stops early on val is priced by its own kind, not by full-budget stages
    const selecting = { ...grpo(9, 10), select: { first: 2, growth: 2, patience: 1 } };
    assert.is(costClass(selecting), 'GRPO from base on train, ≤ 10 steps (stops early on val), ≤ 64 tokens');
    assert.is(price(selecting).basis, `s/step of GRPO from base, 8×8 rollouts ≤ 64 tokens on train`);
    const whole = { ...grpo(9, 10), select: { first: 2, growth: 2 } };
    assert.is(costClass(whole), 'GRPO from base on train, 10 steps (selected on val), ≤ 64 tokens');
    // nothing timed: unknown
    assert.equal(stagePricer([])(grpo(9, 10)), { seconds: null, basis: 'not timed here' });
  }));

test.run();
