/** table1 — in-domain comparison (paper Table 1): base, SFT, GRPO, and the full method. */
import { collect, comparisonTable, perSeed, rowsFigure, specsOf } from './framework';
import { V } from './variants';
import { PAPER } from '../lib/report/paper';
import { judgeGreater } from '../lib/report/verdicts';
import type { Experiment } from './types';
import { sectionMarkdown } from './markdown';

const VARIANTS = [V.base, V.sft, V.grpo, V.full];
const PAPER_ROWS = [PAPER.table1.rows.base, PAPER.table1.rows.sft, PAPER.table1.rows.grpo, PAPER.table1.rows.full];

export const experiment: Experiment = {
  name: 'table1',
  paper: 'Table 1',
  description: 'in-domain test: base, SFT (answer-only), GRPO, RSGround-R1',
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const rows = await collect('table1', c, VARIANTS, { split: 'test', count: c.data.test }, ctx.pool);
    const table = comparisonTable('Table 1: in-domain test split', rows, PAPER_ROWS);
    const [, sft, grpo, full] = rows;
    const claims = [
      judgeGreater({ id: 't1-full-grpo', text: 'RSGround-R1 surpasses direct GRPO (by over 5 points Acc@0.5 in the paper)', source: '§4.3, Table 1' }, perSeed(full, 'acc50'), perSeed(grpo, 'acc50'), 'Acc@0.5, full − GRPO'),
      judgeGreater({ id: 't1-grpo-sft', text: 'GRPO (0.4 epoch, 40% data) beats SFT (1 epoch, full data)', source: 'Table 1' }, perSeed(grpo, 'acc50'), perSeed(sft, 'acc50'), 'Acc@0.5, GRPO − SFT'),
    ];
    return {
      tables: [{ name: 'table1', table, description: 'Table 1 reproduction on the mini world test split', specs: specsOf(c, VARIANTS) }],
      figures: [{ name: 'table1', figure: rowsFigure('Table 1: in-domain test', rows), description: 'Acc@0.5 and mIoU per method with 95% CIs', specs: specsOf(c, VARIANTS) }],
      claims,
      markdown: sectionMarkdown('Table 1 — in-domain comparison', table, claims),
    };
  },
};
