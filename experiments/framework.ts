/**
 * What every experiment shares: the scale presets, variants (one table row each) turned into
 * pipeline stage specs, a scheduler that trains stages in worker processes (one per core by
 * default) in dependency order with a live status line, and the result tables over seeds.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  type BaseSpec, type GrpoSpec, type SftSpec, type StageSpec, type DataRef,
  DEFAULT_GRPO, DEFAULT_SFT, evalFile, evaluateStage, isDone, lineage, linkRun, stageDir, stageName, runStage,
} from '../lib/pipeline';
import type { GrpoConfig } from '../lib/train-grpo';
import type { ArchitectureOverrides } from '../lib/model/policy';
import type { CotStyle } from '../lib/data/cot';
import { meanCI, formatCI, type Interval } from '../lib/stats';
import { fmtDuration } from '../lib/progress';
import { PROJECT_ROOT, runsDir, writeJsonAtomic } from '../lib/files';
import type { Evaluation } from '../lib/evaluate';
import { barFigure, type Bar, type Figure } from '../lib/report/plots';
import type { Table } from '../lib/report/tables';

export const SCALE_NAMES = ['quick', 'default', 'full'] as const;
export type Scale = (typeof SCALE_NAMES)[number];

export type CommonConfig = {
  /** policy architecture (overrides of DEFAULT_POLICY) */
  arch: ArchitectureOverrides;
  /** base pretraining on the generic corpus (built once per config hash) */
  base: { steps: number; batchSize: number; lr: number; count: number };
  /** the SFT baseline and CoT-SFT */
  sft: { steps: number; batchSize: number; lr: number };
  /** the CoT style CoT-SFT imitates */
  cot: CotStyle;
  /** GRPO settings shared by every variant (variants override some) */
  grpo: GrpoOverrides;
  /** how many samples of each split */
  data: { train: number; val: number; test: number; ood: number };
  seeds: number[];
};

const BASE_ARCH: ArchitectureOverrides = {};

export const SCALES: Record<Scale, CommonConfig> = {
  // Quick: the default policy with short stages. Its base grounds a little (≈7% val Acc@0.5 after
  // 600 steps, 2 min on 2 cores); a smaller policy with 150 base steps grounded nothing (0% for
  // every row), so nothing downstream could show learning.
  quick: {
    arch: { ...BASE_ARCH },
    base: { steps: 600, batchSize: 32, lr: 2e-3, count: 2000 },
    sft: { steps: 100, batchSize: 32, lr: 1e-3 },
    cot: 'rsground',
    grpo: { steps: 60, queriesPerStep: 8, group: 8, evalEvery: 20, checkpointEvery: 20 },
    data: { train: 2000, val: 200, test: 300, ood: 200 },
    seeds: [1],
  },
  default: {
    arch: { ...BASE_ARCH },
    base: { steps: 2500, batchSize: 32, lr: 2e-3, count: 8000 },
    sft: { steps: 400, batchSize: 32, lr: 1e-3 },
    cot: 'rsground',
    grpo: { steps: 150, queriesPerStep: 8, group: 8, evalEvery: 50, checkpointEvery: 25 },
    data: { train: 6000, val: 300, test: 1000, ood: 500 },
    seeds: [1, 2, 3],
  },
  full: {
    arch: { ...BASE_ARCH, dModel: 128, nEncLayers: 3, nDecLayers: 3 },
    base: { steps: 8000, batchSize: 64, lr: 1.5e-3, count: 8000 },
    sft: { steps: 1500, batchSize: 64, lr: 1e-3 },
    cot: 'rsground',
    grpo: { steps: 600, queriesPerStep: 16, group: 8, evalEvery: 100, checkpointEvery: 50 },
    data: { train: 6000, val: 500, test: 1000, ood: 500 },
    seeds: [1, 2, 3, 4, 5],
  },
};

/** GRPO settings to override; `reward` and `consistency` merge field by field. */
export type GrpoOverrides = Partial<Omit<GrpoConfig, 'reward' | 'consistency'>> & {
  reward?: Partial<GrpoConfig['reward']>;
  consistency?: Partial<GrpoConfig['consistency']>;
};

