/**
 * fig5-reward-std — reward standard deviation per step with and without L_SC (paper Figure 5),
 * and the diagnoses its claim needs: how the spatial-consistency weight w is distributed over
 * training (share at the clip bounds, spread within a batch — with AdamW a w that is nearly the
 * same for every group of a batch only rescales the loss, which Adam's normalisation cancels), and
 * how often R_pos gives signal where IoU gives none (rollouts with IoU = 0 and R_pos > 0).
 */
import { curveOverSeeds, stageMetrics } from './results';
import { type Variant, specsOf, variantSpec } from './specs';
import { V } from './variants';
import { lineFigure } from '../lib/report/plots';
import { judgePaired } from '../lib/report/verdicts';
import type { Experiment } from './types';
import { sectionMarkdown, tableMarkdown } from './markdown';
import { formatCI, meanCI } from '../lib/stats';
import type { Table } from '../lib/report/tables';

const VARIANTS = [V.grpo, V.grpoSc];
/** Runs whose diagnostics this report also reads (trained by Tables 3 and 4). */
const DIAGNOSED = [V.grpoPos, V.grpoPosSc];

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
  specs: (c) => specsOf(c, [...VARIANTS, ...DIAGNOSED]),
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
    const specsOfV = (v: Variant) => c.seeds.map((s) => variantSpec(c, v, s));
    // w over training (GRPO + L_SC): its mean, min and max over the batch's groups, per step.
    figures.push({
      name: 'lsc-weights',
      figure: lineFigure('L_SC: the weight w per step (10-step moving average)', 'training step', 'w', [
        { name: 'mean w of the batch', ...curveOverSeeds(specsOfV(V.grpoSc), 'sc/w_mean', 10) },
        { name: 'largest w of the batch', ...curveOverSeeds(specsOfV(V.grpoSc), 'sc/w_max', 10), dash: 'dot' },
        { name: 'smallest w of the batch', ...curveOverSeeds(specsOfV(V.grpoSc), 'sc/w_min', 10), dash: 'dot' },
      ]),
      description: 'the spatial-consistency weight w over training, mean and 95% CI over seeds',
      specs: specsOf(c, [V.grpoSc]),
    });
    figures.push({
      name: 'rpos-signal',
      figure: lineFigure(
        'R_pos: share of rollouts with IoU = 0 that R_pos still rewards (10-step moving average)',
        'training step',
        'share of rollouts (%)',
        DIAGNOSED.map((v) => {
          const cur = curveOverSeeds(specsOfV(v), 'grpo/iou0_aux_frac', 10);
          return {
            name: v.label,
            x: cur.x,
            y: cur.y.map((y) => 100 * y),
            lo: cur.lo.map((y) => 100 * y),
            hi: cur.hi.map((y) => 100 * y),
          };
        }),
      ),
      description: 'the share of rollouts where IoU is 0 and R_pos > 0, over training, mean and 95% CI over seeds',
      specs: specsOf(c, DIAGNOSED),
    });
    const allSteps = (v: Variant, key: string) =>
      specsOfV(v).map((sp) => {
        const xs = stageMetrics(sp)
          .filter((m) => typeof m[key] === 'number')
          .map((m) => m[key]);
        return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      });
    const nearlyConstant = specsOfV(V.grpoSc).map((sp) => {
      const cv = stageMetrics(sp)
        .filter((m) => typeof m['sc/w_cv'] === 'number')
        .map((m) => m['sc/w_cv']);
      return cv.filter((x) => x < 0.05).length / Math.max(1, cv.length);
    });
    const pct = (xs: number[]) => formatCI(meanCI(xs));
    const num = (xs: number[]) => {
      const ci = meanCI(xs);
      return Number.isFinite(ci.halfWidth) ? `${ci.mean.toFixed(3)} ± ${ci.halfWidth.toFixed(3)}` : ci.mean.toFixed(3);
    };
    const weights: Table = {
      title:
        `L_SC's weight over training (GRPO + L_SC, w clipped to [${c.grpo.consistency.wMin}, ` +
        `${c.grpo.consistency.wMax}])`,
      header: [
        'mean w',
        'groups at w_min',
        'groups at w_max',
        'within-batch CV of w',
        'steps with CV < 5%',
        'IoU = 0 with R_pos > 0 (GRPO + R_pos)',
      ],
      rows: [
        [
          num(allSteps(V.grpoSc, 'sc/w_mean')),
          pct(allSteps(V.grpoSc, 'sc/at_wmin')),
          pct(allSteps(V.grpoSc, 'sc/at_wmax')),
          num(allSteps(V.grpoSc, 'sc/w_cv')),
          pct(nearlyConstant),
          pct(allSteps(V.grpoPos, 'grpo/iou0_aux_frac')),
        ],
      ],
      note:
        'Averages over every training step, then mean ± 95% CI over seeds (shares in %). CV: the standard deviation ' +
        "of w over the batch's groups divided by its mean. AdamW divides each update by a running estimate of the " +
        "gradient's scale, so multiplying the whole loss by a constant changes nearly nothing: only the spread of w " +
        'within a batch re-weights groups. A CV near 0 means L_SC is close to a no-op here.',
    };
    const per = (v: Variant) => c.seeds.map((s) => lateMean(variantSpec(c, v, s), 'reward/std_in_group'));
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
      tables: [
        {
          name: 'lsc-weights',
          table: weights,
          description: 'the distribution of w over training; R_pos signal share',
          specs: specsOf(c, [V.grpoSc, V.grpoPos]),
        },
      ],
      figures,
      claims,
      markdown: sectionMarkdown(
        'Figure 5 — reward std with and without L_SC',
        null,
        claims,
        [
          '![Figure 5](fig5-reward-std.svg)',
          '',
          tableMarkdown(weights),
          '',
          `_${weights.note}_`,
          '',
          '![w](lsc-weights.svg) ![R_pos](rpos-signal.svg)',
        ].join('\n'),
      ),
    };
  },
};
