import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { comparisonTable, type Row } from '../../experiments/results';
import { V } from '../../experiments/variants';
import type { Evaluation } from '../../lib/evaluate';

const ev = (acc50: number) => ({ acc50, acc70: acc50 / 2, miou: 0.4, ciou: 0.3 }) as unknown as Evaluation;

test('a comparison table gives mean ± CI over seeds, and says so; one seed gets no interval and says n = 1', () => {
  const three: Row = { variant: V.grpo, seeds: [1, 2, 3], evals: [ev(0.2), ev(0.3), ev(0.4)] };
  const t3 = comparisonTable('t', [three]);
  // mean 30, t(0.975, 2) = 4.3027, sd 10 → half-width 24.84
  assert.is(t3.rows[0][1], '30.00 ± 24.84');
  assert.match(t3.note!, /mean ± 95% CI/);
  const one: Row = { variant: V.grpo, seeds: [1], evals: [ev(0.25)] };
  const t1 = comparisonTable('t', [one, three]);
  assert.is(t1.rows[0][1], '25.00 (n=1)');
  assert.not.match(t1.note!, /±|CI/);
  assert.match(t1.note!, /n = 1/);
});

test.run();
