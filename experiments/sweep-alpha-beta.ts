/** sweep-alpha-beta — α (kernel width) × β (weight) of R_pos, on val (where tuning belongs). */
import { V, alphaBetaVariant } from './variants';
import { sweepExperiment } from './sweep';

export const ALPHAS = [1, 2.5, 5];
export const BETAS = [0.1, 0.3];

export const experiment = sweepExperiment(
  {
    name: 'sweep-alpha-beta',
    title: 'R_pos sweep (α × β)',
    ys: ALPHAS,
    xs: BETAS,
    yTitle: 'α',
    xTitle: 'β',
    cell: alphaBetaVariant,
    baseline: V.grpo,
    note: 'Each cell is GRPO + R_pos with that α and β; the baseline is GRPO without R_pos (β = 0).',
  },
  'α / β sensitivity (paper defaults α = 2.5, β = 0.1)',
  `GRPO + R_pos over α ∈ {${ALPHAS}} × β ∈ {${BETAS}} against β = 0, validation metrics`,
);
