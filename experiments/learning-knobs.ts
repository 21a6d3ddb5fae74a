/**
 * learning-knobs — the GRPO knobs one would turn to make it learn, each changed alone from the
 * GRPO baseline (from the base model, IoU reward): learning rate, queries per step, μ updates
 * per batch, advantage scaling (Dr. GRPO), rollout temperature, no KL. Validation only.
 */
import { collect, comparisonTable, curveOverSeeds, percent } from './results';
import { type Variant, dataRef, specsOf, variantSpec } from './specs';
import { type CommonConfig, withValCurve } from './scales';
import { V } from './variants';
import { lineFigure } from '../lib/report/plots';
import type { Experiment } from './types';
import { sectionMarkdown, tableMarkdown } from './markdown';
import { dynamicsTable } from './learning';

/**
 * The GRPO knobs one would turn to make it learn, each changed alone from the GRPO baseline
 * (from the base model, IoU reward): learning rate, rollouts per step, μ updates per batch,
 * advantage scaling (Dr. GRPO), rollout temperature, no KL. Validation only.
 */
export function knobVariants(c: CommonConfig): Variant[] {
  const B = c.grpo.queriesPerStep;
  const knob = (id: string, label: string, o: Variant['grpo']): Variant => ({
    id: `grpo-${id}`,
    label: `GRPO, ${label}`,
    init: 'base',
    grpo: { ...V.grpo.grpo, ...o },
  });
  return [
    V.grpo,
    knob('lr3e-4', 'lr 3e-4 (3×)', { lr: 3e-4 }),
    knob('lr1e-3', 'lr 1e-3 (10×)', { lr: 1e-3 }),
    knob(`b${4 * B}`, `${4 * B} queries per step (4×)`, { queriesPerStep: 4 * B }),
    knob('mu4', 'μ = 4 updates per batch', { iterations: 4 }),
    { ...V.grpoDr, label: 'GRPO, advantages not divided by std (Dr. GRPO)' },
    knob('t0.7', 'rollout temperature 0.7', { temperature: 0.7 }),
    knob('nokl', 'β_KL = 0', { betaKL: 0 }),
  ];
}

export const experiment: Experiment = {
  name: 'learning-knobs',
  paper: 'none (diagnosis of the GRPO baseline)',
  description:
    'GRPO from the base model with one knob changed at a time (lr, batch, μ, Dr. GRPO, temperature, β_KL), val only, ' +
    '3 seeds',
  configure: (c) => ({ ...withValCurve(c), seeds: [1, 2, 3] }),
  specs: (c) => specsOf(c, knobVariants(c)),
  async report(ctx) {
    const c = ctx.config;
    const variants = knobVariants(c);
    const rows = await collect('learning-knobs', c, [V.base, ...variants], dataRef(c, 'val', c.data.val), ctx.pool);
    const main = comparisonTable(
      'GRPO knobs, one at a time: validation split',
      rows.list,
      [],
      'Greedy decoding on val. Mean ± 95% CI (Student t) over seeds, in %. First row: the base model every run ' +
        'starts from.',
    );
    const dyn = dynamicsTable('GRPO knobs: dynamics', c, variants);
    const specs = specsOf(c, variants);
    const grpoSpecs = (v: Variant) => c.seeds.map((s) => variantSpec(c, v, s));
    return {
      tables: [
        {
          name: 'learning-knobs',
          table: main,
          description: 'val accuracy of GRPO with one knob changed at a time',
          specs,
        },
        {
          name: 'learning-knobs-dynamics',
          table: dyn,
          description: 'val accuracy and rollout reward, start vs end, per knob',
          specs,
        },
      ],
      figures: [
        {
          name: 'learning-knobs-val',
          description: 'val Acc@0.5 during GRPO per knob, mean over seeds',
          specs,
          figure: lineFigure(
            'GRPO knobs: val Acc@0.5 during training',
            'GRPO step',
            'val Acc@0.5 (%)',
            variants.map((v) => ({ name: v.label, ...percent(curveOverSeeds(grpoSpecs(v), 'eval/acc50')) })),
          ),
        },
      ],
      claims: [],
      markdown: sectionMarkdown(
        'GRPO knobs, one at a time (validation split)',
        main,
        [],
        [tableMarkdown(dyn), '', `_${dyn.note}_`].join('\n'),
      ),
    };
  },
};
