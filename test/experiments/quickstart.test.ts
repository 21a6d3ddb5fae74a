import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rowsOf, type Row } from '../../experiments/results';
import { VARIANTS, experiment, pairedTable } from '../../experiments/quickstart';
import { SCALES } from '../../experiments/scales';
import type { Evaluation } from '../../lib/evaluate';

const ev = (acc50: number, miou: number) => ({ acc50, acc70: 0, miou, ciou: 0 }) as unknown as Evaluation;
const row = (i: number, seeds: number[], evals: Evaluation[]): Row => ({ variant: VARIANTS[i], seeds, evals });

test('the paired table: per-seed differences, their mean and Student-t interval, by hand', () => {
  const seeds = [1, 2, 3];
  const rows = rowsOf([
    row(0, seeds, [ev(0.1, 0.2), ev(0.12, 0.2), ev(0.14, 0.2)]),
    row(1, seeds, [ev(0.18, 0.25), ev(0.22, 0.26), ev(0.2, 0.27)]),
    row(2, seeds, [ev(0.17, 0.25), ev(0.2, 0.26), ev(0.2, 0.27)]),
  ]);
  const t = pairedTable(rows, [
    ['grpo', 'base'],
    ['grpo-pos-sc', 'grpo'],
  ]);
  // GRPO − base: 8, 10, 6 points → mean 8, sd 2, t(0.975, 2) = 4.3027 → half-width 4.3027·2/√3 = 4.968
  assert.is(t.rows[0][0], 'GRPO (R_format + R_IoU) − base (no RFT)');
  assert.is(t.rows[0][1], '8.00 [3.03, 12.97]');
  assert.is(t.rows[0][2], '8.00, 10.00, 6.00');
  // mIoU: 5, 6, 7 → mean 6, sd 1 → half-width 2.484
  assert.is(t.rows[0][3], '6.00 [3.52, 8.48]');
  // the second pair: −1, −2, 0 → mean −1, sd 1
  assert.is(t.rows[1][1], '-1.00 [-3.48, 1.48]');
  assert.match(t.note!, /3 seeds/);
});

test('one seed: the difference without an interval, and the note says it is not a finding', () => {
  const rows = rowsOf([row(0, [1], [ev(0.13, 0.14)]), row(1, [1], [ev(0.108, 0.157)]), row(2, [1], [ev(0.082, 0.13)])]);
  const t = pairedTable(rows, [['grpo', 'base']]);
  assert.is(t.rows[0][1], '-2.20 (n=1)');
  assert.match(t.note!, /n = 1.*no difference here is a finding/);
});

test('the default quickstart: three seeds, the default GRPO learning rate, 300 steps; quick stays one seed', () => {
  const c = experiment.configure!(SCALES.default, 'default');
  assert.equal(c.seeds, [1, 2, 3]);
  assert.is(c.grpo.steps, 300);
  assert.is(c.grpo.lr, SCALES.default.grpo.lr);
  assert.is(c.base.steps, 900);
  assert.equal(experiment.configure!(SCALES.quick, 'quick').seeds, [1]);
  // three seeds × (base + two GRPO variants)
  assert.is(experiment.specs(c).length, 9);
});

test.run();
