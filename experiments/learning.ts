/**
 * learning — does GRPO learn, and if it does not, why? Base model, SFT baseline, GRPO and
 * GRPO + R_pos + L_SC (both from the base model) on the validation split, 3 seeds, plus the
 * measurements that explain what GRPO changes:
 * - dynamics: val Acc@0.5 at the first and last evaluation of each GRPO run (paired per seed),
 *   and the rollouts' IoU reward over the first and last tenth of the steps;
 * - what sampling sees: one rollout's Acc@0.5 at the rollout temperature, and pass@G (some
 *   rollout of G hits), next to greedy Acc@0.5 — RL raises the sampled reward, greedy accuracy
 *   moves only when the mode moves;
 * - memorisation: greedy Acc@0.5 on queries from the RFT pool against val, for GRPO and for a
 *   diagnostic run of 4× the steps (which revisits its pool about twice at the default scale).
 * Tuning happens on val only; nothing here reads the test split.
 */
import { collect, comparisonTable, curveOverSeeds, percent, perSeed, stageMetrics } from './results';
import { type Variant, dataRef, specsOf, variantSpec } from './specs';
import { type CommonConfig, withValCurve } from './scales';
import { V } from './variants';
import { lineFigure } from '../lib/report/plots';
import { judgePaired } from '../lib/report/verdicts';
import { meanCI, formatCI } from '../lib/stats';
import { advantageShareByStdQuartile } from '../lib/grpo';
import { samplingEvaluateStage, type StageSpec } from '../lib/pipeline';
import type { Table } from '../lib/report/tables';
import type { Experiment } from './types';
import { sectionMarkdown, tableMarkdown } from './markdown';

/** A GRPO variant trained for 4× the scale's steps (memorisation, and whether gains keep coming). */
export function long(c: CommonConfig, v: Variant): Variant {
  const steps = 4 * c.grpo.steps;
  return {
    id: `${v.id}-4x`,
    label: `${v.label}, 4× steps (${steps})`,
    init: v.init,
    grpo: { ...v.grpo, steps, evalEvery: 4 * c.grpo.evalEvery },
  };
}

const grpoRows = (c: CommonConfig): Variant[] => [
  V.grpo,
  V.grpoPosSc,
  long(c, V.grpo),
  V.grpoDr,
  V.grpoPosScDr,
  long(c, V.grpoDr),
];
const variantsOf = (c: CommonConfig): Variant[] => [V.base, V.sft, ...grpoRows(c)];
/** The rows confirmed on the test split after being chosen on val. */
const testRows = (): Variant[] => [V.base, V.sft, V.grpo, V.grpoPosSc, V.grpoDr, V.grpoPosScDr];

/** Per seed: [first, last] value of a metric logged during a run. */
function firstLast(spec: StageSpec, key: string, frac = 0): [number, number] {
  const v = stageMetrics(spec)
    .filter((m) => typeof m[key] === 'number')
    .map((m) => m[key]);
  if (!v.length) return [NaN, NaN];
  if (frac === 0) return [v[0], v[v.length - 1]];
  const k = Math.max(1, Math.round(v.length * frac));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [avg(v.slice(0, k)), avg(v.slice(-k))];
}

const pct = (xs: number[]) => formatCI(meanCI(xs));
const num = (xs: number[], d = 3) => {
  const ci = meanCI(xs);
  return Number.isFinite(ci.halfWidth) ? `${ci.mean.toFixed(d)} ± ${ci.halfWidth.toFixed(d)}` : ci.mean.toFixed(d);
};

/**
 * Per GRPO variant: val Acc@0.5 first → last evaluation (paired per seed), rollout IoU first →
 * last tenth, KL, ties.
 */
export function dynamicsTable(title: string, c: CommonConfig, variants: Variant[]): Table {
  return {
    title,
    header: [
      'method',
      'val Acc@0.5 start',
      'val Acc@0.5 end',
      'Δ val Acc@0.5',
      'rollout IoU first 10%',
      'rollout IoU last 10%',
      'Δ rollout IoU',
      'KL at end',
      'zero-std groups',
    ],
    rows: variants.map((v) => {
      const specs = c.seeds.map((s) => variantSpec(c, v, s));
      const acc = specs.map((s) => firstLast(s, 'eval/acc50'));
      const iou = specs.map((s) => firstLast(s, 'reward/iou', 0.1));
      const kl = specs.map((s) => firstLast(s, 'grpo/kl', 0.1)[1]);
      const z = specs.map((s) => firstLast(s, 'grpo/zero_std_frac', 0.5)[1]);
      return [
        v.label,
        pct(acc.map((a) => a[0])),
        pct(acc.map((a) => a[1])),
        pct(acc.map((a) => a[1] - a[0])),
        num(iou.map((a) => a[0])),
        num(iou.map((a) => a[1])),
        num(iou.map((a) => a[1] - a[0])),
        num(kl),
        pct(z),
      ];
    }),
    note:
      'Δ is paired per seed (end − start of the same run). Rollout IoU: mean R_IoU of the sampled rollouts over ' +
      'the first and last tenth of the steps; KL: mean k3 over the last tenth; zero-std groups: fraction of groups ' +
      'whose rewards all tie, second half. Mean ± 95% CI (Student t) over seeds; accuracies in %.',
  };
}

