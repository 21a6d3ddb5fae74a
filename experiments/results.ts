/**
 * Result helpers every experiment shares: evaluate each variant's stage for each seed (cached,
 * in workers), rows found by variant id, intervals over seeds, the table of ours beside the
 * paper's, the bar figure, per-step curves, and `tableReport`, the collect → table → figure →
 * claims skeleton of a table experiment.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type DataRef, type StageSpec, evaluateStage, linkRun, stageDir } from '../lib/pipeline';
import { readJsonl } from '../lib/files';
import { meanCI, formatCI, type Interval } from '../lib/stats';
import type { Evaluation } from '../lib/evaluate';
import { type Figure, type RowBars, rowsFigure as rowsBars } from '../lib/report/plots';
import type { Table } from '../lib/report/tables';
import { type Claim, type ClaimResult, type PerSample, judgePaired } from '../lib/report/verdicts';
import type { PaperRow } from '../lib/report/paper';
import { type RunOptions, runEvaluations } from './scheduler';
import { type Variant, specsOf, variantSpec } from './specs';
import type { CommonConfig } from './scales';
import type { Report, ReportContext } from './types';
import { sectionMarkdown } from './markdown';

export type Row = { variant: Variant; seeds: number[]; evals: Evaluation[] };

/** Rows in table order, and by variant id (an unknown id is an error listing the known ones). */
export type Rows = { list: Row[]; get(id: string): Row };

export function rowsOf(list: Row[]): Rows {
  const byId = new Map(list.map((r) => [r.variant.id, r]));
  return {
    list,
    get(id: string): Row {
      const r = byId.get(id);
      if (!r) throw new Error(`no row "${id}" (rows: ${[...byId.keys()].join(', ')})`);
      return r;
    },
  };
}

/**
 * Evaluate each variant's stage for each seed on `ref` (in workers when `opts` is given; cached
 * per stage), linking runs under runs/<experiment>/.
 */
export async function collect(
  experiment: string,
  c: CommonConfig,
  variants: Variant[],
  ref: DataRef,
  opts?: RunOptions,
): Promise<Rows> {
  if (opts)
    await runEvaluations(
      variants.flatMap((v) => c.seeds.map((seed) => ({ spec: variantSpec(c, v, seed), ref }))),
      opts,
    );
  const rows: Row[] = [];
  for (const v of variants) {
    const evals: Evaluation[] = [];
    for (const seed of c.seeds) {
      const spec = variantSpec(c, v, seed);
      linkRun(experiment, `${v.id}-s${seed}`, spec);
      evals.push(await evaluateStage(spec, ref));
    }
    rows.push({ variant: v, seeds: c.seeds, evals });
  }
  return rowsOf(rows);
}

export type MetricName = 'acc50' | 'acc70' | 'miou' | 'ciou';
export const METRICS: MetricName[] = ['acc50', 'acc70', 'miou'];
export const METRIC_LABEL: Record<MetricName, string> = {
  acc50: 'Acc@0.5',
  acc70: 'Acc@0.7',
  miou: 'mIoU',
  ciou: 'cIoU',
};

export function intervals(row: Row): Record<MetricName, Interval> {
  const out = {} as Record<MetricName, Interval>;
  for (const m of [...METRICS, 'ciou'] as MetricName[]) out[m] = meanCI(row.evals.map((e) => e[m]));
  return out;
}

/** One value per seed. */
export function perSeed(row: Row, m: MetricName): number[] {
  return row.evals.map((e) => e[m]);
}

/** Per seed, per sample: 1/0 for Acc@τ, the IoU for mIoU (for the paired bootstrap over samples). */
export function perSample(row: Row, m: 'acc50' | 'acc70' | 'miou'): PerSample {
  const tau = m === 'acc50' ? 0.5 : m === 'acc70' ? 0.7 : NaN;
  return row.evals.map((e) => e.results.map((r) => (m === 'miou' ? r.iou : r.iou >= tau ? 1 : 0)));
}

/** Ours (mean ± 95% CI over seeds, %) beside the paper's numbers, when it has them. */
export function comparisonTable(
  title: string,
  rows: Row[],
  paper: (PaperRow | undefined)[] = [],
  note?: string,
): Table {
  const withPaper = paper.some(Boolean);
  const header = [
    'method',
    ...METRICS.map((m) => METRIC_LABEL[m]),
    ...(withPaper ? METRICS.map((m) => `paper ${METRIC_LABEL[m]}`) : []),
    'seeds',
  ];
  const body = rows.map((r, i) => {
    const ci = intervals(r);
    const p = paper[i];
    return [
      r.variant.label,
      ...METRICS.map((m) => formatCI(ci[m])),
      ...(withPaper ? METRICS.map((m) => (p ? p[m as 'acc50' | 'acc70' | 'miou'].toFixed(2) : '–')) : []),
      String(r.seeds.length),
    ];
  });
  return {
    title,
    header,
    rows: body,
    note:
      note ??
      (rows.some((r) => r.seeds.length < 2)
        ? 'Ours: one seed (n = 1), in %: no interval, so no difference here is a finding.'
        : 'Ours: mean ± 95% CI (Student t) over seeds, in %.') +
        (withPaper ? ' Paper: RSGround-R1 (DIOR-RSVG), quoted.' : ''),
  };
}

