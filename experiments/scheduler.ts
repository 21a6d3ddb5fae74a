/**
 * The stage graph and who runs it. A task is a stage to train or a finished stage to evaluate on
 * a split; each depends on the stages upstream of it. An `Executor` runs (or submits) every task
 * that is not done, parents first. The local executor here runs them in worker processes, `jobs`
 * at a time, with a status line; a cluster executor plugs in through the same interface.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { type DataRef, type StageSpec, evalFile, isDone, lineage, stageDir, stageName } from '../lib/pipeline';
import { PROJECT_ROOT, readJson, writeJsonAtomic } from '../lib/files';
import { DEFAULT_REGION_REWARD } from '../lib/tasks';
import { fmtDuration } from '../lib/progress';
import { median, stagePricer } from './cost';

export type Task = { kind: 'train'; spec: StageSpec } | { kind: 'eval'; spec: StageSpec; ref: DataRef };

export function taskId(t: Task): string {
  return t.kind === 'train' ? stageName(t.spec) : `eval-${stageName(t.spec)}-${t.ref.split}-${t.ref.count}`;
}

export function taskDone(t: Task): boolean {
  return t.kind === 'train' ? isDone(t.spec) : existsSync(evalFile(t.spec, t.ref));
}

/** The task each one waits for: a stage's parent stage; an evaluation's stage. */
export function taskParent(t: Task): Task | null {
  if (t.kind === 'eval') return { kind: 'train', spec: t.spec };
  return t.spec.kind === 'base' ? null : { kind: 'train', spec: t.spec.from };
}

/** Optimizer steps of a task (for progress); evaluations count as none. */
export function taskSteps(t: Task): number {
  if (t.kind === 'eval') return 0;
  return t.spec.kind === 'grpo' ? t.spec.grpo.steps : t.spec.sft.steps;
}

/** Where a task's worker writes its output. */
export function taskLog(t: Task): string {
  return join(stageDir(t.spec), t.kind === 'train' ? 'worker.log' : `eval-${t.ref.split}-${t.ref.count}.log`);
}

/** Every task needed for `tasks` (their upstream stages included), each once, parents first. */
export function closeGraph(tasks: Task[]): Task[] {
  const out = new Map<string, Task>();
  const add = (t: Task) => {
    const p = taskParent(t);
    if (p) add(p);
    if (!out.has(taskId(t))) out.set(taskId(t), t);
  };
  tasks.forEach(add);
  return [...out.values()];
}

export function trainTasks(specs: StageSpec[]): Task[] {
  return closeGraph(specs.flatMap(lineage).map((spec) => ({ kind: 'train' as const, spec })));
}

export type RunOptions = { jobs: number; backend?: string; log: (s: string) => void; executor?: Executor };

export interface Executor {
  readonly name: string;
  /** Run every task of the (closed) graph that is not done, parents first; throws if any fails. */
  run(tasks: Task[], opts: RunOptions): Promise<void>;
}

export function defaultJobs(): number {
  return Math.max(1, Number(process.env.RSG_JOBS) || cpus().length);
}

/**
 * OpenBLAS threads of a task's worker: $RSG_BLAS_THREADS, else 1 — one worker per core. A fixed
 * rule, not one that looks at what else is running: sgemm results depend on the thread count in
 * the last bits, and a stage must train the same way whatever the schedule (same seed → same
 * metrics.jsonl).
 */
export function blasThreads(): number {
  return Number(process.env.RSG_BLAS_THREADS) || 1;
}

/** The last step (and reward or loss) a training stage logged, for the status line. */
export function progressOf(s: StageSpec): { step: number; value?: number } {
  const f = join(stageDir(s), 'metrics.jsonl');
  if (!existsSync(f)) return { step: 0 };
  const lines = readFileSync(f, 'utf8').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    let m: Record<string, number>;
    try {
      m = JSON.parse(lines[i]) as Record<string, number>;
    } catch {
      continue;
    } // blank or torn line
    if (typeof m.step === 'number' && ('reward/total' in m || 'sft/loss' in m))
      return { step: m.step, value: m['reward/total'] ?? m['sft/loss'] };
  }
  return { step: 0 };
}

