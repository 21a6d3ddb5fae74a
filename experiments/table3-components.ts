/** table3-components — component analysis (paper Table 3): ±CoT-SFT, ±R_pos, ±L_SC. */
import { collect, comparisonTable, perSeed, rowsFigure, specsOf } from './framework';
import { V } from './variants';
import { PAPER } from '../lib/report/paper';
import { judgeGreater } from '../lib/report/verdicts';
import type { Experiment } from './types';
import { sectionMarkdown } from './markdown';

const VARIANTS = [V.grpo, V.grpoCot, V.grpoPos, V.grpoSc, V.full];
const P = PAPER.table3.rows;

export const experiment: Experiment = {
  name: 'table3-components',
  paper: 'Table 3',
  description: 'components: CoT-SFT, R_pos and L_SC, one at a time and together',
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const rows = await collect('table3-components', c, VARIANTS, { split: 'test', count: c.data.test }, ctx.pool);
    const table = comparisonTable('Table 3: components (CoT-SFT / R_pos / L_SC)', rows, [P.grpo, P.cot, P.pos, P.sc, P.full]);
    const a = (i: number) => perSeed(rows[i], 'acc50');
    const claims = [
      judgeGreater({ id: 't3-cot', text: 'CoT-SFT adds ~2–3 points Acc@0.5 over pure GRPO', source: '§4.4, Table 3' }, a(1), a(0), 'Acc@0.5, CoT-SFT→GRPO − GRPO'),
      judgeGreater({ id: 't3-pos', text: 'R_pos improves over the IoU-only baseline', source: '§4.4, Table 3' }, a(2), a(0), 'Acc@0.5, +R_pos − GRPO'),
      judgeGreater({ id: 't3-sc', text: 'L_SC improves Acc@0.5 (+3.3 points in the paper)', source: '§4.4, Table 3' }, a(3), a(0), 'Acc@0.5, +L_SC − GRPO'),
      judgeGreater({ id: 't3-full', text: 'all three components together give the best result', source: '§4.4, Table 3' }, a(4), [a(1), a(2), a(3)].sort((x, y) => y.reduce((s, v) => s + v, 0) - x.reduce((s, v) => s + v, 0))[0], 'Acc@0.5, full − best single component'),
    ];
    return {
      tables: [{ name: 'table3-components', table, description: 'Table 3 reproduction', specs: specsOf(c, VARIANTS) }],
      figures: [{ name: 'table3-components', figure: rowsFigure('Table 3: components', rows), description: 'Acc@0.5 and mIoU per component set', specs: specsOf(c, VARIANTS) }],
      claims,
      markdown: sectionMarkdown('Table 3 — components', table, claims),
    };
  },
};
