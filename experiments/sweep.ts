/**
 * A two-parameter sweep on the validation split, reported as differences from its baseline (the
 * run without the component), paired by seed: a diverging heatmap centred on 0 with a fixed,
 * stated range, cells whose paired 95% interval excludes 0 marked with an asterisk, and the same
 * numbers as a table.
 */
import { collect, intervals, perSeed, type Rows } from './results';
import { type Variant, dataRef, specsOf } from './specs';
import { diffHeatmapFigure } from '../lib/report/plots';
import { formatCI, pairedDiffCI } from '../lib/stats';
import type { Experiment, Report, ReportContext } from './types';
import { sectionMarkdown } from './markdown';
import type { Table } from '../lib/report/tables';

/** The fixed half-range of the heatmaps' colour scale, in points. */
export const SWEEP_RANGE = 5;

export type SweepSpec = {
  name: string;
  title: string;
  /** rows (y) and columns (x) of the grid, with their axis titles */
  ys: number[];
  xs: number[];
  yTitle: string;
  xTitle: string;
  /** the variant of a cell; `baseline` is the run every cell is compared with */
  cell: (y: number, x: number) => Variant;
  baseline: Variant;
  note: string;
};

export function sweepVariants(s: SweepSpec): Variant[] {
  const all = [s.baseline, ...s.ys.flatMap((y) => s.xs.map((x) => s.cell(y, x)))];
  return [...new Map(all.map((v) => [v.id, v])).values()];
}

export async function sweepReport(ctx: ReportContext, s: SweepSpec): Promise<Report> {
  const c = ctx.config;
  const variants = sweepVariants(s);
  const rows: Rows = await collect(s.name, c, variants, dataRef(c, 'val', c.data.val), ctx.pool);
  const base = rows.get(s.baseline.id);
  const figures = (['acc50', 'miou'] as const).map((m) => {
    const d = s.ys.map((y) => s.xs.map((x) => pairedDiffCI(perSeed(rows.get(s.cell(y, x).id), m), perSeed(base, m))));
    const where: [number, number] = [-1, -1];
    s.ys.forEach((y, i) =>
      s.xs.forEach((x, j) => s.cell(y, x).id === s.baseline.id && ((where[0] = i), (where[1] = j))),
    );
    const what = m === 'acc50' ? 'Acc@0.5' : 'mIoU';
    return {
      name: `${s.name}-${m}`,
      figure: diffHeatmapFigure(
        `${s.title}: validation ${what}, difference from the baseline (points; * = paired 95% CI excludes 0)`,
        s.xTitle,
        s.yTitle,
        s.xs,
        s.ys,
        d.map((r) => r.map((ci) => 100 * ci.mean)),
        d.map((r) => r.map((ci) => 100 * ci.halfWidth)),
        d.map((r) => r.map((ci) => Number.isFinite(ci.halfWidth) && (ci.lo > 0 || ci.hi < 0))),
        where,
        SWEEP_RANGE,
      ),
      description: `val ${what} over the grid minus the baseline's, paired by seed, with 95% CIs`,
      specs: specsOf(c, variants),
    };
  });
  const table: Table = {
    title: `${s.title}: validation Acc@0.5 (%), and its difference from the baseline (points, paired by seed)`,
    header: [`${s.yTitle} \\ ${s.xTitle}`, ...s.xs.map(String)],
    rows: s.ys.map((y) => [
      String(y),
      ...s.xs.map((x) => {
        const r = rows.get(s.cell(y, x).id);
        if (r.variant.id === s.baseline.id) return `${formatCI(intervals(r).acc50)} (baseline)`;
        const d = pairedDiffCI(perSeed(r, 'acc50'), perSeed(base, 'acc50'));
        return `${formatCI(intervals(r).acc50)}; Δ ${formatCI(d)}`;
      }),
    ]),
    note:
      `${s.note} Baseline: ${s.baseline.label}, val Acc@0.5 ${formatCI(intervals(base).acc50)}. ` +
      'Mean ± 95% CI over seeds.',
  };
  return {
    tables: [{ name: s.name, table, description: `${s.title} on val`, specs: specsOf(c, variants) }],
    figures,
    claims: [],
    markdown: sectionMarkdown(`${s.title} (validation)`, table, [], `![${s.title}](${s.name}-acc50.svg)`),
  };
}

export function sweepExperiment(s: SweepSpec, paper: string, description: string): Experiment {
  return {
    name: s.name,
    paper,
    description,
    specs: (c) => specsOf(c, sweepVariants(s)),
    report: (ctx) => sweepReport(ctx, s),
  };
}
