/**
 * A worker process: `worker.ts <task.json>` trains one pipeline stage, or evaluates a finished
 * stage on a split (cached), as the task says. Started by the local executor (with an IPC
 * channel: when the parent goes away, so does the worker) or by hand.
 */
import { readJson } from '../lib/files';
import { evaluateStage, runStage } from '../lib/pipeline';
import { selectBackend } from '../lib/backend';
import type { Task } from './scheduler';

// Stop with the process that started us (a killed CLI must not leave workers training).
if (process.send) process.on('disconnect', () => process.exit(130));

const path = process.argv[2];
if (!path) {
  console.error('usage: worker.ts <task.json>');
  process.exit(2);
}
const task = readJson<Task>(path);

async function main(): Promise<string> {
  if (task.kind === 'eval') {
    await selectBackend(process.env.RSG_BACKEND ?? 'auto');
    const ev = await evaluateStage(task.spec, task.ref);
    return `evaluated on ${task.ref.split} (${task.ref.count}): Acc@0.5 ${(100 * ev.acc50).toFixed(2)}`;
  }
  const s = await runStage(task.spec, { quiet: true });
  return `done ${s.kind} ${s.hash} in ${s.seconds.toFixed(0)} s on ${s.backend}`;
}

main()
  .then((msg) => {
    console.log(msg);
    process.exit(0);
  })
  .catch((e) => {
    console.error((e as Error).stack ?? String(e));
    process.exit(1);
  });
