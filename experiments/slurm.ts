/**
 * The stage graph on Slurm: every task that is not done becomes an `sbatch` job whose dependency
 * is its parent's job (`--dependency=afterok:<id>`), written as a plain job script next to the
 * stage (`sbatch <script>` reruns it by hand). Stages are content-addressed and resumable, so:
 * - a finished stage is skipped, and a stage already queued or running — found by its job name,
 *   which carries the runs directory's tag and the stage hash — is depended on, not resubmitted;
 * - a failed or cancelled job is resubmitted by running the same command again, and resumes from
 *   its last checkpoint.
 * The runs directory must be on a filesystem the compute nodes share; each job checks that it
 * sees it, and fails with a message saying so when it does not.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, hashConfig, runsDir, writeFileAtomic } from '../lib/files';
import { fmtDuration } from '../lib/progress';
import { stageDir, stageName } from '../lib/pipeline';
import { validate, z } from '../lib/config';
import {
  type Executor,
  type RunOptions,
  type Task,
  blasThreads,
  closeGraph,
  describeTask,
  RunProgress,
  taskDone,
  taskId,
  taskLog,
  taskParent,
  taskSteps,
  writeTaskFile,
} from './scheduler';

/** What one job asks Slurm for; unset fields are left to the cluster's defaults. */
export type SlurmResources = {
  partition?: string;
  /** --cpus-per-task (default: the stage's OpenBLAS threads) */
  cpus?: number;
  /** --mem, e.g. "4G" */
  mem?: string;
  /** --time, e.g. "2:00:00" */
  time?: string;
  /** --gres, e.g. "gpu:1" (for the tensorflow backend) */
  gres?: string;
};

export const TASK_KINDS = ['base', 'sft', 'grpo', 'eval'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
/** Resources for every job, then per task kind (overriding field by field). */
export type SlurmConfig = { default: SlurmResources } & Partial<Record<TaskKind, SlurmResources>>;

const RESOURCES = z.strictObject({
  partition: z
    .string()
    .regex(/^[\w.,-]+$/, 'must be a partition name (letters, digits, _ . , -)')
    .optional(),
  cpus: z.number().int('must be an integer ≥ 1').gte(1, 'must be an integer ≥ 1').optional(),
  mem: z
    .string()
    .regex(/^\d+[KMGT]?$/, 'must be a size like 4G or 2048M')
    .optional(),
  time: z
    .string()
    .regex(/^(\d+-)?\d+(:\d{1,2}){0,2}$/, 'must be a Slurm time like 90, 2:00:00 or 1-12:00:00')
    .optional(),
  gres: z
    .string()
    .regex(/^[\w:.,-]+$/, 'must be a gres spec like gpu:1')
    .optional(),
});
export const SLURM_CONFIG_SCHEMA = z.strictObject({
  default: RESOURCES,
  base: RESOURCES.optional(),
  sft: RESOURCES.optional(),
  grpo: RESOURCES.optional(),
  eval: RESOURCES.optional(),
});

/** A Slurm config from a JSON file (every bad field named) merged under the command line's flags. */
export function slurmConfig(flags: SlurmResources, file?: string): SlurmConfig {
  let fromFile: unknown = { default: {} };
  if (file) {
    if (!existsSync(file)) throw new Error(`--slurm-config ${file}: no such file`);
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`--slurm-config ${file}: not JSON (${(e as Error).message})`);
    }
    if (fromFile && typeof fromFile === 'object' && !('default' in fromFile))
      fromFile = { default: {}, ...(fromFile as object) };
  }
  const checked = (value: unknown, what: string) => {
    try {
      return validate(SLURM_CONFIG_SCHEMA, value, '');
    } catch (e) {
      throw new Error(`${what}:\n${(e as Error).message.split('\n').slice(1).join('\n')}`);
    }
  };
  const cfg = checked(fromFile, file ? `invalid Slurm config ${file}` : 'invalid Slurm config');
  const cleanFlags = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return checked({ ...cfg, default: { ...cfg.default, ...cleanFlags } }, 'invalid --slurm-* option');
}

function kindOf(t: Task): TaskKind {
  return t.kind === 'eval' ? 'eval' : t.spec.kind;
}

export function resourcesFor(cfg: SlurmConfig, t: Task): SlurmResources {
  return { cpus: blasThreads(), ...cfg.default, ...cfg[kindOf(t)] };
}

/** Tells this runs directory's jobs apart from another's with the same stage hashes. */
export function runsTag(dir = runsDir()): string {
  return hashConfig(dir, 6);
}

/** What every job name of this runs directory starts with. */
export function jobPrefix(dir = runsDir()): string {
  return `rsg-${runsTag(dir)}-`;
}

/** The job name: `rsg-<runs tag>-<task id>` (the task id carries the stage hash). */
export function jobName(t: Task, dir = runsDir()): string {
  return `${jobPrefix(dir)}${taskId(t)}`;
}

