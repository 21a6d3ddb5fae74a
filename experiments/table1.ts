/** table1 — in-domain comparison (paper Table 1): base, SFT, GRPO, and the full method. */
import { beats, tableReport } from './results';
import { dataRef, specsOf } from './specs';
import { V } from './variants';
import { PAPER } from '../lib/report/paper';
import type { Experiment } from './types';

const VARIANTS = [V.base, V.sft, V.grpo, V.full];
const P = PAPER.table1.rows;

export const experiment: Experiment = {
  name: 'table1',
  paper: 'Table 1',
  description: 'in-domain test: base, SFT (answer-only), GRPO, RSGround-R1',
  specs: (c) => specsOf(c, VARIANTS),
  report: (ctx) =>
    tableReport(ctx, {
      experiment: 'table1',
      title: 'Table 1: in-domain test split',
      variants: VARIANTS,
      ref: dataRef(ctx.config, 'test', ctx.config.data.test),
      paper: { base: P.base, sft: P.sft, grpo: P.grpo, full: P.full },
      description: 'Table 1 reproduction on the mini world test split',
      claims: (rows) => [
        beats(
          rows,
          'full',
          'grpo',
          {
            id: 't1-full-grpo',
            text: 'RSGround-R1 surpasses direct GRPO (by over 5 points Acc@0.5 in the paper)',
            source: '§4.3, Table 1',
          },
          'Acc@0.5, full − GRPO',
        ),
        beats(
          rows,
          'grpo',
          'sft',
          { id: 't1-grpo-sft', text: 'GRPO (0.4 epoch, 40% data) beats SFT (1 epoch, full data)', source: 'Table 1' },
          'Acc@0.5, GRPO − SFT',
        ),
      ],
    }),
};
