/**
 * The training pipeline as data: each stage — base pretraining, SFT (answer-only or CoT), GRPO —
 * is a fully resolved JSON spec (every field present, defaults applied once, validated), and its
 * hash names its directory in a content-addressed store (`<runsDir>/_store/<kind>-<hash>/`).
 * Upstream specs are part of a spec, so changing anything upstream changes every hash
 * downstream. Consequences:
 * - a base model is built once per config hash and reused by every experiment;
 * - a run shared by several experiments (the GRPO baseline of Tables 1, 3, 4, 5) trains once;
 * - a stage with `summary.json` is done; one with a checkpoint resumes; a lock keeps two
 *   processes from training the same stage at once (lib/lock.ts).
 *
 * The hash also covers TRAINING_CODE_VERSION and the data generator's version: a change to the
 * training arithmetic (or to the data) bumps one of them, and every run made before becomes
 * stale instead of being silently reused (`npm run experiment -- --list-stale` lists them;
 * test/pipeline.test.ts fails when the arithmetic changes and the version does not).
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ensureWritableDir, gitCommit, hashConfig, readJson, runsDir, writeJsonAtomic } from './files';
import { Policy } from './model/policy';
import { type PolicyArch, resolveArch } from './model/network';
import { RunDir } from './runs';
import { trainSft, type SftConfig, DEFAULT_SFT, validateSft } from './train-sft';
import { trainGrpo, type GrpoConfig, DEFAULT_GRPO, validateGrpo } from './train-grpo';
import { evaluatePolicy, samplingEvaluation, type Evaluation, type SamplingEvaluation } from './evaluate';
import { GENERATOR_VERSION, lazySplit, splitSpec } from './data/splits';
import { cachedSplit } from './data/split-cache';
import { type RealDataset, REAL_DATASETS, loadDataset } from './data/datasets';
import { fitToPolicy } from './data/fit';
import { isGroundingSample, type TaskSample } from './data/samples';
import { selectBackend } from './backend';
import type { Ops } from './model/ops';
import type { Metrics } from './runs';
import { STALE_AFTER_MS, acquireLock, describeOwner, isStale as lockIsStale, readOwner } from './lock';
import { checkSelection, type Selection } from './training';

/**
 * The version of the code that turns a stage spec into its runs. Bump it with any change that
 * alters what a stage writes (its arithmetic, its sampling, its logged metrics): runs made by an
 * older version then no longer match any hash. test/pipeline.test.ts holds a golden
 * metrics.jsonl digest of a tiny run per version and fails when the two disagree.
 */
export const TRAINING_CODE_VERSION = 8;

/**
 * A data split: the mini world's (no `dataset`), or a real benchmark's under `root`, letterboxed
 * to the policy's input (lib/data/fit.ts). `count` is the number of samples (the first `count`
 * of a real split; fewer when it has fewer).
 */
export type DataRef = { split: string; count: number; dataset?: RealDataset; root?: string };

/** Base pretraining: SFT from a fresh initialisation through curriculum phases (each used until `until` × steps). */
export type BaseSpec = {
  kind: 'base';
  arch: PolicyArch;
  seed: number;
  sft: SftConfig;
  curriculum: { until: number; data: DataRef }[];
  eval: DataRef;
};
export type SftSpec = {
  kind: 'sft';
  from: BaseSpec;
  sft: SftConfig;
  data: DataRef;
  eval: DataRef;
  seed: number;
  /**
   * A longer completion budget than the base's, given before SFT: the base's decoder positions,
   * then fresh ones (Policy.withCompletionBudget). Absent: the base's budget (and the same hash as
   * before the field existed).
   */
  maxCompletionLen?: number;
  /** model selection on `eval` with early stopping (lib/training.ts); absent: the last step's model, as before */
  select?: Selection;
};
export type GrpoSpec = {
  kind: 'grpo';
  from: BaseSpec | SftSpec;
  grpo: GrpoConfig;
  data: DataRef;
  eval: DataRef;
  seed: number;
  /** model selection on `eval` with early stopping (lib/training.ts); absent: the last step's model, as before */
  select?: Selection;
};
export type StageSpec = BaseSpec | SftSpec | GrpoSpec;

