/** `npm run experiment <name> -- [options]`: run an experiment at a scale, print and export its results. */
import { parseArgs } from 'node:util';
import { EXPERIMENTS, findExperiment } from './registry';
import { SCALE_NAMES, type Scale, defaultJobs } from './framework';
import { runExperiment, resolveConfig } from './runner';
import { BACKENDS } from '../lib/backend';
import { runsDir } from '../lib/files';
import { trainSuite, writeSuiteReport } from './suite';
import { SUITE } from './registry';

const HELP = `usage: npm run experiment <name> [-- options]
       npm run experiment -- --list

options:
  --quick               run at quick scale (minutes; for CI and a first look)
  --scale <s>           ${SCALE_NAMES.join(' | ')} (default: default)
  --seed <n>            one seed
  --seeds <a,b,c>       several seeds (tables report mean ± 95% CI)
  --set key=value       override a config value by dotted path, e.g. --set grpo.steps=300
                        --set grpo.reward.beta=0.2 --set arch.dModel=128 (repeatable)
  --jobs <n>            parallel worker processes (default: ${defaultJobs()}, one per core; $RSG_JOBS)
  --backend <b>         ${BACKENDS.join(' | ')} (default: auto; $RSG_BACKEND)
  --no-train            only rebuild the report from finished runs
  --show-config         print the resolved config and exit
  --list                list experiments
  -h, --help            this text

Runs go to ${runsDir()} ($RSG_RUNS_DIR): finished runs are reused, interrupted ones resume.
Figures and tables go to figures/ (default scale) or figures/<scale>/.

experiments:
  ${'suite'.padEnd(20)} the nine paper experiments, learning and learning-knobs in one worker pool, then figures/REPORT.md
${EXPERIMENTS.map((e) => `  ${e.name.padEnd(20)} ${e.description}  [${e.paper}]`).join('\n')}
`;

function printTable(header: string[], rows: string[][]): void {
  const w = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((x, c) => (x ?? '').padEnd(w[c])).join('  ');
  console.log(line(header));
  console.log(w.map((n) => '─'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean' }, scale: { type: 'string' }, seed: { type: 'string' }, seeds: { type: 'string' },
      set: { type: 'string', multiple: true }, jobs: { type: 'string' }, backend: { type: 'string' },
      list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, 'show-config': { type: 'boolean' }, 'no-train': { type: 'boolean' },
    },
  });
  if (values.list) { for (const e of EXPERIMENTS) console.log(e.name); return; }
  if (values.help || positionals.length === 0) { console.log(HELP); return; }
  const name = positionals[0];
  const exp = name === 'suite' ? null : findExperiment(name);
  const int = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
    return n;
  };
  const scale = (values.quick ? 'quick' : values.scale ?? 'default') as Scale;
  const seeds = values.seed !== undefined ? [int('seed', values.seed)] : values.seeds !== undefined ? values.seeds.split(',').map((s) => int('seeds', s.trim())) : undefined;
  if (values.backend && !(BACKENDS as readonly string[]).includes(values.backend)) throw new Error(`--backend ${values.backend} is invalid (allowed: ${BACKENDS.join(', ')})`);
  const jobs = values.jobs !== undefined ? Math.max(1, int('jobs', values.jobs)) : undefined;
  const opts = { scale, seeds, set: values.set, jobs, backend: values.backend, noTrain: values['no-train'] };
  const t0 = Date.now();
  if (!exp) {
    if (values['show-config']) { for (const e of SUITE) console.log(e.name, JSON.stringify(resolveConfig(e.name, opts).config)); return; }
    console.log(`the suite (${SUITE.map((e) => e.name).join(', ')}) at ${scale} scale`);
    if (!opts.noTrain) await trainSuite(opts);
    const { path, claims, notRun } = await writeSuiteReport([...SUITE.map((e) => e.name), 'reward-table'], { ...opts, scale });
    for (const c of claims) console.log(`[${c.verdict}] ${c.text} — ${c.evidence}`);
    for (const n of notRun) console.log(`not run: ${n}`);
    console.log(`\n${path}: the report\nsuite finished in ${((Date.now() - t0) / 60000).toFixed(1)} min`);
    return;
  }
  if (values['show-config']) { console.log(JSON.stringify(resolveConfig(exp.name, opts).config, null, 2)); return; }
  console.log(`${exp.name} [${exp.paper}] at ${scale} scale`);
  const { report, written } = await runExperiment(exp.name, opts);
  for (const t of report.tables) {
    console.log(`\n${t.table.title}`);
    printTable(t.table.header, t.table.rows);
    if (t.table.note) console.log(t.table.note);
  }
  for (const c of report.claims) console.log(`\n[${c.verdict}] ${c.text} — ${c.evidence}`);
  if (written.length) console.log(`\nwrote ${written.join(', ')}`);
  console.log(`\n${exp.name} finished in ${((Date.now() - t0) / 60000).toFixed(1)} min`);
}

main().catch((e) => { console.error(`error: ${(e as Error).message}`); process.exit(2); });
