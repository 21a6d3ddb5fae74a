import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { overBudget } from '../../lib/data/budget';
import { groundingSplit } from '../../lib/data/splits';
import { worldTokenizer } from '../../lib/model/tokenizer';
import { targetText } from '../../lib/train-sft';

test('completion budget: the share of targets longer than maxLen tokens, counted by hand', () => {
  const samples = groundingSplit('val', { count: 40 });
  const tok = worldTokenizer(64);
  const lens = samples.map((s) => tok.encode(targetText(s, 'geocot')).length);
  const cut = lens.slice().sort((a, b) => a - b)[20]; // the median length
  assert.is(overBudget(samples, 'geocot', tok, cut), lens.filter((l) => l > cut).length / 40);
  // answer-only targets fit the default budget; Geo-CoT traces mostly do not
  assert.is(overBudget(samples, 'short', tok, 64), 0);
  assert.ok(overBudget(samples, 'geocot', tok, 64) > 0.5);
  assert.is(overBudget(samples, 'geocot', tok, 1000), 0);
  assert.ok(Number.isNaN(overBudget([], 'short', tok, 64)));
});

test.run();
