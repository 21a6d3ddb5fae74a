/** sweep-lambda — λm × λv of the spatial-consistency weight, on val. */
import { collect, intervals, type Row } from './results';
import { specsOf } from './specs';
import { lambdaVariant } from './variants';
import { heatmapFigure } from '../lib/report/plots';
import { formatCI } from '../lib/stats';
import type { Experiment } from './types';
import { sectionMarkdown } from './markdown';

export const LAMBDA_M = [0, 1.2, 2.4];
export const LAMBDA_V = [0, 1, 3];
const variants = () => LAMBDA_M.flatMap((m) => LAMBDA_V.map((v) => lambdaVariant(m, v)));

export const experiment: Experiment = {
  name: 'sweep-lambda',
  paper: 'λm / λv ablation (paper defaults λm = 1.2, λv = 1)',
  description: `GRPO + L_SC over λm ∈ {${LAMBDA_M}} × λv ∈ {${LAMBDA_V}}, validation metrics`,
  specs: (c) => specsOf(c, variants()),
  async report(ctx) {
    const c = ctx.config;
    const rows = await collect('sweep-lambda', c, variants(), { split: 'val', count: c.data.val }, ctx.pool);
    const cell = (m: number, v: number): Row => rows.get(lambdaVariant(m, v).id);
    const figs = (['acc50', 'miou'] as const).map((k) => ({
      name: `sweep-lambda-${k}`,
      figure: heatmapFigure(
        `λ sweep: validation ${k === 'acc50' ? 'Acc@0.5' : 'mIoU'} (λm = λv = 0: no L_SC)`,
        'λv',
        'λm',
        LAMBDA_V,
        LAMBDA_M,
        LAMBDA_M.map((m) => LAMBDA_V.map((v) => 100 * intervals(cell(m, v))[k].mean)),
        LAMBDA_M.map((m) => LAMBDA_V.map((v) => formatCI(intervals(cell(m, v))[k]))),
      ),
      description: `val ${k} over λm × λv, mean (± 95% CI) over seeds`,
      specs: specsOf(c, variants()),
    }));
    const table = {
      title: 'λm × λv sweep, validation Acc@0.5 (%)',
      header: ['λm \\ λv', ...LAMBDA_V.map(String)],
      rows: LAMBDA_M.map((m) => [String(m), ...LAMBDA_V.map((v) => formatCI(intervals(cell(m, v)).acc50))]),
      note: 'λm = λv = 0 gives w = 1 (no L_SC). Mean ± 95% CI over seeds.',
    };
    return {
      tables: [{ name: 'sweep-lambda', table, description: 'λ sweep on val', specs: specsOf(c, variants()) }],
      figures: figs,
      claims: [],
      markdown: sectionMarkdown('λm / λv sweep (validation)', table, [], '![λ sweep](sweep-lambda-acc50.svg)'),
    };
  },
};
