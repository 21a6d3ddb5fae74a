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
import { LocalExecutor, type Task, closeGraph, taskId, trainTasks } from '../../experiments/scheduler';
import {
  type GrpoSpec,
  type BaseSpec,
  type SftSpec,
  DEFAULT_GRPO,
  DEFAULT_SFT,
  evalFile,
  stageDir,
} from '../../lib/pipeline';
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

test.run();
