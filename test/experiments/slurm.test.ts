/**
 * The Slurm executor. Everywhere: the job script, the resource config's errors, and the error
 * without Slurm. With RSG_SLURM=1 (CI starts a one-node cluster, scripts/slurm-local.sh): a tiny
 * quick experiment run locally and on Slurm gives byte-identical metrics.jsonl and evaluations; a
 * second submission submits nothing; a queued graph is depended on, not resubmitted, and
 * `cancel` cancels it; a job cancelled mid-training resumes to the same result.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/files';
import { jobName, jobScript, slurmConfig, slurmUnavailable } from '../../experiments/slurm';
import type { Task } from '../../experiments/scheduler';
import { DEFAULT_SFT, type BaseSpec } from '../../lib/pipeline';
import { DEFAULT_POLICY } from '../../lib/model/network';

const tmp = mkdtempSync(join(tmpdir(), 'rsg-slurm-'));
const figures = join(tmp, 'figures');

function cli(args: string[], runs: string, env: Record<string, string> = {}) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'experiments', 'cli.ts'), ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, RSG_RUNS_DIR: runs, RSG_FIGURES_DIR: figures, ...env },
    maxBuffer: 64 << 20,
  });
  return { ...r, out: `${r.stdout}\n${r.stderr}`, seconds: (Date.now() - t0) / 1000 };
}

const base: BaseSpec = {
  kind: 'base',
  arch: { ...DEFAULT_POLICY },
  seed: 3,
  sft: { ...DEFAULT_SFT, steps: 10 },
  curriculum: [{ until: 1, data: { split: 'generic', count: 10 } }],
  eval: { split: 'val', count: 2 },
};
const task: Task = { kind: 'train', spec: base };

test('a job script names the job by runs directory and stage, checks it sees the runs, and runs the worker', () => {
  const runs = join(tmp, 'runs-script');
  process.env.RSG_RUNS_DIR = runs;
  try {
    const s = jobScript(
      task,
      { cpus: 2, mem: '4G', time: '1:00:00', partition: 'debug', gres: 'gpu:1' },
      {
        taskFile: '/x/task.json',
        backend: 'tensorflow',
      },
    );
    const name = jobName(task);
    assert.match(name, /^rsg-[0-9a-f]{6}-base-[0-9a-f]{12}$/);
    assert.ok(s.startsWith('#!/bin/bash\n'));
    for (const line of [
      `#SBATCH --job-name=${name}`,
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --mem=4G',
      '#SBATCH --time=1:00:00',
      '#SBATCH --partition=debug',
      '#SBATCH --gres=gpu:1',
      `RUNS='${runs}'`,
      "RSG_BACKEND='tensorflow'",
      "experiments/worker.ts '/x/task.json'",
    ])
      assert.ok(s.includes(line), `missing: ${line}`);
    assert.match(s, /--output=.*worker\.log/);
    assert.match(s, /not visible \(or not writable\)/);
    // another runs directory, another job name for the same stage
    assert.is.not(jobName(task, '/elsewhere/runs'), name);
    // the script itself is valid bash
    const f = join(tmp, 'job.sbatch');
    writeFileSync(f, s);
    assert.is(spawnSync('bash', ['-n', f]).status, 0);
  } finally {
    delete process.env.RSG_RUNS_DIR;
  }
});

test('resources: flags override the file; bad fields are named with what is allowed', () => {
  const f = join(tmp, 'slurm.json');
  writeFileSync(f, JSON.stringify({ default: { partition: 'cpu', mem: '2G' }, grpo: { gres: 'gpu:1', cpus: 4 } }));
  const c = slurmConfig({ mem: '8G' }, f);
  assert.equal(c.default, { partition: 'cpu', mem: '8G' });
  assert.equal(c.grpo, { gres: 'gpu:1', cpus: 4 });
  writeFileSync(f, JSON.stringify({ grpo: { cpu: 4 }, eval: { time: 'soon' } }));
  assert.throws(() => slurmConfig({}, f), /grpo\.cpu: unknown key \(allowed: partition, cpus, mem, time, gres\)/);
  writeFileSync(f, JSON.stringify({ eval: { time: 'soon' } }));
  assert.throws(() => slurmConfig({}, f), /eval\.time = "soon": must be a Slurm time like 90, 2:00:00/);
  assert.throws(() => slurmConfig({ mem: 'lots' }), /default\.mem = "lots": must be a size like 4G/);
  writeFileSync(f, '{ not json');
  assert.throws(() => slurmConfig({}, f), /--slurm-config .*slurm\.json: not JSON/);
  assert.throws(() => slurmConfig({}, join(tmp, 'none.json')), /--slurm-config .*none\.json: no such file/);
});

test('without Slurm, --executor slurm is a clear error saying what is missing', () => {
  const missing = slurmUnavailable(() => ({ status: null, stdout: '', stderr: '', error: new Error('ENOENT') }));
  assert.match(missing!, /`sbatch` is not on PATH/);
  const r = cli(['quickstart', '--quick', '--executor', 'slurm'], join(tmp, 'runs-none'), { PATH: '/nonexistent' });
  assert.is(r.status, 2, r.out);
  assert.match(r.out, /--executor slurm needs Slurm: `sbatch` is not on PATH/);
  const w = cli(['quickstart', '--quick', '--wait'], join(tmp, 'runs-none'));
  assert.match(w.out, /--wait and --slurm-\* options need --executor slurm/);
});

const slurm = process.env.RSG_SLURM === '1';
if (!slurm) console.log('Slurm integration tests skipped (RSG_SLURM=1 runs them on a cluster; .ci/run starts one)');
const it = slurm ? test : test.skip;

// A quick experiment small enough for CI: a 200-step base (checkpoints every 50), two 2-step GRPO
// variants, three evaluations.
const TINY = [
  'base.steps=200',
  'base.count=200',
  'grpo.steps=2',
  'grpo.evalEvery=1',
  'grpo.checkpointEvery=1',
  'data.train=16',
  'data.val=4',
  'data.test=8',
].flatMap((s) => ['--set', s]);
const EXP = ['quickstart', '--quick', ...TINY];

/** Every file of every stage that a rerun must reproduce: metrics.jsonl and evaluation results. */
function results(runs: string): Map<string, string> {
  const out = new Map<string, string>();
  const store = join(runs, '_store');
  for (const stage of readdirSync(store)) {
    const dir = join(store, stage);
    if (existsSync(join(dir, 'metrics.jsonl')))
      out.set(`${stage}/metrics.jsonl`, readFileSync(join(dir, 'metrics.jsonl'), 'utf8'));
    if (existsSync(join(dir, 'eval')))
      for (const f of readdirSync(join(dir, 'eval')))
        out.set(`${stage}/eval/${f}`, readFileSync(join(dir, 'eval', f), 'utf8'));
  }
  return out;
}

