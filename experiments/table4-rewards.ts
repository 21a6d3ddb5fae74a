/** table4-rewards — distance-aware reward alternatives (paper Table 4): IoU, +GIoU, +DIoU, +centre, +R_pos. */
import { collect, comparisonTable, perSeed, rowsFigure, specsOf } from './framework';
import { V } from './variants';
import { PAPER } from '../lib/report/paper';
import { judgeGreater } from '../lib/report/verdicts';
import type { Experiment } from './types';
import { sectionMarkdown } from './markdown';

const VARIANTS = [V.grpo, V.grpoGiou, V.grpoDiou, V.grpoCenter, V.grpoPos];
const P = PAPER.table4.rows;

export const experiment: Experiment = {
  name: 'table4-rewards',
  paper: 'Table 4',
  description: 'R_pos against GIoU, DIoU and centre-distance rewards in the β slot',
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const rows = await collect('table4-rewards', c, VARIANTS, { split: 'test', count: c.data.test }, ctx.pool);
    const table = comparisonTable('Table 4: reward alternatives (β = 0.1 each, mapped to [0, 1])', rows, [P.none, P.giou, P.diou, P.center, P.pos]);
    const a = (i: number) => perSeed(rows[i], 'acc50');
    const claims = ['GIoU', 'DIoU', 'centre distance'].map((name, k) =>
      judgeGreater({ id: `t4-pos-vs-${k}`, text: `R_pos beats ${name} as the distance-aware reward`, source: '§4.4, Table 4' }, a(4), a(k + 1), `Acc@0.5, R_pos − ${name}`));
    claims.push(judgeGreater({ id: 't4-giou-hurts', text: 'GIoU and DIoU rewards bring limited or negative effects vs IoU alone', source: '§4.4, Table 4' }, a(0), [...a(1), ...a(2)], 'Acc@0.5, IoU-only − mean(GIoU, DIoU)'));
    return {
      tables: [{ name: 'table4-rewards', table, description: 'Table 4 reproduction', specs: specsOf(c, VARIANTS) }],
      figures: [{ name: 'table4-rewards', figure: rowsFigure('Table 4: reward alternatives', rows), description: 'Acc@0.5 and mIoU per auxiliary reward', specs: specsOf(c, VARIANTS) }],
      claims,
      markdown: sectionMarkdown('Table 4 — reward alternatives', table, claims),
    };
  },
};