export const experiment: Experiment = {
  name: 'learning',
  paper: 'Tables 1/3 rows on val, with the dynamics behind them',
  description:
    'does GRPO learn? base, SFT, GRPO, GRPO + R_pos + L_SC on val (3 seeds), dynamics, sampled vs greedy, memorisation',
  configure: (c) => ({ ...withValCurve(c), seeds: [1, 2, 3] }),
  specs: (c) => specsOf(c, variantsOf(c)),
  async report(ctx) {
    const c = ctx.config;
    const val = dataRef(c, 'val', c.data.val);
    // Queries from the start of the train split: all inside the RFT pool (its first trainFraction).
    const pool = dataRef(c, 'train', c.data.val);
    const variants = variantsOf(c);
    const rows = await collect('learning', c, variants, val, ctx.pool);
    const poolRows = await collect('learning', c, variants, pool, ctx.pool);
    const main = comparisonTable(
      'Does GRPO learn? Validation split',
      rows.list,
      [],
      'Greedy decoding on val. Mean ± 95% CI (Student t) over seeds, in %. The base model is one model ' +
        '(seed-independent). Dr. GRPO advantages were chosen on this split (learning-knobs).',
    );
    // Chosen on val; the test split only confirms (nothing is tuned on it).
    const testRowsData = await collect('learning', c, testRows(), dataRef(c, 'test', c.data.test), ctx.pool);
    const test = comparisonTable(
      'Confirmation on the test split (settings chosen on val)',
      testRowsData.list,
      [],
      'Greedy decoding on test. Mean ± 95% CI (Student t) over seeds, in %.',
    );

    const G = c.grpo.group,
      T = c.grpo.temperature;
    const dyn = dynamicsTable('GRPO dynamics (per seed, then mean ± 95% CI)', c, grpoRows(c));

    // What sampling sees (init and each GRPO row), and memorisation (pool vs val, greedy).
    const sampled = async (spec: StageSpec) =>
      samplingEvaluateStage(spec, val, { group: G, temperature: T, maxLen: c.grpo.maxLen });
    const diagRows: string[][] = [];
    for (const v of variants) {
      if (v.id === 'sft') continue;
      const specs = c.seeds.map((s) => variantSpec(c, v, s));
      const se = [];
      for (const s of specs) se.push(await sampled(s));
      const greedyVal = perSeed(rows.get(v.id), 'acc50'),
        greedyPool = perSeed(poolRows.get(v.id), 'acc50');
      diagRows.push([
        v.label,
        pct(greedyVal),
        pct(se.map((e) => e.acc50)),
        pct(se.map((e) => e.passAtG)),
        pct(greedyPool),
        pct(greedyPool.map((p, k) => p - greedyVal[k])),
      ]);
    }
    const drawn = Math.round(
      100 * Math.min(1, (c.grpo.steps * c.grpo.queriesPerStep) / (c.grpo.trainFraction * c.data.train)),
    );
    const diag: Table = {
      title: `What sampling sees, and memorisation (val ${c.data.val}; RFT-pool queries ${pool.count})`,
      header: [
        'method',
        'greedy val Acc@0.5',
        `one rollout (T=${T}) val Acc@0.5`,
        `pass@${G} val`,
        'greedy pool Acc@0.5',
        'pool − val',
      ],
      rows: diagRows,
      note:
        `Sampled columns: ${G} rollouts per val query at the rollout temperature, fixed sampling seed. Pool: the ` +
        `first ${pool.count} train queries, all inside the RFT pool (the first ` +
        `${Math.round(c.grpo.trainFraction * 100)}% of train); GRPO with ${c.grpo.steps} steps × ` +
        `${c.grpo.queriesPerStep} queries draws about ` +
        `${drawn}% of its pool once; 4× steps revisits it. Mean ± 95% CI over seeds, in %.`,
    };

    // Where an update's weight goes: advantage mass by quartile of the groups' reward spread, for
    // the base model's own rollouts (R_format + R_IoU) on val — the batches GRPO starts from.
    const baseRollouts = (await sampled(variantSpec(c, V.base, c.seeds[0]))).rewards;
    const share = (scale: 'std' | 'none') =>
      advantageShareByStdQuartile(baseRollouts, scale).map((x) => `${(x * 100).toFixed(1)}%`);
    const mass: Table = {
      title:
        `Share of the advantage mass Σ|A| by quartile of the group reward std (base model, ${G} rollouts per ` +
        `val query, T=${T})`,
      header: ['advantages', 'lowest-spread quarter', '2nd', '3rd', 'highest-spread quarter'],
      rows: [
        ['divided by the group std (paper, SPEC §4)', ...share('std')],
        ['only centred (Dr. GRPO)', ...share('none')],
      ],
      note:
        'Groups whose rewards all tie carry no advantage and are left out. Dividing by the std gives every group ' +
        'the same weight whatever its spread; without it a group weighs in proportion to its spread.',
    };

    const grpoSpecs = (v: Variant) => c.seeds.map((s) => variantSpec(c, v, s));
    const figures = [
      {
        name: 'learning-val',
        description: 'val Acc@0.5 during GRPO, mean and 95% CI over seeds',
        specs: specsOf(c, grpoRows(c)),
        figure: lineFigure(
          'GRPO: val Acc@0.5 during training',
          'GRPO step',
          'val Acc@0.5 (%)',
          grpoRows(c).map((v) => ({ name: v.label, ...percent(curveOverSeeds(grpoSpecs(v), 'eval/acc50')) })),
        ),
      },
      {
        name: 'learning-reward',
        description: 'rollout IoU reward per GRPO step (10-step moving average), mean and 95% CI over seeds',
        specs: specsOf(c, grpoRows(c)),
        figure: lineFigure(
          'GRPO: rollout IoU reward per step (10-step moving average)',
          'GRPO step',
          'mean IoU of the rollouts (%)',
          grpoRows(c).map((v) => ({ name: v.label, ...percent(curveOverSeeds(grpoSpecs(v), 'reward/iou', 10)) })),
        ),
      },
    ];
    const vs = (a: Variant, b: Variant, id: string, text: string, source: string, what: string, r = rows) =>
      judgePaired({ id, text, source }, perSeed(r.get(a.id), 'acc50'), perSeed(r.get(b.id), 'acc50'), { what });
    const claims = [
      vs(
        V.grpo,
        V.base,
        'learn-grpo-base',
        'GRPO improves on the base model it starts from (val Acc@0.5)',
        'Table 1, GRPO row vs base row',
        'val Acc@0.5, GRPO − base',
      ),
      vs(
        V.grpoPosSc,
        V.base,
        'learn-full-base',
        'GRPO + R_pos + L_SC improves on the base model it starts from (val Acc@0.5)',
        'Table 3, components from the base model',
        'val Acc@0.5, GRPO + R_pos + L_SC − base',
      ),
      vs(
        V.grpoDr,
        V.base,
        'learn-dr-base',
        'GRPO with Dr. GRPO advantages improves on the base model (val Acc@0.5)',
        'Table 1, GRPO row vs base row',
        'val Acc@0.5, GRPO (Dr.) − base',
      ),
      vs(
        V.grpoPosScDr,
        V.base,
        'learn-dr-full-base',
        'GRPO + R_pos + L_SC with Dr. GRPO advantages improves on the base model (val Acc@0.5)',
        'Table 3, components from the base model',
        'val Acc@0.5, GRPO + R_pos + L_SC (Dr.) − base',
      ),
      vs(
        V.grpoDr,
        V.base,
        'learn-dr-base-test',
        'GRPO with Dr. GRPO advantages improves on the base model (test Acc@0.5, chosen on val)',
        'Table 1, GRPO row vs base row',
        'test Acc@0.5, GRPO (Dr.) − base',
        testRowsData,
      ),
    ];
    const specs = specsOf(c, variants);
    return {
      tables: [
        {
          name: 'learning',
          table: main,
          description: 'val Acc@0.5 / Acc@0.7 / mIoU of base, SFT, GRPO, GRPO + R_pos + L_SC',
          specs,
        },
        {
          name: 'learning-dynamics',
          table: dyn,
          description: 'GRPO dynamics: val accuracy and rollout reward, start vs end',
          specs,
        },
        {
          name: 'learning-test',
          table: test,
          description: 'test-split confirmation of the rows chosen on val',
          specs: specsOf(c, testRows()),
        },
        {
          name: 'learning-advantage-mass',
          table: mass,
          description: 'advantage mass by quartile of group reward spread, with and without std division',
          specs: specsOf(c, [V.base]),
        },
        {
          name: 'learning-diagnosis',
          table: diag,
          description: 'sampled vs greedy accuracy, and RFT-pool vs val accuracy',
          specs,
        },
      ],
      figures,
      claims,
      markdown: sectionMarkdown(
        'Does GRPO learn? (validation split)',
        main,
        claims,
        [
          tableMarkdown(dyn),
          '',
          `_${dyn.note}_`,
          '',
          tableMarkdown(test),
          '',
          `_${test.note}_`,
          '',
          tableMarkdown(diag),
          '',
          `_${diag.note}_`,
          '',
          tableMarkdown(mass),
          '',
          `_${mass.note}_`,
          '',
          '![val](learning-val.svg) ![reward](learning-reward.svg)',
        ].join('\n'),
      ),
    };
  },
};
