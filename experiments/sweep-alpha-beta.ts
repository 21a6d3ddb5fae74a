/** sweep-alpha-beta — α (kernel width) × β (weight) of R_pos, on val (where tuning belongs). */
import { collect, intervals, type Row } from './results';
import { specsOf } from './specs';
import { alphaBetaVariant } from './variants';
import { heatmapFigure } from '../lib/report/plots';
import { formatCI } from '../lib/stats';
import type { Experiment } from './types';
import { sectionMarkdown } from './markdown';

export const ALPHAS = [1, 2.5, 5];
export const BETAS = [0, 0.1, 0.3];
const grid = () => ALPHAS.flatMap((a) => BETAS.filter((b) => b > 0).map((b) => alphaBetaVariant(a, b)));
const variants = () => [alphaBetaVariant(2.5, 0), ...grid()];

export const experiment: Experiment = {
  name: 'sweep-alpha-beta',
  paper: 'α / β sensitivity (paper defaults α = 2.5, β = 0.1)',
  description: `GRPO + R_pos over α ∈ {${ALPHAS}} × β ∈ {${BETAS}}, validation metrics`,
  specs: (c) => specsOf(c, variants()),
  async report(ctx) {
    const c = ctx.config;
    const rows = await collect('sweep-alpha-beta', c, variants(), { split: 'val', count: c.data.val }, ctx.pool);
    const cell = (a: number, b: number): Row => rows.get(alphaBetaVariant(a, b).id);
    const figs = (['acc50', 'miou'] as const).map((m) => {
      const z = ALPHAS.map((a) => BETAS.map((b) => 100 * intervals(cell(a, b))[m].mean));
      const text = ALPHAS.map((a) => BETAS.map((b) => formatCI(intervals(cell(a, b))[m])));
      return {
        name: `sweep-alpha-beta-${m}`,
        figure: heatmapFigure(
          `R_pos sweep: validation ${m === 'acc50' ? 'Acc@0.5' : 'mIoU'} (β = 0: no R_pos)`,
          'β',
          'α',
          BETAS,
          ALPHAS,
          z,
          text,
        ),
        description: `val ${m} over α × β, mean (± 95% CI) over seeds`,
        specs: specsOf(c, variants()),
      };
    });
    const header = ['α \\ β', ...BETAS.map(String)];
    const table = {
      title: 'α × β sweep, validation Acc@0.5 (%)',
      header,
      rows: ALPHAS.map((a) => [String(a), ...BETAS.map((b) => formatCI(intervals(cell(a, b)).acc50))]),
      note: 'β = 0 is the IoU-only baseline (α unused). Mean ± 95% CI over seeds.',
    };
    return {
      tables: [{ name: 'sweep-alpha-beta', table, description: 'α × β sweep on val', specs: specsOf(c, variants()) }],
      figures: figs,
      claims: [],
      markdown: sectionMarkdown('α / β sweep (validation)', table, [], '![α/β sweep](sweep-alpha-beta-acc50.svg)'),
    };
  },
};
