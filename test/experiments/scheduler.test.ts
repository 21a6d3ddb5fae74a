/**
 * The local executor with a fake worker: dependency order, the job limit, failure propagation,
 * reuse of finished tasks.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../lib/files';
import { type LockOwner, readOwner } from '../../lib/lock';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  LocalExecutor,
  RunProgress,
  type Task,
  closeGraph,
  progressSince,
  resumeStep,
  stepWeights,
  taskId,
  trainTasks,
  workDone,
} from '../../experiments/scheduler';
import {
  type GrpoSpec,
  type BaseSpec,
  type SftSpec,
  type StageSpec,
  DEFAULT_GRPO,
  DEFAULT_SFT,
  evalFile,
  stageDir,
  stageName as stageNameOf,
} from '../../lib/pipeline';
import { stageSteps as stageStepsOf } from '../../experiments/cost';
import { TINY } from '../helpers';

const base: BaseSpec = {
  kind: 'base',
  arch: { ...TINY, stemHidden: 0, positionReadout: true },
  seed: 0,
  sft: { ...DEFAULT_SFT, steps: 5 },
  curriculum: [{ until: 1, data: { split: 'generic', count: 4 } }],
  eval: { split: 'val', count: 2 },
};
const sft = (seed: number): SftSpec => ({
  kind: 'sft',
  from: base,
  seed,
  sft: { ...DEFAULT_SFT, steps: 3 },
  data: { split: 'train', count: 4 },
  eval: { split: 'val', count: 2 },
});
const grpo = (from: BaseSpec | SftSpec, seed: number, lr = 1e-4): GrpoSpec => ({
  kind: 'grpo',
  from,
  seed,
  grpo: { ...DEFAULT_GRPO, steps: 2, lr },
  data: { split: 'train', count: 4 },
  eval: { split: 'val', count: 2 },
});

function withRuns(f: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rsg-sched-'));
    const prev = process.env.RSG_RUNS_DIR;
    process.env.RSG_RUNS_DIR = dir;
    try {
      await f(dir);
    } finally {
      process.env.RSG_RUNS_DIR = prev;
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/**
 * A fake worker: marks each of its tasks done (summary.json or the eval file) after a tick, except
 * `failing` ids; exits 1 when any failed. `starts` records each start's task ids.
 */
function fakeWorker(log: string[], failing = new Set<string>(), live = { n: 0, max: 0 }, starts: string[][] = []) {
  return async (ts: Task[]) => {
    live.n++;
    live.max = Math.max(live.max, live.n);
    starts.push(ts.map(taskId));
    let code = 0;
    for (const t of ts) {
      log.push(taskId(t));
      await new Promise((r) => setTimeout(r, 5));
      if (failing.has(taskId(t))) {
        code = 1;
        continue;
      }
      const f = t.kind === 'train' ? join(stageDir(t.spec), 'summary.json') : evalFile(t.spec, t.ref);
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, '{}');
    }
    live.n--;
    return code;
  };
}

const quiet = { jobs: 2, log: () => {} };

test('the graph closes over parents, each stage once, parents first', () => {
  const g = trainTasks([grpo(sft(1), 1), grpo(sft(1), 2), grpo(base, 1)]);
  const ids = g.map(taskId);
  assert.is(new Set(ids).size, ids.length);
  assert.is(ids.length, 5); // base, sft(1), three GRPO
  const pos = (t: Task) => ids.indexOf(taskId(t));
  assert.ok(pos({ kind: 'train', spec: base }) < pos({ kind: 'train', spec: sft(1) }));
  assert.ok(closeGraph([{ kind: 'eval', spec: grpo(base, 1), ref: { split: 'val', count: 2 } }]).length === 3);
});

test(
  'runs parents before children, at most `jobs` at once',
  withRuns(async () => {
    const log: string[] = [],
      live = { n: 0, max: 0 };
    const specs = [grpo(sft(1), 1), grpo(sft(2), 2), grpo(base, 3), grpo(base, 4, 2e-4)];
    await new LocalExecutor(fakeWorker(log, new Set(), live), 1).run(
      [...trainTasks(specs), { kind: 'eval', spec: specs[0], ref: { split: 'test', count: 5 } }],
      quiet,
    );
    assert.is(log.length, 8);
    assert.ok(live.max <= 2, `max concurrency ${live.max}`);
    assert.ok(live.max === 2, 'both jobs used');
    const at = (id: string) => log.indexOf(id);
    for (const s of specs)
      assert.ok(at(taskId({ kind: 'train', spec: s.from })) < at(taskId({ kind: 'train', spec: s })));
    assert.ok(
      at(taskId({ kind: 'eval', spec: specs[0], ref: { split: 'test', count: 5 } })) >
        at(taskId({ kind: 'train', spec: specs[0] })),
    );
  }),
);

