/** `npm run experiment <name> -- [options]`: run an experiment at a scale, print and export its results. */
import { Command, InvalidArgumentError } from 'commander';
import { EXPERIMENTS, SUITE, findExperiment } from './registry';
import { SCALE_NAMES, type Scale } from './scales';
import { defaultJobs, runStages, trainTasks } from './scheduler';
import { SlurmExecutor, cancel, slurmConfig, status, queue, jobPrefix, slurmUnavailable } from './slurm';
import { parseSeeds } from './config';
import { runExperiment, resolveConfig, type RunExperimentOptions } from './runner';
import { suiteFor, trainSuite, writeSuiteReport } from './suite';
import { DATASETS, type DatasetName } from '../lib/data/datasets';
import { join, resolve } from 'node:path';
import { BACKENDS } from '../lib/backend';
import { blasAvailable, openblasCoreTypeHint } from '../lib/native/addon';
import { runsDir } from '../lib/files';
import { deleteStale, listStale, stageName, stageSummary } from '../lib/pipeline';
import { planLines, planStages } from './plan';
import { auditStages, compareRuns, drawAudit, finishedStages } from './audit';

function printTable(header: string[], rows: string[][]): void {
  const w = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((x, c) => (x ?? '').padEnd(w[c])).join('  ');
  console.log(line(header));
  console.log(w.map((n) => '─'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`--${name} must be an integer ≥ 1, got "${v}"`);
  return n;
};
const seedOption = (v: string) => {
  try {
    return parseSeeds(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const oneOfOption = (name: string, allowed: readonly string[]) => (v: string) => {
  if (!allowed.includes(v))
    throw new InvalidArgumentError(`--${name} ${v} is invalid (allowed: ${allowed.join(', ')})`);
  return v;
};

type Options = {
  quick?: boolean;
  scale: Scale;
  seed?: number[];
  seeds?: number[];
  set: string[];
  jobs?: number;
  backend?: string;
  dataset: DatasetName;
  dataRoot?: string;
  train: boolean;
  showConfig?: boolean;
  plan?: boolean;
  list?: boolean;
  listStale?: boolean;
  deleteStale?: boolean;
  audit?: number;
  compare?: string;
  auditSeed: number;
  executor: 'local' | 'slurm';
  wait?: boolean;
  slurmPartition?: string;
  slurmCpus?: number;
  slurmMem?: string;
  slurmTime?: string;
  slurmGres?: string;
  slurmConfig?: string;
};

const program = new Command('npm run experiment')
  .usage('<name> [-- options]')
  .description(
    `Run an experiment, print its tables and verdicts, and export them to figures/.

Runs go to ${runsDir()} ($RSG_RUNS_DIR): finished runs are reused, interrupted ones resume.
Figures and tables go to figures/ (default scale) or figures/<scale>/.`,
  )
  .argument(
    '[name]',
    'the experiment (see --list), "suite" for all of them and figures/REPORT.md, or "status" / "cancel" ' +
      '(Slurm jobs of the experiment named next)',
  )
  .argument('[target]', 'for status and cancel: the experiment (or suite) whose jobs to show or cancel')
  .option('--quick', 'quick scale: a plumbing check in minutes (CI), not a result')
  .option('--scale <scale>', `${SCALE_NAMES.join(' | ')}`, oneOfOption('scale', SCALE_NAMES), 'default')
  .option('--seed <n>', 'one seed', (v) => seedOption(v).slice(0, 1))
  .option('--seeds <list>', 'several seeds, e.g. 1,2,3 (tables report mean ± 95% CI)', seedOption)
  .option(
    '--set <key=value>',
    'override a config value by dotted path, e.g. --set grpo.steps=300 --set grpo.reward.beta=0.2 --set ' +
      'arch.dModel=128 (repeatable)',
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  )
  .option(
    '--jobs <n>',
    `parallel worker processes (default: ${defaultJobs()}, one per core; $RSG_JOBS)`,
    positiveInt('jobs'),
  )
  .option(
    '--dataset <name>',
    `where SFT, GRPO and evaluation read their data: ${DATASETS.join(' | ')} (real images letterboxed to the ` +
      "policy's input, metrics in original pixels)",
    oneOfOption('dataset', DATASETS),
    'synthetic',
  )
  .option('--data-root <dir>', 'the folder that holds --dataset ($RSG_DATA_ROOT)')
  .option('--backend <b>', `${BACKENDS.join(' | ')} (default: auto; $RSG_BACKEND)`, oneOfOption('backend', BACKENDS))
  .option(
    '--executor <e>',
    'local (worker processes here) | slurm (every stage an sbatch job, parents as afterok dependencies)',
    oneOfOption('executor', ['local', 'slurm']),
    'local',
  )
  .option('--wait', 'with --executor slurm: follow the jobs, then evaluate (as jobs) and write the report')
  .option('--slurm-partition <p>', 'Slurm partition for every job')
  .option('--slurm-cpus <n>', 'CPUs per job (default: the stage OpenBLAS threads, 1)', positiveInt('slurm-cpus'))
  .option('--slurm-mem <m>', 'memory per job, e.g. 4G')
  .option('--slurm-time <t>', 'time limit per job, e.g. 2:00:00')
  .option('--slurm-gres <g>', 'generic resources per job, e.g. gpu:1 (for --backend tensorflow)')
  .option(
    '--slurm-config <file>',
    'JSON resources: {"default": {...}, "base": {...}, "sft": {...}, "grpo": {...}, "eval": {...}} with fields ' +
      'partition, cpus, mem, time, gres (flags override "default")',
  )
  .option('--no-train', 'only rebuild the report from finished runs')
  .option('--show-config', 'print the resolved config and exit')
  .option(
    '--plan',
    'print the stages it would train, grouped by cost, each timed by the finished stages of that kind here, ' +
      'and the projected time on --jobs; then exit',
  )
  .option('--list', 'list the experiments')
  .option(
    '--list-stale',
    'list stored runs that the current code would not reuse (older training code, data or config), and exit',
  )
  .option('--delete-stale', 'delete the runs --list-stale lists (and the experiment links to them), and exit')
  .option(
    '--audit <n>',
    'retrain n finished stages of the experiment (or suite), drawn at random, from their stored parents and ' +
      'check they come out byte for byte as stored (recorded in audit.json, cited by REPORT.md); then exit',
    positiveInt('audit'),
  )
  .option('--audit-seed <s>', 'the seed of the --audit draw', positiveInt('audit-seed'), 1)
  .option(
    '--compare <runs dir>',
    'compare every stage of the experiment (or suite) finished both here and in another runs directory, as ' +
      '--audit does (is a rerun or another machine bit for bit the same?); then exit',
  )
  .addHelpText(
    'after',
    [
      '\nexperiments:',
      `  ${'suite'.padEnd(20)} every experiment of the suite in one worker pool, then figures/REPORT.md`,
      ...EXPERIMENTS.map((e) => `  ${e.name.padEnd(20)} ${e.description}  [${e.paper}]`),
    ].join('\n'),
  )
  .showHelpAfterError('(npm run experiment -- --help for the options)');

/** The run options every command shares: scale, seeds, --set, jobs, backend, dataset. */
function commonOptions(values: Options): RunExperimentOptions {
  return {
    scale: values.quick ? 'quick' : values.scale,
    seeds: values.seed ?? values.seeds,
    set: values.set,
    jobs: values.jobs,
    backend: values.backend,
    dataset: {
      name: values.dataset,
      root: values.dataset === 'synthetic' ? '' : resolve(values.dataRoot ?? process.env.RSG_DATA_ROOT ?? ''),
    },
  };
}

/** The Slurm executor the flags ask for (null for local); Slurm's absence is an error here. */
function executorOf(values: Options): SlurmExecutor | null {
  const slurmFlags = [values.slurmPartition, values.slurmCpus, values.slurmMem, values.slurmTime, values.slurmGres];
  if (values.executor !== 'slurm') {
    if (values.wait || values.slurmConfig || slurmFlags.some((v) => v !== undefined))
      throw new Error('--wait and --slurm-* options need --executor slurm');
    return null;
  }
  const missing = slurmUnavailable();
  if (missing) throw new Error(missing);
  const resources = slurmConfig(
    {
      partition: values.slurmPartition,
      cpus: values.slurmCpus,
      mem: values.slurmMem,
      time: values.slurmTime,
      gres: values.slurmGres,
    },
    values.slurmConfig,
  );
  return new SlurmExecutor({ resources, wait: !!values.wait });
}

/** `status [name]`: each stage's state and job; `cancel <name>`: cancel the experiment's jobs. */
function jobsCommand(cmd: 'status' | 'cancel', target: string | undefined, values: Options): void {
  const opts = commonOptions(values);
  if (!target) {
    if (cmd === 'cancel')
      throw new Error('cancel needs the experiment whose jobs to cancel: npm run experiment ' + 'cancel <name>');
    const missing = slurmUnavailable();
    if (missing) throw new Error(missing.replace('--executor slurm', 'status'));
    const prefix = jobPrefix();
    const jobs = [...queue().values()].filter((j) => j.name.startsWith(prefix));
    if (!jobs.length) console.log(`no Slurm jobs of ${runsDir()} in the queue`);
    else
      printTable(
        ['job', 'state', 'task'],
        jobs.map((j) => [j.id, j.state.toLowerCase(), j.name.slice(prefix.length)]),
      );
    return;
  }
  const exps = target === 'suite' ? suiteFor(opts) : [findExperiment(target)];
  const tasks = trainTasks(exps.flatMap((e) => e.specs(resolveConfig(e.name, opts).config)));
  if (cmd === 'cancel') {
    const done = cancel(tasks);
    console.log(
      done.length
        ? `cancelled ${done.map((j) => `${j.id} (${j.name})`).join(', ')}`
        : `no queued or running jobs of ${target}`,
    );
    return;
  }
  const rows = status(tasks);
  printTable(
    ['task', 'what', 'state', 'job', 'log'],
    rows.map((r) => [r.task, r.what, r.state, r.job, r.log]),
  );
  const count = (st: string) => rows.filter((r) => r.state === st).length;
  console.log(
    `\n${target} at ${opts.scale} scale: ${count('done')} done, ${count('running')} running, ${count('queued')} ` +
      `queued, ` +
      `${count('failed or cancelled')} failed or cancelled, ${count('not started')} not started`,
  );
}

async function main(): Promise<void> {
  program.parse();
  const values = program.opts<Options>();
  const name = program.args[0];
  if (values.list) {
    for (const e of EXPERIMENTS) console.log(e.name);
    return;
  }
  if (values.listStale) {
    const stale = listStale();
    if (!stale.length) {
      console.log(`no stale runs in ${runsDir()}`);
      return;
    }
    for (const s of stale)
      console.log(`${s.dir}\n  ${s.reason}${s.linkedFrom.length ? `\n  linked from: ${s.linkedFrom.join(', ')}` : ''}`);
    console.log(
      `\n${stale.length} stale stage(s); the current code trains new ones beside them ` +
        '(`--delete-stale` deletes them to free space)',
    );
    return;
  }
  if (values.deleteStale) {
    const { deleted, kept } = deleteStale();
    for (const s of deleted) console.log(`deleted ${s.dir} (${s.reason})`);
    for (const s of kept) console.log(`kept ${s.dir}: ${s.why}`);
    const mb = deleted.reduce((a, s) => a + s.bytes, 0) / 2 ** 20;
    console.log(
      deleted.length || kept.length
        ? `${deleted.length} stale stage(s) deleted, ${mb.toFixed(1)} MB freed` +
            (kept.length ? `; ${kept.length} kept (in use)` : '')
        : `no stale runs in ${runsDir()}`,
    );
    return;
  }
  if (!name) {
    program.help();
    return;
  }
  if (name === 'status' || name === 'cancel') return jobsCommand(name, program.args[1], values);
  const exp = name === 'suite' ? null : findExperiment(name);
  const scale: Scale = values.quick ? 'quick' : values.scale;
  const opts: RunExperimentOptions = {
    ...commonOptions(values),
    noTrain: !values.train,
  };
  if (values.dataset !== 'synthetic' && !(values.dataRoot ?? process.env.RSG_DATA_ROOT))
    throw new Error(`--dataset ${values.dataset} needs --data-root DIR (or $RSG_DATA_ROOT): the folder that holds it`);
  const t0 = Date.now();
  if (values.showConfig) {
    if (exp) console.log(JSON.stringify(resolveConfig(exp.name, opts).config, null, 2));
    else for (const e of SUITE) console.log(e.name, JSON.stringify(resolveConfig(e.name, opts).config));
    return;
  }
  if (values.plan) {
    const exps = exp ? [exp] : suiteFor(opts);
    const jobs = opts.jobs ?? defaultJobs();
    const specs = exps.flatMap((e) => e.specs(resolveConfig(e.name, opts).config));
    console.log(`${exp ? exp.name : 'the suite'} at ${scale} scale, timed from ${runsDir()}:\n`);
    for (const l of planLines(planStages(specs, jobs), jobs)) console.log(l);
    return;
  }
  if (values.compare !== undefined) {
    const exps = exp ? [exp] : suiteFor(opts);
    const other = resolve(values.compare);
    const rows = compareRuns(
      exps.flatMap((e) => e.specs(resolveConfig(e.name, opts).config)),
      other,
    );
    for (const r of rows.filter((x) => x.identical !== true)) console.log(`${r.stage}: ${r.differences.join('; ')}`);
    const n = (v: boolean | null) => rows.filter((r) => r.identical === v).length;
    console.log(
      `${name} at ${scale} scale, ${runsDir()} against ${other}: ${rows.length} stage(s) finished in both, ` +
        `${n(true)} identical, ${n(false)} differ, ${n(null)} trained on different backends or kernels`,
    );
    if (n(false)) process.exitCode = 1;
    return;
  }
  if (values.audit !== undefined) {
    const exps = exp ? [exp] : suiteFor(opts);
    const specs = exps.flatMap((e) => e.specs(resolveConfig(e.name, opts).config));
    const finished = finishedStages(specs);
    if (!finished.length) throw new Error(`no finished stages of ${name} at ${scale} scale in ${runsDir()} to audit`);
    const drawn = drawAudit(finished, values.audit, values.auditSeed);
    const jobs = opts.jobs ?? defaultJobs();
    const secs = drawn.reduce((a, s) => a + (stageSummary(s)?.seconds ?? 0), 0);
    console.log(
      `auditing ${drawn.length} of the ${finished.length} finished stages of ${name} (draw seed ${values.auditSeed}; ` +
        `they took ${(secs / 60).toFixed(1)} min of training when stored, on ${jobs} job(s) ≈ ` +
        `${(secs / 60 / Math.min(jobs, drawn.length)).toFixed(1)} min):\n  ${drawn.map(stageName).join('\n  ')}`,
    );
    const a = await auditStages(drawn, { seed: values.auditSeed, jobs, backend: opts.backend, log: console.log });
    printTable(
      ['stage', 'trained at', 'stored', 'again', 'result'],
      a.rows.map((r) => [
        r.stage,
        r.trainedAt,
        `${r.storedSeconds.toFixed(0)} s`,
        `${r.seconds.toFixed(0)} s`,
        r.identical === true ? 'identical' : r.identical === null ? 'not compared' : 'DIFFERS',
      ]),
    );
    for (const r of a.rows.filter((x) => x.identical !== true)) console.log(`${r.stage}: ${r.differences.join('; ')}`);
    const same = a.rows.filter((r) => r.identical === true).length;
    console.log(
      `\n${same} of ${a.rows.length} identical (recorded in ${join(runsDir(), 'audit.json')})` +
        (a.scratch ? `; the retrained stages are kept in ${a.scratch}` : ''),
    );
    if (a.rows.some((r) => r.identical === false)) process.exitCode = 1;
    return;
  }
  if (scale === 'quick')
    console.log('quick scale: a plumbing check (every path runs, in minutes); its numbers are not results');
  const backendChoice = opts.backend ?? process.env.RSG_BACKEND ?? 'auto';
  const coreHint = ['auto', 'blas'].includes(backendChoice) && blasAvailable() ? openblasCoreTypeHint() : null;
  if (coreHint) console.log(`note: ${coreHint}`);
  const slurm = executorOf(values);
  opts.executor = slurm ?? undefined;
  if (slurm && !values.wait && values.train) {
    // Submit the training graph and return: the report needs the evaluations, which --wait runs.
    if (!exp) await trainSuite(opts);
    else
      await runStages(exp.specs(resolveConfig(exp.name, opts).config), {
        jobs: 1,
        backend: opts.backend,
        log: console.log,
        executor: slurm,
      });
    const again = process.argv.slice(2).join(' ');
    console.log(
      `\n${slurm.jobs.size ? 'jobs in the queue' : 'nothing to submit: every stage is trained'}. ` +
        `\`npm run experiment status ${name}\` shows them; \`npm run experiment -- ${again} --wait\` follows them ` +
        '(resubmitting nothing), evaluates on Slurm and writes the report.',
    );
    return;
  }
  if (!exp) {
    const suite = suiteFor(opts);
    for (const e of suite) resolveConfig(e.name, opts); // every config valid before anything trains
    console.log(`the suite (${suite.map((e) => e.name).join(', ')}) at ${scale} scale`);
    if (!opts.noTrain) await trainSuite(opts);
    const trained = Date.now();
    const { path, claims, notRun } = await writeSuiteReport([...suite.map((e) => e.name), 'reward-table'], {
      ...opts,
      scale,
    });
    for (const c of claims) console.log(`[${c.verdict}] ${c.text} — ${c.evidence}`);
    for (const n of notRun) console.log(`not run: ${n}`);
    const min = (ms: number) => `${(ms / 60000).toFixed(1)} min`;
    console.log(
      `\n${path}: the report\nsuite finished in ${min(Date.now() - t0)} ` +
        `(training ${min(trained - t0)}; evaluations, figures and the report ${min(Date.now() - trained)})`,
    );
    return;
  }
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

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
});
