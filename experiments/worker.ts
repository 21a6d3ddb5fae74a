/**
 * A worker process: `worker.ts <task.json>…` trains one pipeline stage, or evaluates finished
 * stages on splits (cached), as each task file says, one after another. Started by the local
 * executor (with an IPC channel: when the parent goes away, so does the worker) or by hand.
 * Exits 0 when every task succeeded; a failed task does not stop the ones after it.
 */
import { readJson } from '../lib/files';
import { evaluateStage, runStage } from '../lib/pipeline';
import { selectBackend } from '../lib/backend';
import type { Task } from './scheduler';

// Stop with the process that started us (a killed CLI must not leave workers training).
if (process.send) process.on('disconnect', () => process.exit(130));

const paths = process.argv.slice(2);
if (!paths.length) {
  console.error('usage: worker.ts <task.json>…');
  process.exit(2);
}

async function run(task: Task): Promise<string> {
  if (task.kind === 'eval') {
    await selectBackend(process.env.RSG_BACKEND ?? 'auto');
    const ev = await evaluateStage(task.spec, task.ref);
    return `evaluated on ${task.ref.split} (${task.ref.count}): Acc@0.5 ${(100 * ev.acc50).toFixed(2)}`;
  }
  const s = await runStage(task.spec, { quiet: true });
  return `done ${s.kind} ${s.hash} in ${s.seconds.toFixed(0)} s on ${s.backend}`;
}

async function main(): Promise<number> {
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

main().then((code) => process.exit(code));