test(
  'finished tasks are reused; a failure skips its descendants and is reported',
  withRuns(async () => {
    const log: string[] = [];
    const specs = [grpo(sft(1), 1), grpo(base, 2)];
    const failing = new Set([taskId({ kind: 'train', spec: sft(1) })]);
    let err = '';
    try {
      await new LocalExecutor(fakeWorker(log, failing), 1).run(trainTasks(specs), quiet);
    } catch (e) {
      err = (e as Error).message;
    }
    assert.match(err, /2 task\(s\) failed: /);
    assert.not.ok(log.includes(taskId({ kind: 'train', spec: specs[0] })), "the failed stage's child never started");
    assert.ok(log.includes(taskId({ kind: 'train', spec: specs[1] })), 'an independent branch still ran');
    // Second run: base and grpo(base) are done and reused; only the failed branch runs.
    const again: string[] = [];
    await new LocalExecutor(fakeWorker(again), 1).run(trainTasks(specs), quiet);
    assert.equal(again, [taskId({ kind: 'train', spec: sft(1) }), taskId({ kind: 'train', spec: specs[0] })]);
  }),
);

test(
  'ready evaluations share worker processes, split over the jobs; a failed one in a group is reported alone',
  withRuns(async () => {
    const log: string[] = [],
      starts: string[][] = [],
      live = { n: 0, max: 0 };
    const specs = [grpo(base, 1), grpo(base, 2)];
    const evals: Task[] = specs.flatMap((spec) =>
      ['test', 'val', 'ood-scale', 'ood-dense', 'ood-palette'].map((split) => ({
        kind: 'eval' as const,
        spec,
        ref: { split, count: 3 },
      })),
    );
    const failing = new Set([taskId(evals[7])]);
    const lines: string[] = [];
    let err = '';
    try {
      await new LocalExecutor(fakeWorker(log, failing, live, starts), 1).run([...trainTasks(specs), ...evals], {
        jobs: 2,
        log: (m) => lines.push(m),
      });
    } catch (e) {
      err = (e as Error).message;
    }
    assert.is(err, `1 task(s) failed: ${taskId(evals[7])}`);
    for (const [i, t] of evals.entries()) assert.is(log.filter((id) => id === taskId(t)).length, 1, `eval ${i} once`);
    const evalStarts = starts.filter((g) => g[0].startsWith('eval-'));
    assert.ok(evalStarts.length < evals.length, `${evalStarts.length} starts for ${evals.length} evaluations`);
    assert.ok(
      evalStarts.every((g) => g.length <= Math.ceil(evals.length / 2)),
      'no group larger than its share of the jobs',
    );
    assert.is(live.max, 2, 'both jobs used');
    assert.ok(lines.some((l) => l.startsWith(`✗ ${taskId(evals[7])} failed`)));
    assert.is(lines.filter((l) => l.startsWith('✓ eval-')).length, evals.length - 1);
  }),
);

test(
  'a worker stops when the process that started it is killed, and its log is on disk',
  withRuns(async (dir) => {
    const long: BaseSpec = { ...base, sft: { ...DEFAULT_SFT, steps: 100000, batchSize: 2, checkpointEvery: 100000 } };
    const taskFile = join(dir, 'task.json');
    writeFileSync(taskFile, JSON.stringify({ kind: 'train', spec: long }));
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'test', 'fixtures', 'scripts', 'spawn-and-wait.ts'), taskFile],
      {
        env: { ...process.env, RSG_RUNS_DIR: dir, RSG_BACKEND: 'wasm' },
        stdio: 'ignore',
      },
    );
    // The worker holds the stage's lock once it trains: its owner record names the worker's PID.
    const lock = join(stageDir(long), 'lock');
    let owner: LockOwner | null = null;
    for (let i = 0; i < 300 && !(owner && existsSync(join(stageDir(long), 'metrics.jsonl'))); i++) {
      await new Promise((r) => setTimeout(r, 100));
      owner = readOwner(lock);
    }
    assert.ok(owner && owner.pid !== cli.pid, 'the worker started');
    cli.kill('SIGKILL');
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        process.kill(owner!.pid, 0);
      } catch {
        alive = false;
      }
    }
    assert.not.ok(alive, `worker ${owner!.pid} outlived its parent`);
    assert.ok(readFileSync(join(stageDir(long), 'worker.log'), 'utf8').length >= 0);
    assert.ok(existsSync(join(stageDir(long), 'worker.log')), 'the log file exists');
  }),
);