/**
 * `progressOf`, once the stage's worker has written to its log since `since` (ms); before that the
 * log may still hold an interrupted run's later steps, and the stage is at `from`.
 */
export function progressSince(s: StageSpec, since: number, from: number): { step: number; value?: number } {
  const f = join(stageDir(s), 'metrics.jsonl');
  try {
    if (statSync(f).mtimeMs < since) return { step: from };
  } catch {
    return { step: from };
  }
  return progressOf(s);
}

/** The step a stage resumes from: its checkpoint's (0 without a readable one). */
export function resumeStep(s: StageSpec): number {
  try {
    const state = readJson<{ step?: unknown }>(join(stageDir(s), 'checkpoint', 'state.json'));
    return typeof state.step === 'number' && state.step >= 0 ? state.step : 0;
  } catch {
    return 0;
  }
}

/**
 * Seconds per optimizer step of each training task, from its stage's price here (experiments/cost.ts,
 * as `--plan` prices it; `null` when not timed): an unpriced task weighs the median of the priced
 * ones, and when none is priced every step weighs 1 (progress by steps).
 */
export function stepWeights(perStep: (number | null)[]): number[] {
  const known = perStep.filter((x): x is number => x !== null && Number.isFinite(x) && x > 0);
  const fill = known.length ? median(known) : 1;
  return perStep.map((x) => (x !== null && Number.isFinite(x) && x > 0 ? x : fill));
}

/** A training task's share of a run's work: steps [from, steps) at `perStep` each; `step` is where it is now. */
export type TaskWork = { steps: number; from: number; perStep: number; step: number };

/**
 * Work done and in all (in priced seconds) of a run's training tasks, counting only the steps
 * this run trains: a resumed stage from its checkpoint, a step reported beyond the stage's end as
 * its end, one before its start (a log not yet truncated to the checkpoint) as its start.
 */
export function workDone(ws: readonly TaskWork[]): { done: number; total: number } {
  let done = 0,
    total = 0;
  for (const w of ws) {
    const from = Math.min(Math.max(0, w.from), w.steps);
    total += (w.steps - from) * w.perStep;
    done += (Math.min(Math.max(w.step, from), w.steps) - from) * w.perStep;
  }
  return { done, total };
}

/**
 * A run's progress for its status lines, in priced seconds rather than steps (a step of GRPO from
 * CoT-SFT costs ~2× one of answer-only SFT) and counting only what this run trains (a resumed stage
 * from its checkpoint): each training task weighs its steps by `stepWeights` of its stage's price
 * here (experiments/cost.ts).
 */
export class RunProgress {
  private readonly work = new Map<string, TaskWork>();
  private readonly training: Task[];

  constructor(tasks: readonly Task[], price = stagePricer()) {
    this.training = tasks.filter((t) => t.kind === 'train');
    for (const t of this.training) {
      const from = resumeStep(t.spec);
      this.work.set(taskId(t), { steps: taskSteps(t), from, perStep: 1, step: from });
    }
    this.reprice(price);
  }

  /**
   * Weigh every training task still in the run by its stage's price (again). The executors call it
   * each time a stage finishes, so a run that starts with nothing timed — a fresh runs directory,
   * progress by steps, when a Geo-CoT GRPO step costs three times an SFT one — learns its rates
   * from its own finished stages and its ETA follows.
   */
  reprice(price = stagePricer()): void {
    const live = this.training.filter((t) => this.work.has(taskId(t)));
    const weights = stepWeights(
      live.map((t) => {
        const p = price(t.spec).seconds;
        return p === null ? null : p / taskSteps(t);
      }),
    );
    live.forEach((t, i) => (this.work.get(taskId(t))!.perStep = weights[i]));
  }

  /** A training task finished. */
  finished(t: Task): void {
    const w = this.work.get(taskId(t));
    if (w) w.step = w.steps;
  }

