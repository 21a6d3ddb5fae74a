/** fig6-extended — accuracy over a longer training run, GRPO vs the full method (paper Figure 6). */
import { beats, collect, curveOverSeeds, comparisonTable } from './results';
import { dataRef, specsOf, variantSpec } from './specs';
import { type CommonConfig, withValCurve } from './scales';
import { V } from './variants';
import { lineFigure } from '../lib/report/plots';
import type { Experiment } from './types';
import { sectionMarkdown } from './markdown';

/** How much longer than the scale's default GRPO run. */
export const EXTEND = 3;
const VARIANTS = [V.grpo, V.full];

/** The val curve keeps the scale's spacing (every quarter of a default-length run) over the longer run. */
const longer = (c: CommonConfig): CommonConfig => {
  const v = withValCurve(c);
  return { ...v, grpo: { ...v.grpo, steps: v.grpo.steps * EXTEND } };
};

export const experiment: Experiment = {
  name: 'fig6-extended',
  paper: 'Figure 6',
  description: `GRPO vs RSGround-R1 trained ${EXTEND}× longer, validation accuracy over steps`,
  configure: (c) => longer(c),
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const figures = (['eval/acc50', 'eval/miou'] as const).map((key) => ({
      name: key === 'eval/acc50' ? 'fig6-extended-acc50' : 'fig6-extended-miou',
      figure: lineFigure(
        `Figure 6: validation ${key === 'eval/acc50' ? 'Acc@0.5' : 'mIoU'} over extended training`,
        'training step',
        key === 'eval/acc50' ? 'Acc@0.5 (val)' : 'mIoU (val)',
        VARIANTS.map((v) => {
          const cur = curveOverSeeds(
            c.seeds.map((s) => variantSpec(c, v, s)),
            key,
          );
          return {
            name: v.label,
            x: cur.x,
            y: cur.y.map((y) => 100 * y),
            lo: cur.lo.map((y) => 100 * y),
            hi: cur.hi.map((y) => 100 * y),
          };
        }),
      ),
      description: `${key} on val every evalEvery steps, mean and 95% CI over seeds`,
      specs: specsOf(c, VARIANTS),
    }));
    const rows = await collect('fig6-extended', c, VARIANTS, dataRef(c, 'test', c.data.test), ctx.pool);
    const table = comparisonTable(`Figure 6: test after ${c.grpo.steps} steps (${EXTEND}× the default)`, rows.list);
    const claims = [
      beats(
        rows,
        'full',
        'grpo',
        { id: 'f6-persist', text: 'the gains persist (and grow) with longer training', source: '§4.6, Figure 6' },
        `test Acc@0.5 after ${c.grpo.steps} steps, full − GRPO`,
      ),
    ];
    return {
      tables: [
        {
          name: 'fig6-extended',
          table,
          description: 'test metrics at the end of extended training',
          specs: specsOf(c, VARIANTS),
        },
      ],
      figures,
      claims,
      markdown: sectionMarkdown('Figure 6 — extended training', table, claims, '![Figure 6](fig6-extended-acc50.svg)'),
    };
  },
};
