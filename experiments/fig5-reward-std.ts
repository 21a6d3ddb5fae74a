/** fig5-reward-std — reward standard deviation per step with and without L_SC (paper Figure 5). */
import { curveOverSeeds, stageMetrics } from './results';
import { specsOf, variantSpec } from './specs';
import { V } from './variants';
import { lineFigure } from '../lib/report/plots';
import { judgePaired } from '../lib/report/verdicts';
import type { Experiment } from './types';
import { sectionMarkdown } from './markdown';

const VARIANTS = [V.grpo, V.grpoSc];

/** Mean of a per-step metric over the second half of a run (one number per seed). */
function lateMean(spec: Parameters<typeof stageMetrics>[0], key: string): number {
  const v = stageMetrics(spec).filter((m) => typeof m[key] === 'number');
  const late = v.slice(Math.floor(v.length / 2));
  return late.reduce((s, m) => s + m[key], 0) / Math.max(1, late.length);
}

export const experiment: Experiment = {
  name: 'fig5-reward-std',
  paper: 'Figure 5',
  description: 'within-group reward std per training step, GRPO vs GRPO + L_SC',
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const figures = [];
    for (const [key, what] of [
      ['reward/std_in_group', 'reward std within a group'],
      ['reward/iou_std_in_group', 'IoU std within a group'],
    ] as const) {
      const series = VARIANTS.map((v) => ({
        name: v.label,
        ...curveOverSeeds(
          c.seeds.map((s) => variantSpec(c, v, s)),
          key,
          10,
        ),
      }));
      figures.push({
        name: key === 'reward/std_in_group' ? 'fig5-reward-std' : 'fig5-iou-std',
        figure: lineFigure(`Figure 5: ${what} per step (10-step moving average)`, 'training step', what, series),
        description: `${what} per GRPO step, mean and 95% CI over seeds`,
        specs: specsOf(c, VARIANTS),
      });
    }
    const per = (v: (typeof VARIANTS)[number]) =>
      c.seeds.map((s) => lateMean(variantSpec(c, v, s), 'reward/std_in_group'));
    const claims = [
      judgePaired(
        {
          id: 'f5-std',
          text: 'L_SC lowers the reward standard deviation across training steps',
          source: '§4.4, Figure 5',
        },
        per(V.grpoSc),
        per(V.grpo),
        { kind: 'less', scale: 1, what: 'within-group reward std, second half of training, GRPO − GRPO + L_SC' },
      ),
    ];
    return {
      tables: [],
      figures,
      claims,
      markdown: sectionMarkdown(
        'Figure 5 — reward std with and without L_SC',
        null,
        claims,
        '![Figure 5](fig5-reward-std.svg)',
      ),
    };
  },
};
