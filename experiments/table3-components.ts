/** table3-components — component analysis (paper Table 3): ±CoT-SFT, ±R_pos, ±L_SC. */
import { mean } from '../lib/stats';
import { beats, perSeed, tableReport } from './results';
import { dataRef, specsOf } from './specs';
import { V } from './variants';
import { PAPER } from '../lib/report/paper';
import type { Experiment } from './types';

const VARIANTS = [V.grpo, V.grpoCot, V.grpoPos, V.grpoSc, V.full];
const P = PAPER.table3.rows;

export const experiment: Experiment = {
  name: 'table3-components',
  paper: 'Table 3',
  description: 'components: CoT-SFT, R_pos and L_SC, one at a time and together',
  specs: (c) => specsOf(c, VARIANTS),
  report: (ctx) =>
    tableReport(ctx, {
      experiment: 'table3-components',
      title: 'Table 3: components (CoT-SFT / R_pos / L_SC)',
      variants: VARIANTS,
      ref: dataRef(ctx.config, 'test', ctx.config.data.test),
      paper: { grpo: P.grpo, 'grpo-cot': P.cot, 'grpo-pos': P.pos, 'grpo-sc': P.sc, full: P.full },
      description: 'Table 3 reproduction',
      claims: (rows) => {
        // The best single component by mean test Acc@0.5 is what "all three together" must beat.
        const best = ['grpo-cot', 'grpo-pos', 'grpo-sc'].sort(
          (a, b) => mean(perSeed(rows.get(b), 'acc50')) - mean(perSeed(rows.get(a), 'acc50')),
        )[0];
        return [
          beats(
            rows,
            'grpo-cot',
            'grpo',
            { id: 't3-cot', text: 'CoT-SFT adds ~2–3 points Acc@0.5 over pure GRPO', source: '§4.4, Table 3' },
            'Acc@0.5, CoT-SFT→GRPO − GRPO',
          ),
          beats(
            rows,
            'grpo-pos',
            'grpo',
            { id: 't3-pos', text: 'R_pos improves over the IoU-only baseline', source: '§4.4, Table 3' },
            'Acc@0.5, +R_pos − GRPO',
          ),
          beats(
            rows,
            'grpo-sc',
            'grpo',
            { id: 't3-sc', text: 'L_SC improves Acc@0.5 (+3.3 points in the paper)', source: '§4.4, Table 3' },
            'Acc@0.5, +L_SC − GRPO',
          ),
          beats(
            rows,
            'full',
            best,
            { id: 't3-full', text: 'all three components together give the best result', source: '§4.4, Table 3' },
            `Acc@0.5, full − best single component (${rows.get(best).variant.label})`,
          ),
        ];
      },
    }),
};