  /** A task failed, or never ran because its parent failed: its steps leave the total (a run that
   * ends with failures ends at 100% of what could train, not short of it for good). */
  failed(t: Task): void {
    this.work.delete(taskId(t));
  }

  /** Where a training task is now, by its log written since `since` (ms; see progressSince). */
  observe(t: Task, since: number): { step: number; value?: number } {
    const w = this.work.get(taskId(t));
    const p = t.kind === 'train' ? progressSince(t.spec, since, w?.from ?? 0) : { step: 0 };
    if (w) w.step = p.step;
    return p;
  }

  /** Percent done and the seconds left at the rate so far, `elapsed` seconds into the run. */
  status(elapsed: number): { pct: number; eta: number } {
    const { done, total } = workDone([...this.work.values()]);
    return {
      pct: total ? Math.round((100 * done) / total) : 100,
      eta: done > 0 ? (elapsed / done) * (total - done) : NaN,
    };
  }
}

/** Write the task file a worker reads (`experiments/worker.ts <file>`) next to its stage; returns its path. */
export function writeTaskFile(t: Task): string {
  const dir = stageDir(t.spec);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${t.kind === 'train' ? 'task' : `task-eval-${t.ref.split}-${t.ref.count}`}.json`);
  writeJsonAtomic(file, t);
  return file;
}

/** What the executor sends a serving worker, and what it answers (experiments/worker.ts --serve). */
export type ServeRequest = { tasks: string[]; log: string } | { exit: true };
export type ServeReply = { done: number; recycle: boolean };

/**
 * Worker processes that stay up between tasks (`experiments/worker.ts --serve`): `run` hands a task
 * group to an idle worker — starting one when none is idle — and resolves with its exit code once
 * the worker reports back, or with the code it died with. The worker appends its output to the
 * first task's log file as it comes (nothing is lost if this process dies) and stops when this
 * process goes away (IPC disconnect). A worker's start (TypeScript, tfjs, the native addon) costs
 * ~2.5 s and its first steps warm up the JIT, as much as evaluating a stage on 1000 samples; a
 * pool pays that once per worker rather than once per stage. A worker that asks to be recycled,
 * or dies, is replaced by the next `run`; `close` stops them all. One pool per executor run:
 * `jobs` workers at most, since the executor never has more tasks in flight.
 */
export class WorkerPool {
  private readonly idle: ChildProcess[] = [];
  private readonly live = new Set<ChildProcess>();
  /** the log of each worker's current (or last) task group, for what reaches its stdout/stderr */
  private readonly logOf = new Map<ChildProcess, string>();
  constructor(private readonly opts: { backend?: string } = {}) {}

  /** Worker processes started so far (for tests and the status line). */
  started = 0;

  run(tasks: Task[]): Promise<number> {
    const files = tasks.map(writeTaskFile);
    const log = taskLog(tasks[0]);
    appendFileSync(log, ''); // the log exists from the start, whatever the worker gets to write
    const child = this.idle.pop() ?? this.spawn();
    this.logOf.set(child, log);
    return new Promise((resolve) => {
      const finish = (code: number, keep: boolean) => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (keep) this.idle.push(child);
        resolve(code);
      };
      const onMessage = (m: ServeReply) => {
        if (m && typeof m.done === 'number') finish(m.done, !m.recycle);
      };
      const onExit = (code: number | null) => finish(code ?? 1, false);
      child.on('message', onMessage);
      child.on('exit', onExit);
      try {
        child.send({ tasks: files, log } satisfies ServeRequest);
      } catch {
        finish(1, false);
      }
    });
  }

  private spawn(): ChildProcess {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'experiments', 'worker.ts'), '--serve'],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          RSG_BLAS_THREADS: String(blasThreads()),
          ...(this.opts.backend ? { RSG_BACKEND: this.opts.backend } : {}),
        },
        // the worker appends its console output to each task's log itself; what bypasses that (a
        // fatal V8 error such as running out of heap, a native library's prints) goes to the log of
        // the task it was running
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const stray = (chunk: Buffer) => {
      const log = this.logOf.get(child);
      if (log) appendFileSync(log, chunk);
    };
    child.stdout?.on('data', stray);
    child.stderr?.on('data', stray);
    this.started++;
    this.live.add(child);
    child.on('error', () => undefined); // a failed start shows as an exit
    child.on('close', () => this.logOf.delete(child));
    child.on('exit', () => {
      this.live.delete(child);
      const i = this.idle.indexOf(child);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return child;
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.live].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            try {
              child.send({ exit: true } satisfies ServeRequest);
            } catch {
              child.kill();
            }
          }),
      ),
    );
  }
}

/** At most this many evaluations share one worker process. */
export const EVAL_GROUP_MAX = 16;

/**
 * Runs tasks on this machine, `jobs` at a time in a pool of worker processes that stay up between
 * tasks (WorkerPool): a training stage per task; evaluations that are ready in groups of up to
 * EVAL_GROUP_MAX (split evenly over the jobs, so both cores stay busy). `start` is injectable for
 * tests.
 */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  /** `start` runs a task group and resolves with its exit code; by default a WorkerPool's `run`. */
  constructor(
    private readonly start?: (t: Task[], opts: RunOptions) => Promise<number>,
    private readonly statusEveryMs = 10_000,
  ) {}

  async run(all: Task[], opts: RunOptions): Promise<void> {
    if (this.start) return this.schedule(all, opts, this.start);
    const pool = new WorkerPool(opts);
    try {
      await this.schedule(all, opts, (t) => pool.run(t));
    } finally {
      await pool.close();
    }
  }

  private async schedule(
    all: Task[],
    opts: RunOptions,
    start: (t: Task[], opts: RunOptions) => Promise<number>,
  ): Promise<void> {
    const tasks = closeGraph(all);
    const pending = tasks.filter((t) => !taskDone(t));
    if (pending.length === 0) return;
    const stepsTotal = pending.reduce((a, t) => a + taskSteps(t), 0);
    const nTrain = pending.filter((t) => t.kind === 'train').length,
      nEval = pending.length - nTrain;
    const progress = new RunProgress(pending);
    const startedAt = new Map<string, number>();
    opts.log(
      `running ${nTrain} training stage(s) (${stepsTotal} optimizer steps) and ${nEval} evaluation(s) with ` +
        `${opts.jobs} job(s); finished ones are reused`,
    );
    const running = new Map<string, { task: Task; group: Task[]; done: Promise<number> }>();
    const failed = new Set<string>();
    const t0 = Date.now();
    const parentFailed = (t: Task): boolean => {
      const p = taskParent(t);
      return !!p && (failed.has(taskId(p)) || parentFailed(p));
    };
    const ready = (t: Task) => {
      const p = taskParent(t);
      return !p || taskDone(p);
    };
    let lastLine = 0;
    while (pending.length || running.size) {
      for (let i = 0; i < pending.length && running.size < opts.jobs; i++) {
        const t = pending[i];
        if (parentFailed(t)) {
          failed.add(taskId(t));
          progress.failed(t);
          pending.splice(i--, 1);
          continue;
        }
        if (!ready(t)) continue;
        pending.splice(i--, 1);
        const group = [t];
        if (t.kind === 'eval') {
          const more = pending.filter((u) => u.kind === 'eval' && ready(u) && !parentFailed(u));
          const size = Math.min(EVAL_GROUP_MAX, Math.ceil((more.length + 1) / opts.jobs));
          for (const u of more.slice(0, size - 1)) {
            pending.splice(pending.indexOf(u), 1);
            group.push(u);
          }
        }
        startedAt.set(taskId(t), Date.now());
        running.set(taskId(t), { task: t, group, done: start(group, opts) });
      }
      if (running.size === 0 && pending.length) {
        // Nothing can start: every pending task waits for a parent outside this graph.
        throw new Error(
          `cannot schedule ${pending.map(taskId).join(', ')}: a parent stage is neither done nor part of the graph`,
        );
      }
      const settled = await Promise.race([
        ...[...running.values()].map((r) => r.done.then((code) => ({ id: taskId(r.task), code }))),
        new Promise<null>((r) => setTimeout(() => r(null), Math.min(2000, this.statusEveryMs))),
      ]);
      if (settled) {
        const r = running.get(settled.id)!;
        running.delete(settled.id);
        for (const t of r.group) {
          // a group's worker exits non-zero when any of its evaluations failed: each one's output decides
          if (taskDone(t) && (settled.code === 0 || r.group.length > 1)) {
            progress.finished(t);
            if (t.kind === 'train') progress.reprice();
            opts.log(`✓ ${taskId(t)} (${describeTask(t)})`);
          } else {
            failed.add(taskId(t));
            progress.failed(t);
            opts.log(`✗ ${taskId(t)} failed (exit ${settled.code}); see ${taskLog(r.task)}`);
          }
        }
      }
      if (Date.now() - lastLine > this.statusEveryMs || (settled && running.size)) {
        lastLine = Date.now();
        const live = [...running.values()].map((r) => {
          if (r.task.kind === 'eval')
            return r.group.length > 1
              ? `${r.group.length} evaluations`
              : `eval ${stageName(r.task.spec).slice(0, 12)} on ${r.task.ref.split}`;
          const p = progress.observe(r.task, startedAt.get(taskId(r.task)) ?? t0);
          const value =
            p.value === undefined ? '' : ` ${r.task.spec.kind === 'grpo' ? 'R' : 'loss'}=${p.value.toFixed(3)}`;
          return `${stageName(r.task.spec).slice(0, 12)} ${p.step}/${taskSteps(r.task)}${value}`;
        });
        const el = (Date.now() - t0) / 1000;
        const { pct, eta } = progress.status(el);
        opts.log(`  [${pct}%] ${fmtDuration(el)} elapsed, ETA ${fmtDuration(eta)} | ${live.join(' | ')}`);
      }
    }
    if (failed.size) throw new Error(`${failed.size} task(s) failed: ${[...failed].join(', ')}`);
  }
}

export function describeTask(t: Task): string {
  if (t.kind === 'eval') return `evaluation on ${t.ref.split} (${t.ref.count})`;
  const s = t.spec;
  if (s.kind === 'base') return `base pretraining, seed ${s.seed}`;
  const on = s.data.split.startsWith('region-') ? ` on ${s.data.split}` : '';
  if (s.kind === 'sft')
    return `${s.sft.target === 'short' ? 'answer-only SFT' : `CoT-SFT (${s.sft.target})`}${on}, seed ${s.seed}`;
  const g = s.grpo;
  if (on) {
    const r = g.region ?? DEFAULT_REGION_REWARD;
    return `GRPO${on} R_IoU=${r.matching} R_count×${r.countWeight} from ${s.from.kind}, seed ${s.seed}`;
  }
  const extra = [
    g.advantageScale !== 'std' ? ` adv=${g.advantageScale}` : '',
    g.iterations > 1 ? ` μ=${g.iterations}` : '',
  ].join('');
  const sc = g.spatialConsistency ? `λm=${g.consistency.lambdaM},λv=${g.consistency.lambdaV}` : 'off';
  return (
    `GRPO aux=${g.reward.aux} β=${g.reward.beta} L_SC=${sc}${extra} from ` +
    `${s.from.kind}${s.from.kind === 'sft' ? `(${s.from.sft.target})` : ''}, seed ${s.seed}`
  );
}

/** Train every stage the given specs need (upstream first). Finished stages are skipped; interrupted ones resume. */
export async function runStages(specs: StageSpec[], opts: RunOptions): Promise<void> {
  await (opts.executor ?? new LocalExecutor()).run(trainTasks(specs), opts);
}

/** Evaluate finished stages on splits (results cached per stage), in workers. */
export async function runEvaluations(items: { spec: StageSpec; ref: DataRef }[], opts: RunOptions): Promise<void> {
  await (opts.executor ?? new LocalExecutor()).run(
    items.map(({ spec, ref }) => ({ kind: 'eval', spec, ref })),
    opts,
  );
}