function sameResults(a: Map<string, string>, b: Map<string, string>, what: string): void {
  assert.equal([...b.keys()].sort(), [...a.keys()].sort(), `${what}: the same files`);
  for (const [k, v] of a) assert.ok(b.get(k) === v, `${what}: ${k} differs`);
}

const ourJobs = () =>
  spawnSync('squeue', ['-h', '-o', '%j'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((n) => n.startsWith('rsg-'));

async function until(cond: () => boolean, seconds: number, what: string): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

let local: Map<string, string>;
let localSeconds = 0;

it('local reference run', () => {
  const r = cli([...EXP, '--executor', 'local'], join(tmp, 'runs-local'));
  assert.is(r.status, 0, r.out.slice(-3000));
  local = results(join(tmp, 'runs-local'));
  localSeconds = r.seconds;
  assert.ok(local.size >= 6, `found ${[...local.keys()]}`);
});

it('--executor slurm --wait: the same metrics.jsonl and evaluations, byte for byte; again submits nothing', () => {
  const runs = join(tmp, 'runs-slurm');
  const r = cli([...EXP, '--executor', 'slurm', '--wait'], runs);
  assert.is(r.status, 0, r.out.slice(-3000));
  assert.match(r.out, /3 job\(s\) submitted, 0 already queued or running, 0 task\(s\) already done/);
  assert.match(r.out, /after job \d+/);
  assert.ok(existsSync(join(figures, 'quick', 'quickstart.md')));
  sameResults(local, results(runs), 'slurm vs local');
  console.log(`SLURM overhead: local ${localSeconds.toFixed(1)} s, slurm --wait ${r.seconds.toFixed(1)} s`);
  const again = cli([...EXP, '--executor', 'slurm'], runs);
  assert.is(again.status, 0, again.out);
  assert.match(again.out, /nothing to submit: every stage is trained/);
  assert.equal(ourJobs(), []);
  const st = cli(['status', ...EXP], runs);
  assert.match(st.out, /quickstart at quick scale: 3 done, 0 running, 0 queued/);
});

it('a graph already queued is depended on, not resubmitted; cancel cancels it', async () => {
  const runs = join(tmp, 'runs-queued');
  const first = cli([...EXP, '--executor', 'slurm'], runs);
  assert.match(first.out, /3 job\(s\) submitted/);
  const second = cli([...EXP, '--executor', 'slurm'], runs);
  assert.match(second.out, /0 job\(s\) submitted, 3 already queued or running/);
  assert.is(ourJobs().length, 3);
  const st = cli(['status', ...EXP], runs);
  assert.match(st.out, /job +log|\d+ +\/.*worker\.log/);
  const c = cli(['cancel', ...EXP], runs);
  assert.match(c.out, /cancelled \d+ \(rsg-/);
  await until(() => ourJobs().length === 0, 60, 'the cancelled jobs to leave the queue');
});

it('a job cancelled mid-training resumes from its checkpoint to the same result', async () => {
  const runs = join(tmp, 'runs-cancel');
  const sub = cli([...EXP, '--executor', 'slurm'], runs);
  assert.is(sub.status, 0, sub.out);
  const baseDir = () => readdirSync(join(runs, '_store')).find((d) => d.startsWith('base-'));
  const steps = () => {
    const d = baseDir();
    const f = d && join(runs, '_store', d, 'metrics.jsonl');
    if (!f || !existsSync(f)) return 0;
    const lines = readFileSync(f, 'utf8').trim().split('\n');
    return Math.max(
      0,
      ...lines.map((l) => {
        try {
          return (JSON.parse(l) as { step?: number }).step ?? 0;
        } catch {
          return 0; // a line being written
        }
      }),
    );
  };
  await until(() => steps() >= 80, 300, 'the base stage to pass step 80');
  const c = cli(['cancel', ...EXP], runs);
  assert.match(c.out, /cancelled/);
  await until(() => ourJobs().length === 0, 60, 'the cancelled jobs to leave the queue');
  const st = cli(['status', ...EXP], runs);
  assert.match(st.out, /failed or cancelled/);
  const r = cli([...EXP, '--executor', 'slurm', '--wait'], runs);
  assert.is(r.status, 0, r.out.slice(-3000));
  sameResults(local, results(runs), 'cancelled and resumed vs local');
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