/** One table row: where RFT starts, and how its GRPO differs (null = no RFT: evaluate the init model). */
export type Variant = {
  id: string;
  label: string;
  init: 'base' | 'sft' | 'cotsft';
  grpo: GrpoOverrides | null;
};

export function baseSpec(c: CommonConfig): BaseSpec {
  return {
    kind: 'base', arch: c.arch, initSeed: 0,
    sft: { ...DEFAULT_SFT, steps: c.base.steps, batchSize: c.base.batchSize, lr: c.base.lr, target: 'short', checkpointEvery: Math.max(50, Math.round(c.base.steps / 10)) },
    // A curriculum: scenes of 1–3 objects, then 2–6, then full scenes. Without it the policy does
    // not learn to ground in full scenes in thousands of steps (measured: ~1% Acc@0.5 vs 24%).
    curriculum: [
      { until: 0.3, data: { split: 'generic-easy', count: c.base.count } },
      { until: 0.6, data: { split: 'generic-mid', count: c.base.count } },
      { until: 1, data: { split: 'generic', count: c.base.count } },
    ],
    eval: { split: 'val', count: c.data.val },
  };
}

function sftSpec(c: CommonConfig, target: CotStyle, seed: number): SftSpec {
  return {
    kind: 'sft', from: baseSpec(c), seed,
    sft: { ...DEFAULT_SFT, steps: c.sft.steps, batchSize: c.sft.batchSize, lr: c.sft.lr, target, warmup: 20, checkpointEvery: Math.max(25, Math.round(c.sft.steps / 4)) },
    data: { split: 'train', count: c.data.train },
    eval: { split: 'val', count: c.data.val },
  };
}

/** The stage a variant's row is read from (GRPO, or its init model when it has no RFT). */
export function variantSpec(c: CommonConfig, v: Variant, seed: number): StageSpec {
  const init: StageSpec = v.init === 'base' ? baseSpec(c) : sftSpec(c, v.init === 'sft' ? 'short' : c.cot, seed);
  if (!v.grpo) return init;
  const grpo: GrpoConfig = {
    ...DEFAULT_GRPO, ...c.grpo, ...v.grpo,
    reward: { ...DEFAULT_GRPO.reward, ...(c.grpo.reward ?? {}), ...(v.grpo.reward ?? {}) },
    consistency: { ...DEFAULT_GRPO.consistency, ...(c.grpo.consistency ?? {}), ...(v.grpo.consistency ?? {}) },
  };
  const spec: GrpoSpec = { kind: 'grpo', from: init as BaseSpec | SftSpec, grpo, seed, data: { split: 'train', count: c.data.train }, eval: { split: 'val', count: c.data.val } };
  return spec;
}

// ── Scheduling ───────────────────────────────────────────────────────────────────────────

export type RunOptions = { jobs: number; backend?: string; log: (s: string) => void };

export function defaultJobs(): number {
  return Math.max(1, Number(process.env.RSG_JOBS) || cpus().length);
}

function totalSteps(s: StageSpec): number {
  return s.kind === 'grpo' ? s.grpo.steps : s.sft.steps;
}

function progressOf(s: StageSpec): { step: number; reward?: number } {
  const f = join(stageDir(s), 'metrics.jsonl');
  if (!existsSync(f)) return { step: 0 };
  const lines = readFileSync(f, 'utf8').trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]) continue;
    const m = JSON.parse(lines[i]) as Record<string, number>;
    if (typeof m.step === 'number' && ('reward/total' in m || 'sft/loss' in m)) return { step: m.step, reward: m['reward/total'] ?? m['sft/loss'] };
  }
  return { step: 0 };
}

/**
 * Train every stage the given specs need (upstream first), `jobs` at a time in worker
 * processes. Finished stages are skipped; interrupted ones resume. Throws if any stage fails.
 */