/** Where a task's job script is written. */
export function jobScriptPath(t: Task): string {
  return join(stageDir(t.spec), t.kind === 'train' ? 'job.sbatch' : `job-eval-${t.ref.split}-${t.ref.count}.sbatch`);
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The job script for a task: resources as #SBATCH lines, a visibility check, the worker. */
export function jobScript(t: Task, res: SlurmResources, o: { taskFile: string; backend?: string }): string {
  const dir = runsDir();
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${jobName(t, dir)}`,
    `#SBATCH --output=${taskLog(t)}`,
    '#SBATCH --open-mode=append',
    `#SBATCH --cpus-per-task=${res.cpus ?? 1}`,
    ...(res.partition ? [`#SBATCH --partition=${res.partition}`] : []),
    ...(res.mem ? [`#SBATCH --mem=${res.mem}`] : []),
    ...(res.time ? [`#SBATCH --time=${res.time}`] : []),
    ...(res.gres ? [`#SBATCH --gres=${res.gres}`] : []),
    `# ${describeTask(t)}: ${taskId(t)}`,
    '# Written by `npm run experiment -- --executor slurm`; `sbatch` this file to rerun the task by hand',
    '# (a finished stage is skipped, an interrupted one resumes from its last checkpoint).',
    'set -eu',
    `RUNS=${q(dir)}`,
    `ROOT=${q(PROJECT_ROOT)}`,
    'for d in "$RUNS" "$ROOT"; do',
    '  if [ ! -d "$d" ] || [ ! -w "$d" ]; then',
    '    echo "rsground-lab: $d is not visible (or not writable) from $(hostname): the runs directory and the' +
      ' project must be on a filesystem shared with the host that submitted this job" >&2',
    '    exit 3',
    '  fi',
    'done',
    `export RSG_RUNS_DIR="$RUNS" RSG_BLAS_THREADS=${blasThreads()}${o.backend ? ` RSG_BACKEND=${q(o.backend)}` : ''}`,
    'cd "$ROOT"',
    `echo "[$(date -u +%FT%TZ)] job \${SLURM_JOB_ID:-by hand} on $(hostname): ${taskId(t)}"`,
    `exec ${q(process.execPath)} --import tsx experiments/worker.ts ${q(o.taskFile)}`,
    '',
  ];
  return lines.join('\n');
}

/** A job in the queue. */
export type QueuedJob = { id: string; name: string; state: string };

type Run = (cmd: string, args: string[]) => { status: number | null; stdout: string; stderr: string; error?: Error };
const runCmd: Run = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
};

/** Why Slurm cannot be used from here, or null when `sbatch` and the controller answer. */
export function slurmUnavailable(run: Run = runCmd): string | null {
  const v = run('sbatch', ['--version']);
  if (v.error || v.status !== 0)
    return (
      '--executor slurm needs Slurm: `sbatch` is not on PATH (install the Slurm client configured for your ' +
      "cluster — Debian's slurm-client — or use --executor local)"
    );
  const s = run('squeue', ['-h', '-o', '%i']);
  if (s.error || s.status !== 0)
    return `--executor slurm: squeue cannot reach the Slurm controller: ${(s.stderr || String(s.error)).trim()}`;
  return null;
}

/** Every job in the queue (pending, running, completing), by name. */
export function queue(run: Run = runCmd): Map<string, QueuedJob> {
  const r = run('squeue', ['-h', '-o', '%i|%j|%T']);
  if (r.error || r.status !== 0) throw new Error(`squeue failed: ${(r.stderr || String(r.error)).trim()}`);
  const out = new Map<string, QueuedJob>();
  for (const line of r.stdout.split('\n')) {
    const [id, name, state] = line.trim().split('|');
    if (id && name) out.set(name, { id, name, state: state ?? '' });
  }
  return out;
}

function sbatch(script: string, dependency: string | undefined, run: Run): string {
  const args = ['--parsable', ...(dependency ? [`--dependency=afterok:${dependency}`] : []), script];
  const r = run('sbatch', args);
  if (r.error || r.status !== 0)
    throw new Error(`sbatch ${args.join(' ')} failed: ${(r.stderr || String(r.error)).trim()}`);
  return r.stdout.trim().split(';')[0];
}

/** The last lines of a file, for a failure message. */
function tail(file: string, n = 6): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
}

export type SlurmExecutorOptions = {
  resources: SlurmConfig;
  /** follow the jobs until every task is done or failed (else return once submitted) */
  wait: boolean;
  /** seconds between queue polls while waiting */
  pollSeconds?: number;
  run?: Run;
};

