/** `npm run experiment <name> -- [options]`: run an experiment at a scale, print its results. */
import { parseArgs } from 'node:util';
import { EXPERIMENTS, findExperiment } from './registry';
import { SCALES, SCALE_NAMES, type Scale, type CommonConfig, defaultJobs, runStages } from './framework';
import { BACKENDS, selectBackend } from '../lib/backend';
import { runsDir } from '../lib/files';

const HELP = `usage: npm run experiment <name> [-- options]
       npm run experiment -- --list

options:
  --quick               run at quick scale (minutes; for CI and a first look)
  --scale <s>           ${SCALE_NAMES.join(' | ')} (default: default)
  --seed <n>            one seed
  --seeds <a,b,c>       several seeds (tables report mean ± 95% CI)
  --set key=value       override a config value by dotted path, e.g. --set grpo.steps=300
                        --set grpo.reward.beta=0.2 --set arch.dModel=128 (repeatable)
  --jobs <n>            parallel worker processes (default: one per core, $RSG_JOBS)
  --backend <b>         ${BACKENDS.join(' | ')} (default: auto, $RSG_BACKEND)
  --show-config         print the resolved config and exit
  --list                list experiments
  -h, --help            this text

Runs go to ${runsDir()} ($RSG_RUNS_DIR). Finished runs are reused; interrupted ones resume.

experiments:
${EXPERIMENTS.map((e) => `  ${e.name.padEnd(20)} ${e.description}  [${e.paper}]`).join('\n')}
`;

function printTable(header: string[], rows: string[][]): void {
  const w = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((x, c) => (x ?? '').padEnd(w[c])).join('  ');
  console.log(line(header));
  console.log(w.map((n) => '─'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Set a dotted path in a config; the path must exist (so typos fail loudly). */
export function applySet(cfg: CommonConfig, assignment: string): CommonConfig {
  const eq = assignment.indexOf('=');
  if (eq < 1) throw new Error(`--set expects key=value, got "${assignment}"`);
  const path = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try { value = JSON.parse(raw); } catch { value = raw; }
  const out = structuredClone(cfg) as Record<string, unknown>;
  let node = out;
  for (let i = 0; i < path.length - 1; i++) {
    const next = node[path[i]];
    if (next === undefined || next === null || typeof next !== 'object') {
      throw new Error(`--set ${assignment}: "${path.slice(0, i + 1).join('.')}" is not a config section (sections: ${Object.keys(node).join(', ')})`);
    }
    node = next as Record<string, unknown>;
  }
  const leaf = path[path.length - 1];
  const known = ['grpo', 'arch'].includes(path[0]); // partial sections: new keys allowed, checked when training starts
  if (!(leaf in node) && !known) throw new Error(`--set ${assignment}: unknown key "${leaf}" (allowed here: ${Object.keys(node).join(', ')})`);
  if (leaf in node && typeof node[leaf] !== typeof value && !(typeof node[leaf] === 'object' && typeof value === 'object')) {
    throw new Error(`--set ${assignment}: ${path.join('.')} is a ${typeof node[leaf]}, got ${typeof value} ${JSON.stringify(value)}`);
  }
  node[leaf] = value;
  return out as unknown as CommonConfig;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean' }, scale: { type: 'string' }, seed: { type: 'string' }, seeds: { type: 'string' },
      set: { type: 'string', multiple: true }, jobs: { type: 'string' }, backend: { type: 'string' },
      list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, 'show-config': { type: 'boolean' },
    },
  });
  if (values.list) { for (const e of EXPERIMENTS) console.log(e.name); return; }
  if (values.help || positionals.length === 0) { console.log(HELP); return; }
  const exp = findExperiment(positionals[0]);
  const scale = (values.quick ? 'quick' : values.scale ?? 'default') as Scale;
  if (!SCALE_NAMES.includes(scale)) throw new Error(`--scale ${scale} is invalid (allowed: ${SCALE_NAMES.join(', ')})`);
  let config = exp.configure ? exp.configure(structuredClone(SCALES[scale]), scale) : structuredClone(SCALES[scale]);
  const int = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
    return n;
  };
  if (values.seed !== undefined) config = { ...config, seeds: [int('seed', values.seed)] };
  if (values.seeds !== undefined) config = { ...config, seeds: values.seeds.split(',').map((s) => int('seeds', s.trim())) };
  for (const s of values.set ?? []) config = applySet(config, s);
  if (values.backend && !(BACKENDS as readonly string[]).includes(values.backend)) throw new Error(`--backend ${values.backend} is invalid (allowed: ${BACKENDS.join(', ')})`);
  const jobs = values.jobs !== undefined ? int('jobs', values.jobs) || 1 : defaultJobs();
  if (values['show-config']) { console.log(JSON.stringify(config, null, 2)); return; }
  const t0 = Date.now();
  console.log(`${exp.name} [${exp.paper}] at ${scale} scale, seeds ${config.seeds.join(',')}, ${jobs} job(s)`);
  const pool = { jobs, backend: values.backend, log: (m: string) => console.log(m) };
  await selectBackend(values.backend ?? process.env.RSG_BACKEND ?? 'auto'); // for anything evaluated in this process
  await exp.run({ scale, config, log: (m) => console.log(m), printTable, train: (specs) => runStages(specs, pool), pool });
  console.log(`\n${exp.name} finished in ${((Date.now() - t0) / 60000).toFixed(1)} min`);
}

main().catch((e) => { console.error(`error: ${(e as Error).message}`); process.exit(2); });