export async function runStages(specs: StageSpec[], opts: RunOptions): Promise<void> {
  const all = new Map<string, StageSpec>();
  for (const s of specs) for (const x of lineage(s)) all.set(stageName(x), x);
  const pending = [...all.values()].filter((s) => !isDone(s));
  if (pending.length === 0) { opts.log('all stages already trained; reusing them'); return; }
  const stepsTotal = pending.reduce((a, s) => a + totalSteps(s), 0);
  opts.log(`training ${pending.length} stage(s) (${stepsTotal} optimizer steps) with ${opts.jobs} job(s); finished stages are reused`);
  const running = new Map<string, { spec: StageSpec; done: Promise<number> }>();
  const failed: string[] = [];
  const t0 = Date.now();
  const depsDone = (s: StageSpec) => s.kind === 'base' || isDone(s.from);
  const depFailed = (s: StageSpec): boolean => s.kind !== 'base' && (failed.includes(stageName(s.from)) || depFailed(s.from));
  let lastLine = 0;
  while (pending.length || running.size) {
    for (let i = 0; i < pending.length && running.size < opts.jobs; i++) {
      const s = pending[i];
      if (depFailed(s)) { failed.push(stageName(s)); pending.splice(i--, 1); continue; }
      if (!depsDone(s) || running.has(stageName(s))) continue;
      pending.splice(i--, 1);
      running.set(stageName(s), { spec: s, done: spawnWorker(s, opts, [], 'worker.log', blasThreadsFor(s)) });
    }
    const settled = await Promise.race([...[...running.values()].map((r) => r.done.then((code) => ({ name: stageName(r.spec), code }))), sleep(2000).then(() => null)]);
    if (settled) {
      const r = running.get(settled.name)!;
      running.delete(settled.name);
      if (settled.code !== 0 || !isDone(r.spec)) { failed.push(settled.name); opts.log(`✗ ${settled.name} failed (exit ${settled.code}); see ${join(stageDir(r.spec), 'worker.log')}`); }
      else opts.log(`✓ ${settled.name} (${describe(r.spec)})`);
    }
    if (Date.now() - lastLine > 10_000 || settled) {
      lastLine = Date.now();
      const doneSteps = stepsTotal - pending.reduce((a, s) => a + totalSteps(s), 0) - [...running.values()].reduce((a, r) => a + totalSteps(r.spec) - progressOf(r.spec).step, 0);
      const el = (Date.now() - t0) / 1000;
      const eta = doneSteps > 0 ? (el / doneSteps) * (stepsTotal - doneSteps) : NaN;
      const live = [...running.values()].map((r) => {
        const p = progressOf(r.spec);
        return `${stageName(r.spec).slice(0, 12)} ${p.step}/${totalSteps(r.spec)}${p.reward !== undefined ? ` ${r.spec.kind === 'grpo' ? 'R' : 'loss'}=${p.reward.toFixed(3)}` : ''}`;
      });
      opts.log(`  [${Math.round((100 * doneSteps) / stepsTotal)}%] ${fmtDuration(el)} elapsed, ETA ${fmtDuration(eta)} | ${live.join(' | ')}`);
    }
  }
  if (failed.length) throw new Error(`${failed.length} stage(s) failed: ${failed.join(', ')}`);
}

