/**
 * The training pipeline as data: each stage — base pretraining, SFT (answer-only or CoT), GRPO —
 * is a fully resolved JSON spec, and its hash names its directory in a content-addressed store
 * (`<runsDir>/_store/<kind>-<hash>/`). Upstream specs are part of a spec, so changing anything
 * upstream changes every hash downstream. Consequences:
 * - the base model is built once per config hash and reused by every experiment;
 * - a run shared by several experiments (the GRPO baseline of Tables 1, 3, 4, 5) trains once;
 * - a stage with `summary.json` is done; one with a checkpoint resumes; a lock file keeps two
 *   processes from training the same stage at once.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, lstatSync, unlinkSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { hashConfig, readJson, runsDir, writeJsonAtomic } from './files';
import { Policy, type ArchitectureOverrides } from './model/policy';
import { RunDir } from './runs';
import { trainSft, type SftConfig, DEFAULT_SFT } from './train-sft';
import { trainGrpo, type GrpoConfig, DEFAULT_GRPO } from './train-grpo';
import { evaluatePolicy, samplingEvaluation, type Evaluation, type SamplingEvaluation } from './evaluate';
import { groundingSplit } from './data/splits';
import { selectBackend } from './backend';
import type { Ops } from './model/ops';
import type { Metrics } from './runs';

export type DataRef = { split: string; count: number };

/** Base pretraining: SFT through curriculum phases (each used until `until` × steps). */
export type BaseSpec = { kind: 'base'; arch: ArchitectureOverrides; initSeed: number; sft: SftConfig; curriculum: { until: number; data: DataRef }[]; eval: DataRef };
export type SftSpec = { kind: 'sft'; from: BaseSpec; sft: SftConfig; data: DataRef; eval: DataRef; seed: number };
export type GrpoSpec = { kind: 'grpo'; from: BaseSpec | SftSpec; grpo: GrpoConfig; data: DataRef; eval: DataRef; seed: number };
export type StageSpec = BaseSpec | SftSpec | GrpoSpec;

export function stageHash(spec: StageSpec): string {
  return hashConfig(spec, 12);
}

export function stageName(spec: StageSpec): string {
  return `${spec.kind}-${stageHash(spec)}`;
}

export function storeDir(): string {
  return join(runsDir(), '_store');
}

export function stageDir(spec: StageSpec): string {
  return join(storeDir(), stageName(spec));
}

/** The chain of stages a spec depends on, upstream first (itself last). */
export function lineage(spec: StageSpec): StageSpec[] {
  return spec.kind === 'base' ? [spec] : [...lineage(spec.from), spec];
}

export function isDone(spec: StageSpec): boolean {
  return existsSync(join(stageDir(spec), 'summary.json'));
}

export type StageSummary = {
  kind: StageSpec['kind'];
  hash: string;
  backend: string;
  /** what ran, e.g. the OpenBLAS build and thread count */
  backendDetail?: string;
  seconds: number;
  steps: number;
  /** the final evaluation on the spec's eval set */
  eval: Omit<Evaluation, 'results'> | null;
  last?: Metrics;
};

