/**
 * quickstart — the main job: base model → GRPO baseline vs GRPO + R_pos + L_SC, one seed, test
 * metrics in a small table. A first look at the method in minutes (≤ 10 on a 2-core CPU).
 */
import { type CommonConfig, type Variant, collect, tableCells, variantSpec } from './framework';
import type { Experiment } from './types';

export const VARIANTS: Variant[] = [
  { id: 'base', label: 'base (no RFT)', init: 'base', grpo: null },
  { id: 'grpo', label: 'GRPO (R_format + R_IoU)', init: 'base', grpo: { reward: { aux: 'none', beta: 0, alpha: 2.5 }, spatialConsistency: false } },
  { id: 'grpo-pos-sc', label: 'GRPO + R_pos + L_SC', init: 'base', grpo: { reward: { aux: 'pos', beta: 0.1, alpha: 2.5 }, spatialConsistency: true } },
];

export const experiment: Experiment = {
  name: 'quickstart',
  paper: 'Table 1/3 in miniature',
  description: 'base → GRPO baseline vs GRPO + R_pos + L_SC, one seed, in minutes',
  configure: (c: CommonConfig, scale) => (scale === 'default'
    ? { ...c, base: { ...c.base, steps: 900 }, grpo: { ...c.grpo, steps: 60, evalEvery: 20 }, data: { ...c.data, test: 500 }, seeds: [1] }
    : { ...c, seeds: [1] }),
  async run(ctx) {
    const c = ctx.config;
    await ctx.train(VARIANTS.map((v) => variantSpec(c, v, c.seeds[0])));
    const rows = await collect('quickstart', c, VARIANTS, { split: 'test', count: c.data.test }, ctx.pool);
    const t = tableCells(rows);
    ctx.log(`\ntest split (${c.data.test} samples), seed ${c.seeds[0]}:`);
    ctx.printTable(t.header, t.body);
    return rows;
  },
};