function checkData(ref: DataRef, where: string): DataRef {
  if (ref.dataset === undefined)
    splitSpec(ref.split); // throws on an unknown split, listing the known ones
  else {
    if (!(REAL_DATASETS as readonly string[]).includes(ref.dataset))
      throw new Error(`${where}.dataset = ${JSON.stringify(ref.dataset)}: must be one of ${REAL_DATASETS.join(', ')}`);
    if (typeof ref.root !== 'string' || !isAbsolute(ref.root))
      throw new Error(
        `${where}.root = ${JSON.stringify(ref.root)}: a real dataset needs the absolute path of its folder`,
      );
  }
  if (!Number.isInteger(ref.count) || ref.count < 1)
    throw new Error(`${where}.count = ${ref.count}: must be an integer ≥ 1`);
  return ref;
}

function checkSeed(seed: number, where: string): void {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`${where}.seed = ${seed}: must be an integer ≥ 0`);
}

/**
 * Validate every section of a spec (and of its upstream specs); errors name the stage kind and
 * the field. Returns the spec itself: specs are built resolved (see experiments/specs.ts), this
 * only refuses ones that are not.
 */
export function resolveSpec<S extends StageSpec>(spec: S): S {
  const where = spec.kind;
  checkSeed(spec.seed, where);
  checkData(spec.eval, `${where}.eval`);
  if (spec.kind === 'base') {
    resolveArch(spec.arch, 'base.arch');
    validateSft(spec.sft, 'base.sft');
    if (!spec.curriculum.length) throw new Error('base.curriculum: needs at least one phase');
    spec.curriculum.forEach((p, i) => checkData(p.data, `base.curriculum[${i}].data`));
    if (spec.curriculum[spec.curriculum.length - 1].until !== 1)
      throw new Error('base.curriculum: the last phase must run until 1');
    return spec;
  }
  checkData(spec.data, `${where}.data`);
  if (spec.select !== undefined) checkSelection(spec.select, `${where}.select`);
  resolveSpec(spec.from);
  if (spec.kind === 'sft') {
    validateSft(spec.sft, 'sft');
    const budget = spec.maxCompletionLen,
      base = spec.from.arch.maxCompletionLen;
    if (budget !== undefined && (!Number.isInteger(budget) || budget < base))
      throw new Error(`sft.maxCompletionLen = ${budget}: must be an integer ≥ the base's budget, ${base}`);
  } else validateGrpo(spec.grpo, 'grpo');
  return spec;
}