// ── Locks ────────────────────────────────────────────────────────────────────────────────

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Take the stage's lock (waiting while another live process holds it). Returns a release function. */
async function lockStage(dir: string): Promise<() => void> {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'lock');
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch {
      const pid = Number(readFileSync(lock, 'utf8') || 0);
      if (!pid || !pidAlive(pid)) { rmSync(lock, { force: true }); continue; } // stale lock
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

// ── Running a stage ──────────────────────────────────────────────────────────────────────

/** The policy at the end of a finished stage. */
export async function loadStagePolicy(spec: StageSpec, ops: Ops): Promise<Policy> {
  if (!isDone(spec)) throw new Error(`stage ${stageName(spec)} is not finished`);
  return Policy.load(join(stageDir(spec), 'checkpoint'), ops);
}

const splitCache = new Map<string, ReturnType<typeof groundingSplit>>();
function samples(ref: DataRef) {
  const key = `${ref.split}:${ref.count}`;
  let s = splitCache.get(key);
  if (!s) { s = groundingSplit(ref.split, { count: ref.count }); splitCache.set(key, s); }
  return s;
}

/**
 * Train one stage in this process (its upstream stages must be done), unless it is done already.
 * `quiet` silences the progress bar (workers report through metrics.jsonl instead).
 */
export async function runStage(spec: StageSpec, opts: { quiet?: boolean; backend?: string } = {}): Promise<StageSummary> {
  const dir = stageDir(spec);
  if (isDone(spec)) return readJson<StageSummary>(join(dir, 'summary.json'));
  if (spec.kind !== 'base' && !isDone(spec.from)) throw new Error(`stage ${stageName(spec)} needs ${stageName(spec.from)} first`);
  const release = await lockStage(dir);
  try {
    if (isDone(spec)) return readJson<StageSummary>(join(dir, 'summary.json')); // another process finished it meanwhile
    const backend = await selectBackend(opts.backend ?? process.env.RSG_BACKEND ?? 'auto');
    const run = new RunDir(dir);
    run.writeConfig({ ...spec, hash: stageHash(spec) });
    const t0 = Date.now();
    const label = stageName(spec);
    let summary: StageSummary;
    if (spec.kind === 'base' || spec.kind === 'sft') {
      const policy = spec.kind === 'base' ? Policy.create(spec.arch, spec.initSeed, backend.ops) : await loadStagePolicy(spec.from, backend.ops);
      const seed = spec.kind === 'base' ? spec.initSeed : spec.seed;
      const train = spec.kind === 'base' ? spec.curriculum.map((p) => ({ until: p.until, samples: samples(p.data) })) : samples(spec.data);
      const r = await trainSft({ policy, run, train, evalSet: samples(spec.eval), config: spec.sft, seed, label, quiet: opts.quiet });
      summary = { kind: spec.kind, hash: stageHash(spec), backend: backend.name, backendDetail: backend.detail, seconds: (Date.now() - t0) / 1000, steps: r.steps, eval: strip(r.eval) };
      policy.dispose();
    } else {
      const policy = await loadStagePolicy(spec.from, backend.ops);
      const r = await trainGrpo({ policy, run, train: samples(spec.data), evalSet: samples(spec.eval), config: spec.grpo, seed: spec.seed, label, quiet: opts.quiet });
      summary = { kind: 'grpo', hash: stageHash(spec), backend: backend.name, backendDetail: backend.detail, seconds: (Date.now() - t0) / 1000, steps: r.steps, eval: strip(r.eval), last: r.last };
      policy.dispose();
    }
    run.finish(summary);
    return summary;
  } finally {
    release();
  }
}

function strip(e: Evaluation | undefined): Omit<Evaluation, 'results'> | null {
  if (!e) return null;
  const { results: _drop, ...rest } = e;
  void _drop;
  return rest;
}

/** Run a stage and everything upstream of it, in order, in this process. */
export async function runLineage(spec: StageSpec, opts: { quiet?: boolean; backend?: string } = {}): Promise<StageSummary> {
  let last: StageSummary | null = null;
  for (const s of lineage(spec)) last = await runStage(s, opts);
  return last!;
}

/**
 * Greedy evaluation of a finished stage on a split, cached in the stage directory
 * (`eval/<split>-<count>.json`, with per-sample results).
 */
export function evalFile(spec: StageSpec, ref: DataRef): string {
  return join(stageDir(spec), 'eval', `${ref.split}-${ref.count}.json`);
}

export async function evaluateStage(spec: StageSpec, ref: DataRef): Promise<Evaluation> {
  const file = evalFile(spec, ref);
  if (existsSync(file)) return readJson<Evaluation>(file);
  const { ops } = await selectBackend(process.env.RSG_BACKEND ?? 'auto');
  const policy = await loadStagePolicy(spec, ops);
  try {
    const ev = evaluatePolicy(policy, samples(ref));
    writeJsonAtomic(file, ev);
    return ev;
  } finally {
    policy.dispose();
  }
}

/**
 * Sampled evaluation of a finished stage (G rollouts per sample at a temperature; see
 * `samplingEvaluation`), cached as `eval/<split>-<count>-sampled-g<G>-t<T>.json`. The sampling
 * seed is fixed, so the numbers are reproducible.
 */
export async function samplingEvaluateStage(spec: StageSpec, ref: DataRef, o: { group: number; temperature: number; maxLen?: number }): Promise<SamplingEvaluation> {
  const file = join(stageDir(spec), 'eval', `${ref.split}-${ref.count}-sampled-g${o.group}-t${o.temperature}.json`);
  if (existsSync(file)) {
    const cached = readJson<SamplingEvaluation>(file);
    if (Array.isArray(cached.rewards)) return cached; // else written before rewards were kept: redo
  }
  const { ops } = await selectBackend(process.env.RSG_BACKEND ?? 'auto');
  const policy = await loadStagePolicy(spec, ops);
  try {
    const ev = samplingEvaluation(policy, samples(ref), { ...o, seed: 0 });
    writeJsonAtomic(file, ev);
    return ev;
  } finally {
    policy.dispose();
  }
}

/** Link `runs/<experiment>/<runId>` to a stage's store directory (relative symlink). */
export function linkRun(experiment: string, runId: string, spec: StageSpec): string {
  const link = join(runsDir(), experiment, runId);
  mkdirSync(dirname(link), { recursive: true });
  const target = relative(dirname(link), stageDir(spec));
  try {
    if (lstatSync(link)) unlinkSync(link);
  } catch { /* no link yet */ }
  symlinkSync(target, link);
  return link;
}

export { DEFAULT_SFT, DEFAULT_GRPO };
