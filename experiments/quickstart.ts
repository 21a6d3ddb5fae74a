/**
 * quickstart — the main job: base model → GRPO baseline vs GRPO + R_pos + L_SC at the default
 * scale's GRPO recipe, three seeds, test metrics as mean ± 95% CI and the paired differences
 * that say what GRPO did. A first look at the method in 6–9 minutes on a 2-core CPU (5.6 to 8.9
 * min on the three processors measured: docs/performance.md).
 *
 * Choices: the base pretrains 900 steps (the default's 3000 take ~4 min alone), GRPO runs 300 of
 * the default's 400 steps at its learning rate (GRPO climbs steadily over those steps at this
 * scale: experiments/CALIBRATION.md, C4b), on 500 test samples; three seeds, each with its own
 * base, so that the differences come with an interval (Student t over seeds, 2 degrees of
 * freedom: wide, but not none).
 */
import { collect, comparisonTable, perSeed, type Rows } from './results';
import { type Variant, dataRef, specsOf } from './specs';
import type { CommonConfig } from './scales';
import type { Experiment } from './types';
import type { Table } from '../lib/report/tables';
import { formatInterval, meanCI, pairedDifferences } from '../lib/stats';
import { V } from './variants';

export const VARIANTS: Variant[] = [{ ...V.base, label: 'base (no RFT)' }, V.grpo, V.grpoPosSc];

/** Paired by seed: a − b in Acc@0.5 and mIoU points, with each seed's difference. */
export function pairedTable(rows: Rows, pairs: [string, string][]): Table {
  const pts = (x: number) => (100 * x).toFixed(2);
  const cell = (d: number[]) => formatInterval(meanCI(d));
  const body = pairs.map(([a, b]) => {
    const ra = rows.get(a),
      rb = rows.get(b);
    const acc = pairedDifferences(perSeed(ra, 'acc50'), perSeed(rb, 'acc50'));
    const miou = pairedDifferences(perSeed(ra, 'miou'), perSeed(rb, 'miou'));
    return [`${ra.variant.label} − ${rb.variant.label}`, cell(acc), acc.map(pts).join(', '), cell(miou)];
  });
  const n = rows.list[0]?.seeds.length ?? 0;
  return {
    title: 'paired by seed: the difference each change made',
    header: ['difference', 'Acc@0.5 (95% CI)', 'per seed', 'mIoU (95% CI)'],
    rows: body,
    note:
      n < 2
        ? 'One seed (n = 1): no interval, so no difference here is a finding.'
        : `Points; mean [95% CI] over ${n} seeds (Student t over the per-seed differences).`,
  };
}

export const experiment: Experiment = {
  name: 'quickstart',
  paper: 'Tables 1/3 in miniature',
  description: 'base → GRPO baseline vs GRPO + R_pos + L_SC, three seeds, paired, in 6–9 minutes on 2 cores',
  configure: (c: CommonConfig, scale) =>
    scale === 'default'
      ? {
          ...c,
          base: { ...c.base, steps: 900 },
          grpo: { ...c.grpo, steps: 300, evalEvery: 100 },
          data: { ...c.data, test: 500 },
          seeds: [1, 2, 3],
        }
      : { ...c, seeds: [1] },
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const rows = await collect('quickstart', c, VARIANTS, dataRef(c, 'test', c.data.test), ctx.pool);
    const table = comparisonTable(
      `quickstart: test split (${c.data.test} samples), seed${c.seeds.length > 1 ? 's' : ''} ${c.seeds.join(', ')}`,
      rows.list,
    );
    const paired = pairedTable(rows, [
      ['grpo', 'base'],
      ['grpo-pos-sc', 'grpo'],
    ]);
    return {
      tables: [
        { name: 'quickstart', table, description: 'quickstart results on the test split', specs: specsOf(c, VARIANTS) },
        {
          name: 'quickstart-paired',
          table: paired,
          description: 'what GRPO and R_pos + L_SC changed, paired by seed',
          specs: specsOf(c, VARIANTS),
        },
      ],
      figures: [],
      claims: [],
      markdown: '',
    };
  },
};