test('progress weights: priced seconds per step, the median for an unpriced task, 1 when nothing is priced', () => {
  assert.equal(stepWeights([0.2, null, 0.6, 0.3]), [0.2, 0.3, 0.6, 0.3]);
  assert.equal(stepWeights([null, null]), [1, 1]);
  assert.equal(stepWeights([NaN, 0, 2]), [2, 2, 2]);
});

test('work done counts only the steps this run trains, hand-computed', () => {
  const w = workDone([
    { steps: 100, from: 40, perStep: 2, step: 70 }, // resumed at 40: 30 of 60 steps done → 60 of 120 s
    { steps: 10, from: 0, perStep: 5, step: 10 }, // finished: 50 of 50
    { steps: 50, from: 30, perStep: 1, step: 45 }, // a stale log (step 45 before truncation to 30) counts from 30
    { steps: 20, from: 0, perStep: 1, step: 35 }, // past its end counts as its end
  ]);
  assert.equal(w, { done: 60 + 50 + 15 + 20, total: 120 + 50 + 20 + 20 });
  assert.equal(
    workDone([{ steps: 100, from: 150, perStep: 1, step: 150 }]),
    { done: 0, total: 0 },
    'a checkpoint past the end adds no work',
  );
});

test(
  'a failed task and the child it leaves unrun drop out of the total: the run ends at 100%, not short of it',
  withRuns(async () => {
    // priced per stage: 6 s for the SFT, 3 s for the base and each GRPO stage, 15 s in all
    const price = (s: StageSpec) => ({ seconds: 3 * (s.kind === 'sft' ? 2 : 1), basis: 'test' });
    const tasks = trainTasks([grpo(sft(1), 1), grpo(base, 2)]);
    const p = new RunProgress(tasks, price);
    assert.equal(p.status(10), { pct: 0, eta: NaN });
    const byKind = (k: string, from?: string) =>
      tasks.find((t) => t.spec.kind === k && (!from || (t.spec.kind === 'grpo' && t.spec.from.kind === from)))!;
    p.finished(byKind('base'));
    p.finished(byKind('grpo', 'base'));
    assert.equal(p.status(10), { pct: 40, eta: 15 }, '6 of 15 priced seconds in 10 s: 9 left at 0.6 per second');
    p.failed(byKind('sft'));
    p.failed(byKind('grpo', 'sft'));
    assert.equal(p.status(10), { pct: 100, eta: 0 });
  }),
);

test(
  'a run that starts with nothing priced goes by steps, then by the prices its finished stages give',
  withRuns(async () => {
    const tasks = trainTasks([grpo(base, 2)]); // the base's 5 steps, then GRPO's 2
    const p = new RunProgress(tasks, () => ({ seconds: null, basis: 'untimed' }));
    p.finished(tasks[0]);
    assert.equal(p.status(10), { pct: 71, eta: 4 }, 'by steps: 5 of 7 in 10 s, 2 left at 0.5 a second');
    // the base took 10 s; GRPO is now priced at 45 s a step (a Geo-CoT GRPO step against an SFT one)
    p.reprice((s) => ({ seconds: s.kind === 'base' ? 10 : 90, basis: 'test' }));
    assert.equal(p.status(10), { pct: 10, eta: 90 }, 'by price: 10 of 100 priced seconds, 90 left at 1 a second');
    p.failed(tasks[1]);
    p.reprice((s) => ({ seconds: s.kind === 'base' ? 10 : 90, basis: 'test' }));
    assert.equal(p.status(10), { pct: 100, eta: 0 }, 'a failed task stays out after a reprice');
  }),
);