function describe(s: StageSpec): string {
  if (s.kind === 'base') return 'base pretraining';
  if (s.kind === 'sft') return `${s.sft.target === 'short' ? 'answer-only SFT' : `CoT-SFT (${s.sft.target})`}, seed ${s.seed}`;
  const g = s.grpo;
  const extra = [g.advantageScale && g.advantageScale !== 'std' ? ` adv=${g.advantageScale}` : '', (g.iterations ?? 1) > 1 ? ` μ=${g.iterations}` : ''].join('');
  return `GRPO aux=${g.reward.aux} β=${g.reward.beta} L_SC=${g.spatialConsistency ? `λm=${g.consistency.lambdaM},λv=${g.consistency.lambdaV}` : 'off'}${extra} from ${s.from.kind}${s.from.kind === 'sft' ? `(${s.from.sft.target})` : ''}, seed ${s.seed}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * OpenBLAS threads of a stage's worker ($RSG_BLAS_THREADS wins): every core for the base, which
 * every other stage waits for and so always trains alone; one per worker otherwise (they run
 * side by side, one per core). A fixed rule, not one that looks at what else is running: sgemm
 * results depend on the thread count in the last bits, and a stage must train the same way
 * whatever the schedule (same seed → same metrics.jsonl).
 */
export function blasThreadsFor(s: StageSpec, cores = cpus().length): number {
  if (process.env.RSG_BLAS_THREADS) return Number(process.env.RSG_BLAS_THREADS);
  return s.kind === 'base' ? cores : 1;
}

function spawnWorker(s: StageSpec, opts: RunOptions, extra: string[] = [], logName = 'worker.log', threads = 1): Promise<number> {
  const dir = stageDir(s);
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, 'spec.json'), s);
  return new Promise((resolve) => {
    const env = { ...process.env, RSG_BLAS_THREADS: String(threads), ...(opts.backend ? { RSG_BACKEND: opts.backend } : {}) };
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'experiments', 'worker.ts'), join(dir, 'spec.json'), ...extra], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('close', (code) => {
      writeFileSync(join(dir, logName), log);
      resolve(code ?? 1);
    });
  });
}

/** Evaluate finished stages on splits (results cached per stage), `jobs` at a time in workers. */
export async function runEvaluations(items: { spec: StageSpec; ref: DataRef }[], opts: RunOptions): Promise<void> {
  const seen = new Set<string>();
  const todo = items.filter(({ spec, ref }) => {
    const key = evalFile(spec, ref);
    if (seen.has(key) || existsSync(key)) return false;
    seen.add(key);
    return true;
  });
  if (todo.length === 0) return;
  opts.log(`evaluating ${todo.length} model/split pair(s) with ${opts.jobs} job(s)`);
  let next = 0;
  const failed: string[] = [];
  const worker = async () => {
    while (next < todo.length) {
      const { spec, ref } = todo[next++];
      const code = await spawnWorker(spec, opts, ['--eval', ref.split, String(ref.count)], `eval-${ref.split}.log`, 1);
      if (code !== 0 || !existsSync(evalFile(spec, ref))) failed.push(`${stageName(spec)} on ${ref.split}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.jobs, todo.length) }, worker));
  if (failed.length) throw new Error(`evaluation failed: ${failed.join(', ')} (see eval-*.log in the stage folders)`);
}

/** Train in this process instead (notebooks, tests): same stages, no workers. */
export async function runStagesInProcess(specs: StageSpec[], opts: { backend?: string; quiet?: boolean } = {}): Promise<void> {
  for (const s of specs) for (const x of lineage(s)) await runStage(x, { quiet: opts.quiet, backend: opts.backend });
}

// ── Results ──────────────────────────────────────────────────────────────────────────────

export type Row = { variant: Variant; seeds: number[]; evals: Evaluation[] };

/**
 * Evaluate each variant's stage for each seed on `ref` (in workers when `opts` is given; cached
 * per stage), linking runs under runs/<experiment>/.
 */
export async function collect(experiment: string, c: CommonConfig, variants: Variant[], ref: DataRef, opts?: RunOptions): Promise<Row[]> {
  if (opts) await runEvaluations(variants.flatMap((v) => c.seeds.map((seed) => ({ spec: variantSpec(c, v, seed), ref }))), opts);
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
  return rows;
}

export type MetricName = 'acc50' | 'acc70' | 'miou' | 'ciou';
export const METRICS: MetricName[] = ['acc50', 'acc70', 'miou'];
export const METRIC_LABEL: Record<MetricName, string> = { acc50: 'Acc@0.5', acc70: 'Acc@0.7', miou: 'mIoU', ciou: 'cIoU' };

export function intervals(row: Row): Record<MetricName, Interval> {
  const out = {} as Record<MetricName, Interval>;
  for (const m of [...METRICS, 'ciou'] as MetricName[]) out[m] = meanCI(row.evals.map((e) => e[m]));
  return out;
}

