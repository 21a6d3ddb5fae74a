/**
 * Serving workers (experiments/worker.ts --serve, driven by the local executor's WorkerPool): one
 * process trains stage after stage to the same bits as a fresh process per stage, keeps serving
 * after a failed task, and is replaced when it dies mid-task.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { WorkerPool, type Task } from '../../experiments/scheduler';
import { type BaseSpec, type GrpoSpec, DEFAULT_GRPO, DEFAULT_SFT, stageDir } from '../../lib/pipeline';
import { readOwner } from '../../lib/lock';
import { PROJECT_ROOT } from '../../lib/files';
import { TINY } from '../helpers';

const base: BaseSpec = {
  kind: 'base',
  arch: { ...TINY, stemHidden: 0, positionReadout: true },
  seed: 3,
  sft: { ...DEFAULT_SFT, steps: 6, batchSize: 4 },
  curriculum: [{ until: 1, data: { split: 'generic', count: 8 } }],
  eval: { split: 'val', count: 4 },
};
const grpo = (seed: number, lr: number): GrpoSpec => ({
  kind: 'grpo',
  from: base,
  seed,
  grpo: { ...DEFAULT_GRPO, steps: 3, lr, queriesPerStep: 2, group: 4, maxLen: 24, evalEvery: 0 },
  data: { split: 'train', count: 16 },
  eval: { split: 'val', count: 4 },
});
const train = (spec: BaseSpec | GrpoSpec): Task => ({ kind: 'train', spec });

async function inRuns<T>(f: () => Promise<T>): Promise<{ dir: string; out: T }> {
  const dir = mkdtempSync(join(tmpdir(), 'rsg-worker-'));
  const prev = process.env.RSG_RUNS_DIR;
  process.env.RSG_RUNS_DIR = dir;
  try {
    return { dir, out: await f() };
  } finally {
    process.env.RSG_RUNS_DIR = prev;
  }
}
const metricsIn = (dir: string, spec: GrpoSpec) => {
  const prev = process.env.RSG_RUNS_DIR;
  process.env.RSG_RUNS_DIR = dir;
  try {
    return readFileSync(join(stageDir(spec), 'metrics.jsonl'), 'utf8');
  } finally {
    process.env.RSG_RUNS_DIR = prev;
  }
};

test('one serving worker trains base, GRPO, GRPO; the last stage matches a fresh process bit for bit', async () => {
  const second = grpo(2, 3e-4);
  const served = await inRuns(async () => {
    const pool = new WorkerPool();
    const codes = [];
    for (const spec of [base, grpo(1, 1e-4), second]) codes.push(await pool.run([train(spec)]));
    await pool.close();
    const log = readFileSync(join(stageDir(second), 'worker.log'), 'utf8');
    return { codes, started: pool.started, log };
  });
  assert.equal(served.out.codes, [0, 0, 0]);
  assert.is(served.out.started, 1, 'one process served all three stages');
  assert.match(served.out.log, /^done grpo /m);
  assert.not.match(served.out.log, /done base/, "the base's output went to the base's log");
  const fresh = await inRuns(async () => {
    for (const spec of [base, second]) {
      const pool = new WorkerPool(); // a new process for each stage
      assert.is(await pool.run([train(spec)]), 0);
      await pool.close();
    }
  });
  const a = metricsIn(served.dir, second),
    b = metricsIn(fresh.dir, second);
  assert.ok(a.split('\n').length > 3, 'the stage logged its steps');
  assert.is(a, b);
  for (const d of [served.dir, fresh.dir]) rmSync(d, { recursive: true, force: true });
});

test('a failed task reports its exit code and the worker serves the next one', async () => {
  const { dir } = await inRuns(async () => {
    const pool = new WorkerPool();
    // GRPO whose base is not trained: the stage refuses to start
    assert.is(await pool.run([train(grpo(1, 1e-4))]), 1);
    assert.match(readFileSync(join(stageDir(grpo(1, 1e-4)), 'worker.log'), 'utf8'), /needs base-/);
    assert.is(await pool.run([train(base)]), 0);
    assert.is(pool.started, 1);
    await pool.close();
  });
  rmSync(dir, { recursive: true, force: true });
});

test('a worker killed mid-task: the task ends with a failure and the next task gets a new worker', async () => {
  const long: BaseSpec = { ...base, sft: { ...DEFAULT_SFT, steps: 100000, batchSize: 2, checkpointEvery: 100000 } };
  const { dir } = await inRuns(async () => {
    const pool = new WorkerPool();
    const running = pool.run([train(long)]);
    let pid = 0;
    for (let i = 0; i < 300 && !pid; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (existsSync(join(stageDir(long), 'metrics.jsonl'))) pid = readOwner(join(stageDir(long), 'lock'))?.pid ?? 0;
    }
    assert.ok(pid > 0 && pid !== process.pid, 'the worker started training');
    process.kill(pid, 'SIGKILL');
    assert.is.not(await running, 0);
    assert.is(await pool.run([train(base)]), 0);
    assert.is(pool.started, 2);
    await pool.close();
  });
  rmSync(dir, { recursive: true, force: true });
});

test("what a worker writes past its console (fd 2 directly) lands in its task's log", async () => {
  const prev = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `--import ${join(PROJECT_ROOT, 'test', 'fixtures', 'scripts', 'stray-output.mjs')}`;
  try {
    const { dir } = await inRuns(async () => {
      const pool = new WorkerPool();
      assert.is(await pool.run([train(base)]), 0);
      await pool.close();
      assert.match(readFileSync(join(stageDir(base), 'worker.log'), 'utf8'), /stray output on fd 2/);
    });
    rmSync(dir, { recursive: true, force: true });
  } finally {
    if (prev === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = prev;
  }
});

test.run();
