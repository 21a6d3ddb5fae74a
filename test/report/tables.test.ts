import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { texEscape, toCsv, toLatex, toMarkdown, type Table } from '../../lib/report/tables';

const T: Table = {
  title: 'Table 9: R_pos α=2.5',
  header: ['method', 'Acc@0.5', 'note'],
  rows: [
    ['GRPO + R_pos', '63.25 ± 1.20', 'a|b'],
    ['50% & more', '1.00 ± 0.50', 'x_y {z} ~^ \\'],
  ],
  note: 'mean ± 95% CI',
};

test('CSV through danfojs: header, rows, quoting of commas-free cells', async () => {
  const csv = (await toCsv(T)).trim().split('\n');
  assert.is(csv.length, 3);
  assert.is(csv[0], 'method,Acc@0.5,note');
  assert.is(csv[1], 'GRPO + R_pos,63.25 ± 1.20,a|b');
});

test('Markdown: pipes escaped, first column left-aligned, numbers right-aligned, title and note', async () => {
  const md = await toMarkdown(T);
  assert.match(md, '**Table 9: R_pos α=2.5**');
  assert.match(md, '| method | Acc@0.5 | note |\n| --- | ---: | ---: |');
  assert.match(md, '| GRPO + R_pos | 63.25 ± 1.20 | a\\|b |');
  assert.match(md, 'mean ± 95% CI');
});

test('LaTeX escaping in one pass: inserted braces are not escaped again', () => {
  assert.is(texEscape('\\'), '\\textbackslash{}');
  assert.is(texEscape('50% & x_y {z}'), '50\\% \\& x\\_y \\{z\\}');
  assert.is(texEscape('~^'), '\\textasciitilde{}\\textasciicircum{}');
  assert.is(texEscape('63.25 ± 1.20, β=0.1, $5'), '63.25 $\\pm$ 1.20, $\\beta$=0.1, \\$5');
});

test('LaTeX table: one row per line, right-aligned numeric columns', async () => {
  const tex = await toLatex(T);
  assert.match(tex, '\\begin{tabular}{lrr}');
  assert.match(tex, 'GRPO + R\\_pos & 63.25 $\\pm$ 1.20 & a|b \\\\');
  assert.match(
    tex,
    '50\\% \\& more & 1.00 $\\pm$ 0.50 & x\\_y \\{z\\} \\textasciitilde{}\\textasciicircum{} \\textbackslash{} \\\\',
  );
  assert.match(tex, '\\caption{Table 9: R\\_pos $\\alpha$=2.5}');
});

test.run();
