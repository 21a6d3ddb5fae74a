/** table5-consistency — the m(IoU) and Var(IoU) terms of w (paper Table 5). */
import { collect, comparisonTable, perSeed, rowsFigure, specsOf } from './framework';
import { V } from './variants';
import { PAPER } from '../lib/report/paper';
import { judgeGreater } from '../lib/report/verdicts';
import type { Experiment } from './types';
import { sectionMarkdown } from './markdown';

const VARIANTS = [V.grpo, V.grpoScM, V.grpoScV, V.grpoSc];
const P = PAPER.table5.rows;

export const experiment: Experiment = {
  name: 'table5-consistency',
  paper: 'Table 5',
  description: 'spatial-consistency weight with λm and λv switched on and off',
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const rows = await collect('table5-consistency', c, VARIANTS, { split: 'test', count: c.data.test }, ctx.pool);
    const table = comparisonTable('Table 5: m(IoU) and Var(IoU) in w', rows, [P.none, P.m, P.v, P.both]);
    const a = (i: number) => perSeed(rows[i], 'acc50');
    const claims = [
      judgeGreater({ id: 't5-m', text: 'the mean term alone helps (+2 points in the paper)', source: '§4.4, Table 5' }, a(1), a(0), 'Acc@0.5, m only − none'),
      judgeGreater({ id: 't5-v', text: 'the variance term alone helps (+1 point in the paper)', source: '§4.4, Table 5' }, a(2), a(0), 'Acc@0.5, Var only − none'),
      judgeGreater({ id: 't5-both', text: 'both m and Var terms together are best', source: '§4.4, Table 5' }, a(3), [...a(1), ...a(2)], 'Acc@0.5, both − mean of singles'),
    ];
    return {
      tables: [{ name: 'table5-consistency', table, description: 'Table 5 reproduction', specs: specsOf(c, VARIANTS) }],
      figures: [{ name: 'table5-consistency', figure: rowsFigure('Table 5: consistency terms', rows), description: 'Acc@0.5 and mIoU per term set', specs: specsOf(c, VARIANTS) }],
      claims,
      markdown: sectionMarkdown('Table 5 — consistency terms', table, claims),
    };
  },
};
