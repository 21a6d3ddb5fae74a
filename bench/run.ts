/**
 * `npm run bench [-- <name> ...]`: every benchmark, measured in one run, printed as ratios
 * between things measured in that same run.
 */
import { benchRewards } from './rewards';
import { benchTrain, benchSuiteEstimate } from './train';
import { cpus } from 'node:os';
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
console.log(`# rsground-lab benchmarks (node ${process.version}, ${new Date().toISOString()})`);
const coreHint = openblasCoreTypeHint();
if (coreHint) console.log(`\nnote: ${coreHint}`);
for (const [name, fn] of Object.entries(BENCHES)) if (!wanted.length || wanted.includes(name)) await fn();
