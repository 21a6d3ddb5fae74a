/** table2-ood — out-of-domain generalisation (paper Table 2): the Table 1 models on shifted test sets. */
import { collect, comparisonTable, perSeed, rowsFigure, type Rows } from './results';
import { specsOf } from './specs';
import { V } from './variants';
import { OOD_SPLITS, splitSpec } from '../lib/data/splits';
import { PAPER } from '../lib/report/paper';
import { judgePaired } from '../lib/report/verdicts';
import type { Experiment, NamedFigure, NamedTable } from './types';
import { sectionMarkdown } from './markdown';

const VARIANTS = [V.sft, V.grpo, V.full];

export const experiment: Experiment = {
  name: 'table2-ood',
  syntheticOnly: 'its out-of-domain test sets are shifts of the mini world (palette, density, scale)',
  paper: 'Table 2',
  description: 'out-of-domain test sets (palette, scale, density) for SFT, GRPO and RSGround-R1',
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const tables: NamedTable[] = [],
      figures: NamedFigure[] = [];
    const all: Record<string, Rows> = {};
    let md = '';
    for (const split of OOD_SPLITS) {
      const rows = await collect('table2-ood', c, VARIANTS, { split, count: c.data.ood }, ctx.pool);
      all[split] = rows;
      // The paper's OOD columns (FAST-T, SOTA-T) are different shifts; show FAST-T beside palette, SOTA-T beside
      // density.
      const col = split === 'ood-palette' ? 0 : split === 'ood-dense' ? 1 : -1;
      const paper =
        col < 0 ? [] : [PAPER.table2.rows.sft[col], PAPER.table2.rows.grpo[col], PAPER.table2.rows.full[col]];
      const t = comparisonTable(
        `Table 2: ${split} — ${splitSpec(split).description}`,
        rows.list,
        paper,
        col < 0
          ? 'Ours: mean ± 95% CI over seeds, %. The paper has no object-scale shift to compare with.'
          : `Ours: mean ± 95% CI over seeds, %. Paper: DIOR-RSVG-trained models on ` +
              `${col === 0 ? 'FAST-T' : 'SOTA-T'}, quoted.`,
      );
      tables.push({
        name: `table2-${split}`,
        table: t,
        description: `Table 2 on ${split}`,
        specs: specsOf(c, VARIANTS),
      });
      figures.push({
        name: `table2-${split}`,
        figure: rowsFigure(`Table 2: ${split}`, rows.list, paper),
        description: `OOD accuracy on ${split}`,
        specs: specsOf(c, VARIANTS),
      });
      md += sectionMarkdown(`Table 2 — out of domain: ${split}`, t, []);
    }
    // Per seed, the mean over the OOD sets: one value per seed, so n counts seeds.
    const pool = (id: string) => {
      const per = OOD_SPLITS.map((s) => perSeed(all[s].get(id), 'acc50'));
      return per[0].map((_, k) => per.reduce((a, v) => a + v[k], 0) / per.length);
    };
    const claims = [
      judgePaired(
        {
          id: 't2-full-grpo',
          text: 'RSGround-R1 consistently outperforms the GRPO baseline out of domain',
          source: '§4.3, Table 2',
        },
        pool('full'),
        pool('grpo'),
        { what: 'Acc@0.5 averaged over the OOD sets, full − GRPO' },
      ),
      judgePaired(
        { id: 't2-grpo-sft', text: 'SFT performs worse than GRPO out of domain', source: '§4.3, Table 2' },
        pool('grpo'),
        pool('sft'),
        { what: 'Acc@0.5 averaged over the OOD sets, GRPO − SFT' },
      ),
    ];
    return { tables, figures, claims, markdown: md + sectionMarkdown('Table 2 — verdicts', null, claims) };
  },
};
