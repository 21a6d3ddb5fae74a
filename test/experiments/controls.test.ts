/** The controls' pass rules on hand-made rows: the cells REPORT.md opens with, deciding if a scale is interpretable. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { controlResults, controlsMarkdown } from '../../experiments/controls';
import { type Row, rowsOf } from '../../experiments/results';
import { V } from '../../experiments/variants';
import type { Evaluation } from '../../lib/evaluate';

// One evaluation per seed with the given Acc@0.5 (ten samples, the first k right).
const seedAcc = (acc: number) =>
  ({
    acc50: acc,
    results: Array.from({ length: 10 }, (_, i) => ({ iou: i < acc * 10 ? 1 : 0 })),
  }) as unknown as Evaluation;
const row = (variant: Row['variant'], accs: number[]): Row => ({
  variant,
  seeds: accs.map((_, i) => i + 1),
  evals: accs.map(seedAcc),
});

test('every control passes: IoU reward above format-only, wrong box below, A/A interval across 0', () => {
  const rows = rowsOf([
    row(V.grpo, [0.3, 0.4, 0.5]),
    row(V.grpoFormatOnly, [0.1, 0.2, 0.2]), // grpo − it: .2, .2, .3 → mean 23.33 > 0
    row(V.grpoWrongBox, [0.0, 0.1, 0.2]), // it − grpo: −.3 each → CI [−30, −30]
    row(V.grpoAA, [0.4, 0.3, 0.5]), // it − grpo: .1, −.1, 0 → CI around 0
  ]);
  const [pos, neg, aa] = controlResults(rows);
  assert.equal([pos.passes, neg.passes, aa.passes], [true, true, true]);
  // mean 23.33, sd 5.77, t(.975, 2) = 4.3027: half-width 14.34
  assert.is(pos.difference, '23.33 [8.99, 37.68]');
  assert.is(neg.difference, '-30.00 [-30.00, -30.00]');
  assert.is(aa.difference, '0.00 [-24.84, 24.84]');
  const md = controlsMarkdown([pos, neg, aa]);
  assert.match(md, '| control | expected | difference (95% CI) | passes |');
  assert.equal(md.match(/\| yes \|/g)?.length, 3);
});

test('each control fails: no gain from R_IoU, no harm from the wrong box, an A/A interval that misses 0', () => {
  const rows = rowsOf([
    row(V.grpo, [0.3, 0.4, 0.5]),
    row(V.grpoFormatOnly, [0.3, 0.5, 0.4]), // grpo − it: 0, −.1, .1: covers 0, not above it
    row(V.grpoWrongBox, [0.4, 0.5, 0.6]), // +.1 each: above 0
    row(V.grpoAA, [0.4, 0.5, 0.6]), // +.1 each: the interval [10, 10] misses 0
  ]);
  const [pos, neg, aa] = controlResults(rows);
  assert.equal([pos.passes, neg.passes, aa.passes], [false, false, false]);
  assert.equal(controlsMarkdown([pos, neg, aa]).match(/\| no \|/g)?.length, 3);
});

test('an interval that touches 0 decides each control the strict way (A/A covers a bound of exactly 0)', () => {
  // differences 0 in every seed: [0, 0]
  const same = [0.3, 0.4, 0.5];
  const [pos, neg, aa] = controlResults(
    rowsOf([row(V.grpo, same), row(V.grpoFormatOnly, same), row(V.grpoWrongBox, same), row(V.grpoAA, same)]),
  );
  assert.equal([pos.passes, neg.passes, aa.passes], [false, false, true]);
});

test.run();
