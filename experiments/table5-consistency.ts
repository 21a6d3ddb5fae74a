/** table5-consistency — the m(IoU) and Var(IoU) terms of w (paper Table 5). */
import { beats, perSeed, tableReport } from './results';
import { dataRef, specsOf } from './specs';
import { V } from './variants';
import { PAPER } from '../lib/report/paper';
import { judgePaired } from '../lib/report/verdicts';
import type { Experiment } from './types';

const VARIANTS = [V.grpo, V.grpoScM, V.grpoScV, V.grpoSc];
const P = PAPER.table5.rows;

export const experiment: Experiment = {
  name: 'table5-consistency',
  paper: 'Table 5',
  description: 'spatial-consistency weight with λm and λv switched on and off',
  specs: (c) => specsOf(c, VARIANTS),
  report: (ctx) =>
    tableReport(ctx, {
      experiment: 'table5-consistency',
      title: 'Table 5: m(IoU) and Var(IoU) in w',
      variants: VARIANTS,
      ref: dataRef(ctx.config, 'test', ctx.config.data.test),
      paper: { grpo: P.none, 'grpo-sc-m': P.m, 'grpo-sc-v': P.v, 'grpo-sc': P.both },
      description: 'Table 5 reproduction',
      claims: (rows) => {
        const singles = perSeed(rows.get('grpo-sc-m'), 'acc50').map(
          (m, i) => (m + perSeed(rows.get('grpo-sc-v'), 'acc50')[i]) / 2,
        );
        return [
          beats(
            rows,
            'grpo-sc-m',
            'grpo',
            { id: 't5-m', text: 'the mean term alone helps (+2 points in the paper)', source: '§4.4, Table 5' },
            'Acc@0.5, m only − none',
          ),
          beats(
            rows,
            'grpo-sc-v',
            'grpo',
            { id: 't5-v', text: 'the variance term alone helps (+1 point in the paper)', source: '§4.4, Table 5' },
            'Acc@0.5, Var only − none',
          ),
          judgePaired(
            { id: 't5-both', text: 'both m and Var terms together are best', source: '§4.4, Table 5' },
            perSeed(rows.get('grpo-sc'), 'acc50'),
            singles,
            { what: 'Acc@0.5, both − mean of the single-term rows' },
          ),
        ];
      },
    }),
};