test(
  'the executor reprices as stages finish: a fresh runs directory’s status line follows its own stage times',
  withRuns(async () => {
    // nothing timed at the start; the base (5 steps) takes 5 s, each GRPO stage (2 steps) 20 s
    const a = grpo(base, 2),
      b = grpo(base, 3);
    const timedWorker = async (ts: Task[]) => {
      for (const t of ts) {
        await new Promise((r) => setTimeout(r, 5));
        mkdirSync(stageDir(t.spec), { recursive: true });
        writeFileSync(join(stageDir(t.spec), 'config.json'), JSON.stringify({ spec: t.spec }));
        const seconds = t.spec.kind === 'base' ? 5 : 20;
        writeFileSync(join(stageDir(t.spec), 'summary.json'), JSON.stringify({ seconds, steps: stageStepsOf(t.spec) }));
      }
      return 0;
    };
    const lines: string[] = [];
    await new LocalExecutor(timedWorker, 1).run(trainTasks([a, b]), { jobs: 1, log: (l) => lines.push(l) });
    const last = trainTasks([a, b]).at(-1)!.spec;
    const whileLast = lines.filter((l) => /^ {2}\[\d+%\]/.test(l) && l.includes(stageNameOf(last).slice(0, 12)));
    assert.ok(whileLast.length > 0, lines.join('\n'));
    // priced: 25 of 45 seconds done (by steps it would be 7 of 9, 78%)
    assert.match(whileLast[0], /^ {2}\[56%\]/);
  }),
);

test(
  'a stage resumes from its checkpoint’s step; a log older than the task’s start is not its progress',
  withRuns(async () => {
    const s = grpo(base, 9);
    assert.is(resumeStep(s), 0);
    mkdirSync(join(stageDir(s), 'checkpoint'), { recursive: true });
    writeFileSync(join(stageDir(s), 'checkpoint', 'state.json'), JSON.stringify({ step: 300, optimizerStep: 300 }));
    assert.is(resumeStep(s), 300);
    writeFileSync(join(stageDir(s), 'checkpoint', 'state.json'), '{"step": 3');
    assert.is(resumeStep(s), 0, 'an unreadable checkpoint state resumes nothing');
    const log = join(stageDir(s), 'metrics.jsonl');
    assert.equal(progressSince(s, Date.now(), 7), { step: 7 }, 'no log yet');
    writeFileSync(log, JSON.stringify({ step: 364, 'reward/total': 1.5 }) + '\n');
    assert.equal(progressSince(s, Date.now() + 60_000, 300), { step: 300 }, 'written before the task started');
    assert.equal(progressSince(s, Date.now() - 60_000, 300), { step: 364, value: 1.5 });
  }),
);

test(
  'the status line weighs progress by priced seconds and leaves out steps trained before this run',
  withRuns(async () => {
    // Timed here: a 100-step base took 300 s (3 s/step), a 10-step GRPO stage 10 s (1 s/step).
    const mine = { ...base, sft: { ...base.sft, steps: 100 } };
    const tenSteps = (from: BaseSpec, seed: number): GrpoSpec => ({
      ...grpo(from, seed),
      grpo: { ...DEFAULT_GRPO, steps: 10 },
    });
    const other = { ...mine, seed: 1 };
    for (const [spec, seconds] of [
      [other, 300],
      [tenSteps(other, 7), 10],
    ] as const) {
      mkdirSync(stageDir(spec), { recursive: true });
      writeFileSync(join(stageDir(spec), 'config.json'), JSON.stringify({ spec }));
      writeFileSync(join(stageDir(spec), 'summary.json'), JSON.stringify({ seconds, steps: stageStepsOf(spec) }));
    }
    const child = tenSteps(mine, 2);
    // the base resumes at step 50: this run trains 50 × 3 s of it, then 10 × 1 s of GRPO
    mkdirSync(join(stageDir(mine), 'checkpoint'), { recursive: true });
    writeFileSync(join(stageDir(mine), 'checkpoint', 'state.json'), JSON.stringify({ step: 50 }));
    const lines: string[] = [];
    await new LocalExecutor(fakeWorker([]), 1).run(trainTasks([child]), { jobs: 1, log: (l) => lines.push(l) });
    const status = lines.filter((l) => /^ {2}\[\d+%\]/.test(l));
    const whileGrpo = status.filter((l) => l.includes(stageNameOf(child).slice(0, 12)));
    assert.ok(whileGrpo.length > 0, lines.join('\n'));
    // 150 of 160 priced seconds (by steps it would be 50 of 60, or with the resumed steps 100 of 110)
    assert.match(whileGrpo[0], /^ {2}\[94%\]/);
  }),
);

test.run();
