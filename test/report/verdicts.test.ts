import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judgeGreater, judgeLess } from '../../lib/report/verdicts';

const claim = { id: 'x', text: 'A beats B', source: 'Table 0' };

test('judgeGreater: a CI above zero reproduces, below contradicts (hand-computed Welch interval)', () => {
  // a = .30,.32,.34; b = .20,.22,.24: diff 0.10; s² = 4e-4 each, se = √(2·4e-4/3) = 0.016330;
  // Welch df = 4, t(.975, 4) = 2.776445 → half-width 0.045340, interval [0.05466, 0.14534].
  const r = judgeGreater(claim, [0.3, 0.32, 0.34], [0.2, 0.22, 0.24], 'Acc@0.5');
  assert.is(r.verdict, 'reproduced');
  assert.ok(Math.abs(r.diff!.lo - 0.05466) < 1e-4 && Math.abs(r.diff!.hi - 0.14534) < 1e-4, `${r.diff!.lo} ${r.diff!.hi}`);
  assert.match(r.evidence, '95% CI [5.47, 14.53] (n = 3 vs 3 seeds)');
  assert.is(judgeGreater(claim, [0.2, 0.22, 0.24], [0.3, 0.32, 0.34], 'Acc@0.5').verdict, 'contradicted');
});

test('judgeGreater: an interval across zero, one seed, or no runs is not a verdict', () => {
  assert.is(judgeGreater(claim, [0.3, 0.1], [0.2, 0.25], 'm').verdict, 'inconclusive at this scale');
  const one = judgeGreater(claim, [0.5], [0.1], 'm');
  assert.is(one.verdict, 'inconclusive at this scale');
  assert.match(one.evidence, 'no CI (needs ≥ 2 seeds per side)');
  assert.not.match(one.evidence, 'NaN');
  assert.is(judgeGreater(claim, null, [0.1], 'm').verdict, 'not run');
});

test('judgeLess mirrors judgeGreater', () => {
  assert.is(judgeLess(claim, [0.2, 0.22, 0.24], [0.3, 0.32, 0.34], 'std').verdict, 'reproduced');
  assert.is(judgeLess(claim, [0.3, 0.32, 0.34], [0.2, 0.22, 0.24], 'std').verdict, 'contradicted');
});

test.run();