export function stageHash(spec: StageSpec): string {
  return hashConfig({ spec: resolveSpec(spec), code: TRAINING_CODE_VERSION, data: GENERATOR_VERSION }, 12);
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

/** A stage is done when its summary.json exists and reads (a damaged one makes the stage finish again). */
export function isDone(spec: StageSpec): boolean {
  return readCached<StageSummary>(join(stageDir(spec), 'summary.json')) !== null;
}

export type StageSummary = {
  kind: StageSpec['kind'];
  hash: string;
  backend: string;
  /** what ran, e.g. the OpenBLAS build and thread count */
  backendDetail?: string;
  seconds: number;
  steps: number;
  /** the commit of the code that trained the stage (`-dirty` with uncommitted changes) */
  commit?: string;
  /** the final evaluation on the spec's eval set (of the selected weights, with selection) */
  eval: Omit<Evaluation, 'results'> | null;
  last?: Metrics;
  /** with selection: the step whose weights are the stage's model, its eval Acc@0.5 and the steps trained */
  selected?: { step: number; acc50: number; trained: number };
};

/** The summary of a finished stage, or null when it has not finished. */
export function stageSummary(spec: StageSpec): StageSummary | null {
  return readCached<StageSummary>(join(stageDir(spec), 'summary.json'));
}

/** The record each stage directory keeps of what it is (config.json). */
export type StageRecord = { spec: StageSpec; hash: string; code: number; data: number };

// ── Running a stage ──────────────────────────────────────────────────────────────────────

/** The commits of the code that trained these stages and everything upstream of them (from their summaries). */
export function trainedAt(specs: StageSpec[]): string[] {
  const commits = new Set<string>();
  for (const s of specs.flatMap(lineage)) {
    const sum = readCached<StageSummary>(join(stageDir(s), 'summary.json'));
    commits.add(sum?.commit ?? 'unrecorded');
  }
  return [...commits].sort();
}

/** The policy at the end of a finished stage. */
export async function loadStagePolicy(spec: StageSpec, ops: Ops): Promise<Policy> {
  if (!isDone(spec)) throw new Error(`stage ${stageName(spec)} is not finished`);
  return Policy.load(join(stageDir(spec), 'checkpoint'), ops);
}

/** The base stage at the root of a lineage (its arch fixes the input size). */
export function baseOf(spec: StageSpec): BaseSpec {
  return spec.kind === 'base' ? spec : baseOf(spec.from);
}

const splitCache = new Map<string, { samples: Promise<TaskSample[]>; count: number }>();
/**
 * The samples of a data ref, real images letterboxed to `imageSize` (cached per process): grounding
 * queries, or region queries for a region split (RemoteReasoner).
 */
function samples(ref: DataRef, imageSize: number, log?: (m: string) => void): Promise<TaskSample[]> {
  const key = JSON.stringify([ref.dataset ?? 'synthetic', ref.root ?? '', ref.split, ref.count, imageSize]);
  const hit = splitCache.get(key);
  if (hit) {
    // most recently used last (trimSplitCache drops from the front)
    splitCache.delete(key);
    splitCache.set(key, hit);
    return hit.samples;
  }
  const s =
    ref.dataset === undefined
      ? Promise.resolve(cachedSplit(ref.split, ref.count, log))
      : loadDataset({ dataset: ref.dataset, root: ref.root, split: ref.split, count: ref.count }).then((raw) => {
          log?.(`${ref.dataset} ${ref.split}: letterboxing ${raw.length} images to ${imageSize}×${imageSize}`);
          return fitToPolicy(raw, imageSize);
        });
  s.catch(() => splitCache.delete(key));
  splitCache.set(key, { samples: s, count: ref.count });
  return s;
}

/**
 * Drop the least recently used splits of this process's cache until it holds at most `maxSamples`
 * samples (a long-lived worker runs many stages; 50 000 samples of 64×64 pixels are ~600 MB).
 */
export function trimSplitCache(maxSamples = 50_000): void {
  let total = [...splitCache.values()].reduce((a, e) => a + e.count, 0);
  for (const [key, e] of splitCache) {
    if (total <= maxSamples) break;
    splitCache.delete(key);
    total -= e.count;
  }
}

/**
 * Train one stage in this process (its upstream stages must be done), unless it is done already.
 * `quiet` silences the progress bar (workers report through metrics.jsonl instead).
 */
export async function runStage(
  spec: StageSpec,
  opts: { quiet?: boolean; backend?: string; log?: (m: string) => void } = {},
): Promise<StageSummary> {
  const dir = stageDir(spec);
  if (isDone(spec)) return readJson<StageSummary>(join(dir, 'summary.json'));
  if (spec.kind !== 'base' && !isDone(spec.from))
    throw new Error(`stage ${stageName(spec)} needs ${stageName(spec.from)} first`);
  const log = opts.log ?? ((m: string) => console.error(m));
  ensureWritableDir(storeDir(), 'runs directory', 'RSG_RUNS_DIR');
  const release = await acquireLock(join(dir, 'lock'), {
    onWait: (o) => log(`${stageName(spec)}: waiting for the lock held by ${describeOwner(o)}`),
  });
  try {
    if (isDone(spec)) return readJson<StageSummary>(join(dir, 'summary.json')); // another process finished it meanwhile
    const backend = await selectBackend(opts.backend ?? process.env.RSG_BACKEND ?? 'auto');
    const run = new RunDir(dir);
    const record: StageRecord = { spec, hash: stageHash(spec), code: TRAINING_CODE_VERSION, data: GENERATOR_VERSION };
    run.writeConfig(record);
    const t0 = Date.now();
    const label = stageName(spec);
    const size = baseOf(spec).arch.imageSize;
    let summary: StageSummary;
    const done = (
      steps: number,
      ev: Evaluation | undefined,
      last?: Metrics,
      selected?: StageSummary['selected'],
    ): StageSummary => ({
      kind: spec.kind,
      hash: record.hash,
      backend: backend.name,
      backendDetail: backend.detail,
      seconds: (Date.now() - t0) / 1000,
      commit: gitCommit(),
      steps,
      eval: strip(ev),
      ...(last ? { last } : {}),
      ...(selected ? { selected } : {}),
    });
    if (spec.kind === 'base' || spec.kind === 'sft') {
      const policy =
        spec.kind === 'base'
          ? Policy.create(spec.arch, spec.seed, backend.ops)
          : (await loadStagePolicy(spec.from, backend.ops)).withCompletionBudget(
              spec.maxCompletionLen ?? spec.from.arch.maxCompletionLen,
              spec.seed,
            );
      const train =
        spec.kind === 'base'
          ? await Promise.all(
              spec.curriculum.map(async (p) => ({ until: p.until, samples: await samples(p.data, size, log) })),
            )
          : await samples(spec.data, size, log);
      const r = await trainSft({
        policy,
        run,
        train,
        evalSet: await samples(spec.eval, size, log),
        config: spec.sft,
        seed: spec.seed,
        label,
        quiet: opts.quiet,
        select: spec.kind === 'sft' ? spec.select : undefined,
      });
      summary = done(r.steps, r.eval, undefined, r.selected);
      policy.dispose();
    } else {
      const policy = await loadStagePolicy(spec.from, backend.ops);
      const r = await trainGrpo({
        policy,
        run,
        // a synthetic split generates only the queries the stage draws
        train:
          spec.data.dataset === undefined
            ? lazySplit(spec.data.split, spec.data.count)
            : await samples(spec.data, size, log),
        evalSet: await samples(spec.eval, size, log),
        config: spec.grpo,
        seed: spec.seed,
        label,
        quiet: opts.quiet,
        select: spec.select,
      });
      summary = done(r.steps, r.eval, r.last, r.selected);
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
export async function runLineage(
  spec: StageSpec,
  opts: { quiet?: boolean; backend?: string; log?: (m: string) => void } = {},
): Promise<StageSummary> {
  let last: StageSummary | null = null;
  for (const s of lineage(spec)) last = await runStage(s, opts);
  return last!;
}

// ── Evaluations of finished stages ───────────────────────────────────────────────────────

/** `<split>-<count>`, prefixed by a real dataset's name. */
function refKey(ref: DataRef): string {
  return `${ref.dataset ? `${ref.dataset}-` : ''}${ref.split}-${ref.count}`;
}

/** Greedy evaluation cache of a stage on a split: `eval/[<dataset>-]<split>-<count>.json`, with per-sample results. */
export function evalFile(spec: StageSpec, ref: DataRef): string {
  return join(stageDir(spec), 'eval', `${refKey(ref)}.json`);
}

/**
 * A cached evaluation that is whole: the metrics are finite numbers and there is one result per
 * sample (a real split may hold fewer than `count`: then at least one, and no more than count).
 */
function usableEvaluation(e: Partial<Evaluation> | null, ref: DataRef): e is Evaluation {
  const n = ref.count;
  if (!e || typeof e !== 'object') return false;
  const finite = (['acc50', 'acc70', 'miou', 'ciou', 'formatRate'] as const).every(
    (k) => typeof e[k] === 'number' && Number.isFinite(e[k]),
  );
  const whole =
    Array.isArray(e.results) && (ref.dataset ? e.results.length >= 1 && e.results.length <= n : e.results.length === n);
  return finite && whole;
}

function readCached<T>(file: string): T | null {
  try {
    return readJson<T>(file);
  } catch {
    return null;
  }
}

/**
 * Greedy evaluation of a finished stage on a split, cached in the stage directory (recomputed when the cache is
 * damaged).
 */
export async function evaluateStage(spec: StageSpec, ref: DataRef): Promise<Evaluation> {
  const file = evalFile(spec, ref);
  if (existsSync(file)) {
    const cached = readCached<Evaluation>(file);
    if (usableEvaluation(cached, ref)) return cached;
    console.error(`${file}: damaged evaluation cache (not whole JSON, or metrics not finite); recomputing`);
  }
  const { ops } = await selectBackend(process.env.RSG_BACKEND ?? 'auto');
  const policy = await loadStagePolicy(spec, ops);
  try {
    const ev = evaluatePolicy(policy, await samples(ref, baseOf(spec).arch.imageSize));
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
export async function samplingEvaluateStage(
  spec: StageSpec,
  ref: DataRef,
  o: { group: number; temperature: number; maxLen?: number },
): Promise<SamplingEvaluation> {
  const file = join(stageDir(spec), 'eval', `${refKey(ref)}-sampled-g${o.group}-t${o.temperature}.json`);
  const cached = existsSync(file) ? readCached<SamplingEvaluation>(file) : null;
  const n = cached?.rewards?.length ?? 0;
  if (
    cached &&
    Array.isArray(cached.rewards) &&
    (ref.dataset ? n >= 1 && n <= ref.count : n === ref.count) &&
    Number.isFinite(cached.passAtG)
  )
    return cached;
  const { ops } = await selectBackend(process.env.RSG_BACKEND ?? 'auto');
  const policy = await loadStagePolicy(spec, ops);
  try {
    const set = await samples(ref, baseOf(spec).arch.imageSize);
    const grounding = set.filter(isGroundingSample);
    if (grounding.length !== set.length)
      throw new Error(`sampling evaluation: ${ref.split} holds other tasks than grounding (not supported)`);
    const ev = samplingEvaluation(policy, grounding, { ...o, seed: 0 });
    writeJsonAtomic(file, ev);
    return ev;
  } finally {
    policy.dispose();
  }
}

// ── Links and staleness ──────────────────────────────────────────────────────────────────

/** Link `runs/<experiment>/<runId>` to a stage's store directory (relative symlink). */
export function linkRun(experiment: string, runId: string, spec: StageSpec): string {
  const link = join(runsDir(), experiment, runId);
  mkdirSync(dirname(link), { recursive: true });
  const target = relative(dirname(link), stageDir(spec));
  try {
    if (lstatSync(link)) unlinkSync(link);
  } catch {
    /* no link yet */
  }
  symlinkSync(target, link);
  return link;
}

export type StaleStage = { dir: string; kind: string; reason: string; linkedFrom: string[] };

/**
 * Stages in the store that the current code would not reuse: made by another training-code or
 * data version, or whose recorded spec no longer resolves to their own hash (a config field was
 * added, removed or given a new default). With the experiment links that point at each.
 */
export function listStale(): StaleStage[] {
  const store = storeDir();
  if (!existsSync(store)) return [];
  const links = new Map<string, string[]>();
  for (const exp of readdirSync(runsDir())) {
    if (exp.startsWith('_')) continue; // the stage store and the split cache
    const d = join(runsDir(), exp);
    let entries: string[] = [];
    try {
      entries = readdirSync(d);
    } catch {
      continue;
    }
    for (const e of entries) {
      try {
        const target = resolve(d, readlinkSync(join(d, e)));
        links.set(target, [...(links.get(target) ?? []), `${exp}/${e}`]);
      } catch {
        /* not a link */
      }
    }
  }
  const out: StaleStage[] = [];
  for (const name of readdirSync(store).sort()) {
    const dir = join(store, name);
    const rec = readCached<Partial<StageRecord> & { kind?: string; hash?: string }>(join(dir, 'config.json'));
    let reason = '';
    if (!rec) reason = 'no readable config.json';
    else if (!rec.spec) reason = 'made before stage records named their code version';
    else if (rec.code !== TRAINING_CODE_VERSION)
      reason = `training code version ${rec.code ?? '?'} (now ${TRAINING_CODE_VERSION})`;
    else if (rec.data !== GENERATOR_VERSION)
      reason = `data generator version ${rec.data ?? '?'} (now ${GENERATOR_VERSION})`;
    else {
      try {
        const h = stageHash(rec.spec);
        if (`${rec.spec.kind}-${h}` !== name) reason = `its config now hashes to ${h}`;
      } catch (e) {
        reason = `its config no longer validates: ${(e as Error).message.split('\n').slice(0, 2).join(' ')}`;
      }
    }
    if (reason) out.push({ dir, kind: name.split('-')[0], reason, linkedFrom: links.get(resolve(dir)) ?? [] });
  }
  return out;
}

/** Bytes under `path` (files and directories, not following links). */
function diskBytes(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((a, e) => a + diskBytes(join(path, e)), 0);
}

export type DeletedStale = { deleted: (StaleStage & { bytes: number })[]; kept: (StaleStage & { why: string })[] };

/**
 * Delete the stale stages (`listStale`) and the experiment links that point at them. A stage whose lock a
 * live process holds is kept: an older checkout may be training it. Each stage first leaves the store in
 * one rename (to `.deleting-<name>`, which a later call lists and deletes if this one is interrupted), so
 * the store never holds half a stage under its own name.
 */
export function deleteStale(stale: StaleStage[] = listStale()): DeletedStale {
  const out: DeletedStale = { deleted: [], kept: [] };
  for (const s of stale) {
    const lock = join(s.dir, 'lock');
    if (existsSync(lock)) {
      const owner = readOwner(lock);
      if (!lockIsStale(lock, owner, STALE_AFTER_MS)) {
        out.kept.push({ ...s, why: `locked by ${describeOwner(owner)}` });
        continue;
      }
    }
    const bytes = diskBytes(s.dir);
    for (const l of s.linkedFrom) rmSync(join(runsDir(), l), { force: true });
    const name = s.dir.split('/').pop()!;
    const gone = name.startsWith('.deleting-') ? s.dir : join(dirname(s.dir), `.deleting-${name}`);
    if (gone !== s.dir) renameSync(s.dir, gone);
    rmSync(gone, { recursive: true, force: true });
    out.deleted.push({ ...s, bytes });
  }
  return out;
}

export { DEFAULT_SFT, DEFAULT_GRPO };
