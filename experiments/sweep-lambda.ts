/** sweep-lambda — λm × λv of the spatial-consistency weight, on val. */
import { V, lambdaVariant } from './variants';
import { sweepExperiment } from './sweep';

export const LAMBDA_M = [0, 1.2, 2.4];
export const LAMBDA_V = [0, 1, 3];

export const experiment = sweepExperiment(
  {
    name: 'sweep-lambda',
    title: 'L_SC sweep (λm × λv)',
    ys: LAMBDA_M,
    xs: LAMBDA_V,
    yTitle: 'λm',
    xTitle: 'λv',
    cell: lambdaVariant,
    baseline: V.grpo,
    note: 'Each cell is GRPO + L_SC with that λm and λv; λm = λv = 0 gives w = 1, the baseline (no L_SC).',
  },
  'λm / λv ablation (paper defaults λm = 1.2, λv = 1)',
  `GRPO + L_SC over λm ∈ {${LAMBDA_M}} × λv ∈ {${LAMBDA_V}} against no L_SC, validation metrics`,
);