export class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  /** job ids of the last `run`, by task id (submitted or found queued) */
  readonly jobs = new Map<string, string>();
  submitted = 0;

  constructor(private readonly o: SlurmExecutorOptions) {}

  async run(all: Task[], opts: RunOptions): Promise<void> {
    const run = this.o.run ?? runCmd;
    const missing = slurmUnavailable(run);
    if (missing) throw new Error(missing);
    const tasks = closeGraph(all);
    const pending = tasks.filter((t) => !taskDone(t));
    if (!pending.length) return;
    const queued = queue(run);
    let submitted = 0,
      found = 0;
    for (const t of pending) {
      // closeGraph lists parents first, so a pending parent already has its job id here
      const id = taskId(t);
      const q = queued.get(jobName(t));
      if (q) {
        this.jobs.set(id, q.id);
        found++;
        opts.log(`job ${q.id} ${q.state.toLowerCase()}: ${id} (${describeTask(t)}), not resubmitted`);
        continue;
      }
      const parent = taskParent(t);
      const dependency = parent && !taskDone(parent) ? this.jobs.get(taskId(parent)) : undefined;
      const taskFile = writeTaskFile(t);
      const script = jobScriptPath(t);
      writeFileAtomic(script, jobScript(t, resourcesFor(this.o.resources, t), { taskFile, backend: opts.backend }));
      const job = sbatch(script, dependency, run);
      this.jobs.set(id, job);
      submitted++;
      opts.log(`job ${job} submitted: ${id} (${describeTask(t)})${dependency ? `, after job ${dependency}` : ''}`);
    }
    this.submitted += submitted;
    opts.log(
      `${submitted} job(s) submitted, ${found} already queued or running, ` +
        `${tasks.length - pending.length} task(s) already done`,
    );
    if (this.o.wait) await this.follow(pending, opts, run);
  }

  /** Poll the queue until every task is done or its job left the queue without finishing it. */
  private async follow(tasks: Task[], opts: RunOptions, run: Run): Promise<void> {
    const open = new Map(tasks.map((t) => [taskId(t), t]));
    const failed: string[] = [];
    const progress = new RunProgress(tasks);
    const t0 = Date.now();
    let lastLine = 0;
    while (open.size) {
      await new Promise((r) => setTimeout(r, 1000 * (this.o.pollSeconds ?? 2)));
      const ids = new Set([...queue(run).values()].map((j) => j.id));
      for (const [id, t] of open) {
        if (taskDone(t)) {
          open.delete(id);
          progress.finished(t);
          if (t.kind === 'train') progress.reprice();
          opts.log(`✓ ${id} (${describeTask(t)}), job ${this.jobs.get(id)}`);
        } else if (!ids.has(this.jobs.get(id)!)) {
          // a stage's done marker is written atomically before its worker exits: a job gone without it failed
          open.delete(id);
          failed.push(id);
          progress.failed(t);
          opts.log(`✗ ${id} failed (job ${this.jobs.get(id)}); ${taskLog(t)} ends:\n${tail(taskLog(t))}`);
        }
      }
      if (Date.now() - lastLine > 10_000 && open.size) {
        lastLine = Date.now();
        const left = [...open.values()];
        // this run's steps: a log written since the jobs were submitted (a resumed stage's older lines are not)
        const live = left
          .filter((t) => t.kind === 'train')
          .map((t) => ({ t, step: progress.observe(t, t0).step }))
          .filter(({ step }) => step > 0)
          .map(({ t, step }) => `${stageName(t.spec).slice(0, 12)} ${step}/${taskSteps(t)}`);
        const el = (Date.now() - t0) / 1000;
        const { pct, eta } = progress.status(el);
        opts.log(
          `  [${pct}%] ${fmtDuration(el)} elapsed, ETA ${fmtDuration(eta)} | ${left.length} job(s) left` +
            (live.length ? ` | ${live.join(' | ')}` : ''),
        );
      }
    }
    if (failed.length)
      throw new Error(
        `${failed.length} job(s) failed: ${failed.join(', ')}. Fix the cause and run the same command again: ` +
          'finished stages are skipped and failed ones resume from their last checkpoint',
      );
  }
}

/** One row of `npm run experiment status`. */
export type StageStatus = { task: string; what: string; state: string; job: string; log: string };

/** Each task's state: done, running, queued (with the job id) or failed / not started. */
export function status(tasks: Task[], run: Run = runCmd): StageStatus[] {
  const queued = slurmUnavailable(run) ? new Map<string, QueuedJob>() : queue(run);
  return closeGraph(tasks).map((t) => {
    const j = queued.get(jobName(t));
    const state = taskDone(t)
      ? 'done'
      : j
        ? j.state === 'PENDING'
          ? 'queued'
          : j.state.toLowerCase()
        : existsSync(taskLog(t))
          ? 'failed or cancelled'
          : 'not started';
    return { task: taskId(t), what: describeTask(t), state, job: j?.id ?? '–', log: taskLog(t) };
  });
}

/** Cancel the queued and running jobs of these tasks (and of evaluations of their stages). */
export function cancel(tasks: Task[], run: Run = runCmd): QueuedJob[] {
  const missing = slurmUnavailable(run);
  if (missing) throw new Error(missing);
  const stages = new Set(closeGraph(tasks).map((t) => stageName(t.spec)));
  const prefix = jobPrefix();
  const mine = [...queue(run).values()].filter(
    (j) => j.name.startsWith(prefix) && [...stages].some((s) => j.name.includes(s)),
  );
  if (mine.length) {
    const r = run(
      'scancel',
      mine.map((j) => j.id),
    );
    if (r.error || r.status !== 0) throw new Error(`scancel failed: ${(r.stderr || String(r.error)).trim()}`);
  }
  return mine;
}