/**
 * Acc@0.5 and mIoU per row as horizontal bars (%): the 95% CI over seeds, each seed as a point,
 * and the paper's number where it has one (`paper`, in table order).
 */
export function rowsFigure(title: string, rows: Row[], paper: (PaperRow | undefined)[] = []): Figure {
  const bars: RowBars[] = rows.map((r, i) => {
    const ci = intervals(r);
    return {
      label: r.variant.label,
      values: (['acc50', 'miou'] as const).map((m) => ({
        metric: METRIC_LABEL[m],
        mean: 100 * ci[m].mean,
        err: 100 * ci[m].halfWidth,
        seeds: perSeed(r, m).map((x) => 100 * x),
        paper: paper[i]?.[m],
      })),
    };
  });
  return rowsBars(title, bars);
}

/** A stage's metrics.jsonl records (a torn last line is dropped). */
export function stageMetrics(spec: StageSpec): Record<string, number>[] {
  const f = join(stageDir(spec), 'metrics.jsonl');
  if (!existsSync(f)) return [];
  return readJsonl<Record<string, number>>(f);
}

/** A per-step metric across seeds: mean and 95% CI at each step (steps present in every seed). */
export function curveOverSeeds(
  specs: StageSpec[],
  key: string,
  smooth = 1,
): { x: number[]; y: number[]; lo: number[]; hi: number[] } {
  const bySeed = specs.map((s) => {
    const pts = stageMetrics(s)
      .filter((m) => typeof m[key] === 'number')
      .map((m) => [m.step, m[key]] as [number, number]);
    const ys = pts.map((p) => p[1]);
    const sm = ys.map((_, i) => {
      const w = ys.slice(Math.max(0, i - smooth + 1), i + 1);
      return w.reduce((a, b) => a + b, 0) / w.length;
    });
    return new Map(pts.map((p, i) => [p[0], sm[i]]));
  });
  const steps = [...(bySeed[0]?.keys() ?? [])].filter((st) => bySeed.every((m) => m.has(st))).sort((a, b) => a - b);
  const x: number[] = [],
    y: number[] = [],
    lo: number[] = [],
    hi: number[] = [];
  for (const st of steps) {
    const ci = meanCI(bySeed.map((m) => m.get(st)!));
    x.push(st);
    y.push(ci.mean);
    lo.push(Number.isFinite(ci.lo) ? ci.lo : ci.mean);
    hi.push(Number.isFinite(ci.hi) ? ci.hi : ci.mean);
  }
  return { x, y, lo, hi };
}

/** "Row a beats row b" on Acc@0.5, paired by seed, with the per-sample bootstrap beside it. */
export function beats(rows: Rows, a: string, b: string, claim: Claim, what: string): ClaimResult {
  const A = rows.get(a),
    B = rows.get(b);
  return judgePaired(claim, perSeed(A, 'acc50'), perSeed(B, 'acc50'), {
    what,
    samplesA: perSample(A, 'acc50'),
    samplesB: perSample(B, 'acc50'),
  });
}

/** A curve of fractions as percentages (one unit for accuracies and IoUs in every figure). */
export function percent<T extends { y: number[]; lo: number[]; hi: number[] }>(c: T): T {
  return { ...c, y: c.y.map((v) => 100 * v), lo: c.lo.map((v) => 100 * v), hi: c.hi.map((v) => 100 * v) };
}

/**
 * The skeleton of a table experiment: collect its rows on a split, the table of ours beside the
 * paper's (`paper` keyed by variant id), the bar figure, and the claims judged on the rows.
 */
export async function tableReport(
  ctx: ReportContext,
  x: {
    experiment: string;
    title: string;
    variants: Variant[];
    ref: DataRef;
    paper?: Record<string, PaperRow>;
    claims: (rows: Rows) => ClaimResult[];
    description: string;
    note?: string;
    extra?: string;
  },
): Promise<Report & { rows: Rows }> {
  const c = ctx.config;
  const rows = await collect(x.experiment, c, x.variants, x.ref, ctx.pool);
  const paper = x.paper ? x.variants.map((v) => x.paper![v.id]) : [];
  const table = comparisonTable(x.title, rows.list, paper, x.note);
  const claims = x.claims(rows);
  const specs = specsOf(c, x.variants);
  return {
    rows,
    tables: [{ name: x.experiment, table, description: x.description, specs }],
    figures: [
      {
        name: x.experiment,
        figure: rowsFigure(x.title, rows.list, paper),
        description: `Acc@0.5 and mIoU per row, ${x.description}`,
        specs,
      },
    ],
    claims,
    markdown: sectionMarkdown(x.title, table, claims, x.extra ?? ''),
  };
}