/** Rows as text cells: "63.25 ± 1.20" (percent, 95% CI over seeds). */
export function tableCells(rows: Row[], metrics: MetricName[] = METRICS): { header: string[]; body: string[][] } {
  return {
    header: ['method', ...metrics.map((m) => METRIC_LABEL[m]), 'seeds'],
    body: rows.map((r) => {
      const ci = intervals(r);
      return [r.variant.label, ...metrics.map((m) => formatCI(ci[m])), String(r.seeds.length)];
    }),
  };
}

export function experimentDir(name: string): string {
  return join(runsDir(), name);
}

// ── Report helpers ───────────────────────────────────────────────────────────────────────

export function perSeed(row: Row, m: MetricName): number[] {
  return row.evals.map((e) => e[m]);
}

/** Ours (mean ± 95% CI over seeds, %) beside the paper's numbers, when it has them. */
export function comparisonTable(title: string, rows: Row[], paper: (PaperRowLike | undefined)[] = [], note?: string): Table {
  const withPaper = paper.some(Boolean);
  const header = ['method', ...METRICS.map((m) => METRIC_LABEL[m]), ...(withPaper ? METRICS.map((m) => `paper ${METRIC_LABEL[m]}`) : []), 'seeds'];
  const body = rows.map((r, i) => {
    const ci = intervals(r);
    const p = paper[i];
    return [r.variant.label, ...METRICS.map((m) => formatCI(ci[m])), ...(withPaper ? METRICS.map((m) => (p ? p[m as keyof PaperRowLike].toFixed(2) : '–')) : []), String(r.seeds.length)];
  });
  return { title, header, rows: body, note: note ?? 'Ours: mean ± 95% CI (Student t) over seeds, in %. Paper: RSGround-R1 (DIOR-RSVG), quoted.' };
}

export type PaperRowLike = { acc50: number; acc70: number; miou: number };

/** Acc@0.5 and mIoU per row, with 95% CI error bars. */
export function rowsFigure(title: string, rows: Row[]): Figure {
  const bars: Bar[] = [];
  for (const r of rows) {
    const ci = intervals(r);
    for (const m of ['acc50', 'miou'] as MetricName[]) bars.push({ group: r.variant.label, name: METRIC_LABEL[m], value: 100 * ci[m].mean, err: 100 * ci[m].halfWidth });
  }
  return barFigure(title, '% (mean ± 95% CI over seeds)', bars);
}

/** A stage's metrics.jsonl records. */
export function stageMetrics(spec: StageSpec): Record<string, number>[] {
  const f = join(stageDir(spec), 'metrics.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, number>);
}

/** A per-step metric across seeds: mean and 95% CI at each step (steps present in every seed). */
export function curveOverSeeds(specs: StageSpec[], key: string, smooth = 1): { x: number[]; y: number[]; lo: number[]; hi: number[] } {
  const perSeed = specs.map((s) => {
    const pts = stageMetrics(s).filter((m) => typeof m[key] === 'number').map((m) => [m.step, m[key]] as [number, number]);
    const ys = pts.map((p) => p[1]);
    const sm = ys.map((_, i) => { const w = ys.slice(Math.max(0, i - smooth + 1), i + 1); return w.reduce((a, b) => a + b, 0) / w.length; });
    return new Map(pts.map((p, i) => [p[0], sm[i]]));
  });
  const steps = [...(perSeed[0]?.keys() ?? [])].filter((st) => perSeed.every((m) => m.has(st))).sort((a, b) => a - b);
  const x: number[] = [], y: number[] = [], lo: number[] = [], hi: number[] = [];
  for (const st of steps) {
    const ci = meanCI(perSeed.map((m) => m.get(st)!));
    x.push(st); y.push(ci.mean);
    lo.push(Number.isFinite(ci.lo) ? ci.lo : ci.mean); hi.push(Number.isFinite(ci.hi) ? ci.hi : ci.mean);
  }
  return { x, y, lo, hi };
}

export function specsOf(c: CommonConfig, variants: Variant[]): StageSpec[] {
  return variants.flatMap((v) => c.seeds.map((s) => variantSpec(c, v, s)));
}
