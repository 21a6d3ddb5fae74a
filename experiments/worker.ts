/**
 * A worker process. `worker.ts <spec.json>` trains one pipeline stage;
 * `worker.ts <spec.json> --eval <split> <count>` evaluates a finished stage on a split (cached).
 */
import { readJson } from '../lib/files';
import { evaluateStage, runStage, type StageSpec } from '../lib/pipeline';
import { selectBackend } from '../lib/backend';

const [specPath, flag, split, count] = process.argv.slice(2);
const spec = readJson<StageSpec>(specPath);

async function main(): Promise<string> {
  if (flag === '--eval') {
    await selectBackend(process.env.RSG_BACKEND ?? 'auto');
    const ev = await evaluateStage(spec, { split, count: Number(count) });
    return `evaluated on ${split} (${count}): Acc@0.5 ${(100 * ev.acc50).toFixed(2)}`;
  }
  const s = await runStage(spec, { quiet: true });
  return `done ${s.kind} ${s.hash} in ${s.seconds.toFixed(0)} s on ${s.backend}`;
}

main()
  .then((msg) => { console.log(msg); process.exit(0); })
  .catch((e) => { console.error((e as Error).stack ?? String(e)); process.exit(1); });
