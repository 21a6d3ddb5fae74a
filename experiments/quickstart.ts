/**
 * quickstart — the main job: base model → GRPO baseline vs GRPO + R_pos + L_SC, one seed, test
 * metrics in a small table. A first look at the method in minutes (≤ 10 on a 2-core CPU).
 */
import { collect, comparisonTable } from './results';
import { type Variant, dataRef, specsOf } from './specs';
import type { CommonConfig } from './scales';
import type { Experiment } from './types';
import { V } from './variants';

export const VARIANTS: Variant[] = [{ ...V.base, label: 'base (no RFT)' }, V.grpo, V.grpoPosSc];

export const experiment: Experiment = {
  name: 'quickstart',
  paper: 'Tables 1/3 in miniature',
  description: 'base → GRPO baseline vs GRPO + R_pos + L_SC, one seed, in minutes',
  configure: (c: CommonConfig, scale) =>
    scale === 'default'
      ? {
          ...c,
          base: { ...c.base, steps: 900 },
          grpo: { ...c.grpo, steps: 60, evalEvery: 20 },
          data: { ...c.data, test: 500 },
          seeds: [1],
        }
      : { ...c, seeds: [1] },
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const rows = await collect('quickstart', c, VARIANTS, dataRef(c, 'test', c.data.test), ctx.pool);
    const table = comparisonTable(
      `quickstart: test split (${c.data.test} samples), seed ${c.seeds.join(',')}`,
      rows.list,
    );
    return {
      tables: [
        { name: 'quickstart', table, description: 'quickstart results on the test split', specs: specsOf(c, VARIANTS) },
      ],
      figures: [],
      claims: [],
      markdown: '',
    };
  },
};
