/** table4-rewards — distance-aware reward alternatives (paper Table 4): IoU, +GIoU, +DIoU, +centre, +R_pos. */
import { beats, perSeed, tableReport } from './results';
import { dataRef, specsOf } from './specs';
import { V } from './variants';
import { PAPER } from '../lib/report/paper';
import { judgePaired } from '../lib/report/verdicts';
import type { Experiment } from './types';

const VARIANTS = [V.grpo, V.grpoGiou, V.grpoDiou, V.grpoCenter, V.grpoPos];
const P = PAPER.table4.rows;
/** The margin of the "no gain" claim: the smallest component effect the paper reports (points). */
export const NO_GAIN_MARGIN = 0.015;

export const experiment: Experiment = {
  name: 'table4-rewards',
  paper: 'Table 4',
  description: 'R_pos against GIoU, DIoU and centre-distance rewards in the β slot',
  specs: (c) => specsOf(c, VARIANTS),
  report: (ctx) =>
    tableReport(ctx, {
      experiment: 'table4-rewards',
      title: 'Table 4: reward alternatives (β = 0.1 each, mapped to [0, 1])',
      variants: VARIANTS,
      ref: dataRef(ctx.config, 'test', ctx.config.data.test),
      paper: { grpo: P.none, 'grpo-giou': P.giou, 'grpo-diou': P.diou, 'grpo-center': P.center, 'grpo-pos': P.pos },
      description: 'Table 4 reproduction',
      claims: (rows) => {
        const gd = perSeed(rows.get('grpo-giou'), 'acc50').map(
          (g, i) => (g + perSeed(rows.get('grpo-diou'), 'acc50')[i]) / 2,
        );
        return [
          ...(
            [
              ['grpo-giou', 'GIoU'],
              ['grpo-diou', 'DIoU'],
              ['grpo-center', 'centre distance'],
            ] as const
          ).map(([id, name], k) =>
            beats(
              rows,
              'grpo-pos',
              id,
              {
                id: `t4-pos-vs-${k}`,
                text: `R_pos beats ${name} as the distance-aware reward`,
                source: '§4.4, Table 4',
              },
              `Acc@0.5, R_pos − ${name}`,
            ),
          ),
          judgePaired(
            {
              id: 't4-giou-hurts',
              text: 'GIoU and DIoU rewards bring limited or negative effects vs IoU alone',
              source: '§4.4, Table 4',
            },
            gd,
            perSeed(rows.get('grpo'), 'acc50'),
            {
              kind: 'not-greater',
              margin: NO_GAIN_MARGIN,
              what: `Acc@0.5, mean(GIoU, DIoU) − IoU-only (no gain: upper bound < ${100 * NO_GAIN_MARGIN} points)`,
            },
          ),
        ];
      },
    }),
};
