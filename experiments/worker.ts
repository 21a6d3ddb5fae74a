/**
 * A worker process: `worker.ts <task.json>…` trains one pipeline stage, or evaluates finished
 * stages on splits (cached), as each task file says, one after another. Started by the local
 * executor (with an IPC channel: when the parent goes away, so does the worker) or by hand.
 * Exits 0 when every task succeeded; a failed task does not stop the ones after it.
 *
 * `worker.ts --serve` stays up for the local executor's pool (experiments/scheduler.ts,
 * WorkerPool): it takes `{ tasks, log }` messages over IPC, runs the task files with its output
 * appended to `log`, and answers `{ done: exitCode, recycle }`, so that a suite pays for a worker's
 * start (TypeScript, tfjs, the native addon, JIT warm-up) and for reading a split once per
 * worker instead of once per stage. A stage trains to the same bits either way (its arithmetic
 * depends on its seed, backend and thread count, not on what the process ran before; a test
 * checks). `recycle` asks for a fresh process after a task that left tensors behind.
 */
import { appendFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { readJson } from '../lib/files';
import { evaluateStage, runStage, trimSplitCache } from '../lib/pipeline';
import { selectBackend } from '../lib/backend';
import type { ServeReply, ServeRequest, Task } from './scheduler';

// Stop with the process that started us (a killed CLI must not leave workers training).
if (process.send) process.on('disconnect', () => process.exit(130));

async function run(task: Task): Promise<string> {
  if (task.kind === 'eval') {
    await selectBackend(process.env.RSG_BACKEND ?? 'auto');
    const ev = await evaluateStage(task.spec, task.ref);
    return `evaluated on ${task.ref.split} (${task.ref.count}): Acc@0.5 ${(100 * ev.acc50).toFixed(2)}`;
  }
  const s = await runStage(task.spec, { quiet: true });
  return `done ${s.kind} ${s.hash} in ${s.seconds.toFixed(0)} s on ${s.backend}`;
}

/** Run task files one after another; the exit code: 0 when all succeeded. */
async function runAll(paths: string[]): Promise<number> {
  let failed = 0;
  for (const path of paths) {
    try {
      const msg = await run(readJson<Task>(path));
      console.log(paths.length > 1 ? `${path}: ${msg}` : msg);
    } catch (e) {
      failed++;
      console.error(`${paths.length > 1 ? `${path}: ` : ''}${(e as Error).stack ?? String(e)}`);
    }
  }
  return failed ? 1 : 0;
}

/** Send this process's console output to `file` (appended as it comes) until the returned function runs. */
function redirectOutput(file: string): () => void {
  const out = process.stdout.write,
    err = process.stderr.write;
  const write = (chunk: string | Uint8Array, enc?: unknown, cb?: unknown): boolean => {
    appendFileSync(file, chunk);
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') done();
    return true;
  };
  process.stdout.write = write as typeof process.stdout.write;
  process.stderr.write = write as typeof process.stderr.write;
  return () => {
    process.stdout.write = out;
    process.stderr.write = err;
  };
}

function serve(): void {
  if (!process.send) {
    console.error('worker.ts --serve needs an IPC channel (it is started by the local executor)');
    process.exit(2);
  }
  // Tensors alive between tasks: set after the first task (which may build caches that stay), then
  // a task that leaves more behind gets this process replaced rather than leak into the next.
  let baseline = -1;
  let queue = Promise.resolve();
  process.on('message', (m: ServeRequest) => {
    if ('exit' in m) process.exit(0);
    queue = queue.then(async () => {
      const restore = redirectOutput(m.log);
      let code: number;
      try {
        code = await runAll(m.tasks);
      } finally {
        restore();
      }
      trimSplitCache();
      const live = tf.memory().numTensors;
      const recycle = baseline >= 0 && live > baseline;
      if (recycle)
        appendFileSync(m.log, `worker: ${live - baseline} tensor(s) left behind; a fresh worker takes over\n`);
      if (baseline < 0) baseline = live;
      const reply: ServeReply = { done: code, recycle };
      process.send!(reply, () => {
        if (recycle) process.exit(0);
      });
    });
  });
}

const args = process.argv.slice(2);
if (args[0] === '--serve') serve();
else if (!args.length) {
  console.error('usage: worker.ts <task.json>… | worker.ts --serve');
  process.exit(2);
} else runAll(args).then((code) => process.exit(code));
