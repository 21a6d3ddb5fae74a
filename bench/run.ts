/**
 * `npm run bench [-- <name> ...]`: every benchmark, measured in one run, printed as ratios
 * between things measured in that same run.
 */
import { benchRewards } from './rewards';
import { benchTrain, benchSuiteEstimate } from './train';
import { cpus } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchProfile } from './profile';
import { benchData } from './data';
import { benchService } from './service';
import { benchTorch } from './torch';
import { benchLora } from './lora';
import { benchProducts } from './products';
import { openblasCoreTypeHint } from '../lib/native/addon';

const BENCHES: Record<string, () => Promise<unknown>> = {
  rewards: benchRewards,
  train: async () => benchSuiteEstimate(await benchTrain(), cpus().length),
  profile: () => benchProfile(),
  products: () => benchProducts(),
  data: benchData,
  service: () => benchService(),
  torch: () => benchTorch(),
  lora: () => benchLora(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (process.argv.includes('--help')) {
  console.log(`usage: npm run bench [-- <name> ...]\nbenchmarks: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(0);
}
for (const name of wanted)
  if (!(name in BENCHES)) {
    console.error(`unknown benchmark "${name}"; choose from: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
const selected = Object.keys(BENCHES).filter((name) => !wanted.length || wanted.includes(name));
// Each benchmark of several runs in a process of its own, so that none measures in what an earlier
// one left behind: after the cpu backend's steps, in the same process, the GRPO step measured next
// took 154 → 180 ms (one thread, Zen 5) and PyTorch's beside it 344 → 448 ms (the cpu backend keeps
// its tensors in JavaScript arrays; what it leaves behind was not profiled further).
const child = process.env.RSG_BENCH_SECTION === '1';
if (!child) {
  console.log(`# rsground-lab benchmarks (node ${process.version}, ${new Date().toISOString()})`);
  const coreHint = openblasCoreTypeHint();
  if (coreHint) console.log(`\nnote: ${coreHint}`);
}
if (child || selected.length === 1) for (const name of selected) await BENCHES[name]();
else
  for (const name of selected) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], {
      stdio: 'inherit',
      env: { ...process.env, RSG_BENCH_SECTION: '1' },
    });
    if (r.status !== 0) {
      console.error(`bench ${name}: exited with ${r.status ?? r.signal}`);
      process.exitCode = 1;
    }
  }
