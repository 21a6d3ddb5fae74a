import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claimsMarkdown, sectionMarkdown } from '../../experiments/markdown';
import type { ClaimResult } from '../../lib/report/verdicts';

const table = { title: 't', header: ['a', 'b'], rows: [['1', '2']], note: 'ours over 5 seeds' };
const claim = {
  id: 'c',
  text: 'A beats B',
  source: 'Table 1',
  verdict: 'reproduced',
  evidence: 'difference 1.00 points',
} as unknown as ClaimResult;

test('a full section: title, table, its note in italics, extra prose, the claims — one blank line apart', () => {
  assert.is(
    sectionMarkdown('T', table, [claim], 'prose'),
    '## T\n\n| a | b |\n| --- | ---: |\n| 1 | 2 |\n\n_ours over 5 seeds_\n\nprose\n\n' +
      '- **reproduced** — “A beats B” (Table 1). difference 1.00 points.\n',
  );
});

test('missing parts leave no run of blank lines and no empty italics', () => {
  const md = sectionMarkdown('T', { ...table, note: undefined }, [], '');
  assert.is(md, '## T\n\n| a | b |\n| --- | ---: |\n| 1 | 2 |\n');
  assert.is(sectionMarkdown('T', null, [], '\nprose\n\n'), '## T\n\nprose\n');
  assert.not.match(sectionMarkdown('T', table, [], ''), /\n\n\n/);
  assert.is(claimsMarkdown([]), '');
});

test.run();
