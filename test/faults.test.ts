/**
 * Fault injection, as a standing guarantee (fast enough for CI):
 * - kill -9 at random points of each stage kind (base, SFT, GRPO) and of an evaluation, then
 *   resume: every result byte-identical to the uninterrupted run;
 * - torn or damaged writes of each file a run writes, then resume: byte-identical again, or a
 *   clear error naming the file — never training on damaged state;
 * - a fuzz of configuration values and of dataset files: each case a clear error naming the key
 *   or the file, or a correct result; never a stack trace from inside or a NaN.
 * The counts are printed (FAULTS …) for the README's reliability section.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { selectBackend } from '../lib/backend';
import {
  type BaseSpec,
  type GrpoSpec,
  type SftSpec,
  type StageSpec,
  DEFAULT_GRPO,
  DEFAULT_SFT,
  evalFile,
  evaluateStage,
  runLineage,
  stageDir,
} from '../lib/pipeline';
import { PROJECT_ROOT } from '../lib/files';
import { Rng } from '../lib/rng';
import { applySet, validateCommon } from '../experiments/config';
import { SCALES } from '../experiments/scales';
import { loadDiorRsvg, loadRrsisD, loadVrsbenchVg } from '../lib/data/loaders';
import { isValidBox } from '../lib/boxes';
import { TINY } from './helpers';

await selectBackend('wasm');
process.env.RSG_BACKEND = 'wasm'; // workers too: one backend, so results compare byte for byte

const base: BaseSpec = {
  kind: 'base',
  arch: { ...TINY, stemHidden: 0, positionReadout: true },
  seed: 5,
  sft: { ...DEFAULT_SFT, steps: 16, batchSize: 4, checkpointEvery: 3, evalEvery: 5 },
  curriculum: [
    { until: 0.5, data: { split: 'generic-easy', count: 12 } },
    { until: 1, data: { split: 'train', count: 12 } },
  ],
  eval: { split: 'val', count: 4 },
};
const sft: SftSpec = {
  kind: 'sft',
  from: base,
  seed: 6,
  sft: { ...DEFAULT_SFT, steps: 10, batchSize: 4, checkpointEvery: 3, evalEvery: 4 },
  data: { split: 'train', count: 12 },
  eval: { split: 'val', count: 4 },
};
const grpo: GrpoSpec = {
  kind: 'grpo',
  from: sft,
  seed: 7,
  grpo: { ...DEFAULT_GRPO, steps: 8, queriesPerStep: 2, group: 3, maxLen: 16, checkpointEvery: 2, evalEvery: 3 },
  data: { split: 'train', count: 12 },
  eval: { split: 'val', count: 4 },
};
const evalRef = { split: 'test', count: 1200 };
const root = mkdtempSync(join(tmpdir(), 'rsg-faults-'));
const counts = {
  killAfterFinish: 0,
  killTrials: 0,
  killSurvived: 0,
  tornTrials: 0,
  tornSurvived: 0,
  configCases: 0,
  configOk: 0,
  dataCases: 0,
  dataOk: 0,
};

function withRunsDir<T>(dir: string, f: () => Promise<T>): Promise<T> {
  const prev = process.env.RSG_RUNS_DIR;
  process.env.RSG_RUNS_DIR = dir;
  return f().finally(() => {
    process.env.RSG_RUNS_DIR = prev;
  });
}

/** Start a worker on a task in runs dir `dir`. */
function worker(dir: string, task: object): ChildProcess {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `task-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(task));
  return spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'experiments', 'worker.ts'), file], {
    env: { ...process.env, RSG_RUNS_DIR: dir, RSG_BLAS_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}
const exited = (c: ChildProcess) =>
  new Promise<number>((r) => (c.exitCode !== null ? r(c.exitCode) : c.on('close', (code) => r(code ?? 1))));

const refDir = join(root, 'reference');
const files = (dir: string, spec: StageSpec) => ({
  metrics: join(dir, '_store', stageDir(spec).split('/_store/')[1], 'metrics.jsonl'),
  stage: join(dir, '_store', stageDir(spec).split('/_store/')[1]),
});
let reference: Record<string, string> = {};

test('reference: the lineage and an evaluation, uninterrupted', async () => {
  await withRunsDir(refDir, async () => {
    await runLineage(grpo, { quiet: true, log: () => {} });
    await evaluateStage(grpo, evalRef);
    reference = {
      base: readFileSync(join(stageDir(base), 'metrics.jsonl'), 'utf8'),
      sft: readFileSync(join(stageDir(sft), 'metrics.jsonl'), 'utf8'),
      grpo: readFileSync(join(stageDir(grpo), 'metrics.jsonl'), 'utf8'),
      eval: readFileSync(evalFile(grpo, evalRef), 'utf8'),
    };
  });
  assert.ok(reference.grpo.includes('eval/acc50'));
});

/** A fresh runs dir holding the reference's finished copies of `upstream` stages (without their evaluations). */
function scratchWith(name: string, upstream: StageSpec[]): string {
  const d = join(root, name);
  for (const s of upstream) {
    cpSync(files(refDir, s).stage, files(d, s).stage, { recursive: true });
    rmSync(join(files(d, s).stage, 'eval'), { recursive: true, force: true });
  }
  return d;
}

const rng = new Rng(20261130);
/** An evaluation worker's start-up, and its evaluation time, in ms (measured once, below). */
let evalStart = 2000,
  evalSpan = 1000;
const KILLS: [string, StageSpec, StageSpec[], number][] = [
  ['base', base, [], 3],
  ['sft', sft, [base], 2],
  ['grpo', grpo, [base, sft], 4],
  ['eval', grpo, [base, sft, grpo], 2],
];
test('time an evaluation worker (to kill it mid-evaluation)', async () => {
  const d = scratchWith('eval-timing', [base, sft, grpo]);
  const t0 = Date.now();
  const c = worker(d, { kind: 'eval', spec: grpo, ref: { split: 'test', count: 1 } });
  assert.is(await exited(c), 0);
  evalStart = Date.now() - t0; // start-up, plus a negligible one-sample evaluation
  const t1 = Date.now();
  assert.is(await exited(worker(d, { kind: 'eval', spec: grpo, ref: evalRef })), 0);
  evalSpan = Math.max(100, Date.now() - t1 - evalStart - 200);
  console.log(`eval worker: start-up ${evalStart} ms, evaluation ${evalSpan} ms`);
  rmSync(d, { recursive: true, force: true });
});

for (const [kind, spec, upstream, trials] of KILLS) {
  test(`kill -9 during ${kind} (${trials} trials), then resume: byte-identical results`, async () => {
    for (let t = 0; t < trials; t++) {
      counts.killTrials++;
      const d = scratchWith(`kill-${kind}-${t}`, upstream);
      const task = kind === 'eval' ? { kind: 'eval', spec, ref: evalRef } : { kind: 'train', spec };
      const steps = spec.kind === 'grpo' ? spec.grpo.steps : spec.sft.steps;
      const killAt = rng.int(1, steps - 1);
      // Kill once the stage has logged `killAt` steps (or, for an evaluation, at a random moment of
      // it). A worker that finishes first (a loaded machine) is restarted and killed sooner.
      let c: ChildProcess | null = null;
      for (let attempt = 0; attempt < 4; attempt++) {
        c = worker(d, task);
        const evalKill = Date.now() + (evalStart + Math.round(evalSpan * (0.2 + 0.6 * rng.float()))) / (attempt + 1);
        const deadline = Date.now() + 60_000;
        for (;;) {
          await new Promise((r) => setTimeout(r, 20));
          if (c.exitCode !== null || Date.now() > deadline) break;
          if (kind === 'eval') {
            if (Date.now() > evalKill) break;
            continue;
          }
          const m = files(d, spec).metrics;
          const logged = existsSync(m)
            ? readFileSync(m, 'utf8')
                .split('\n')
                .filter((l) => /"step":/.test(l) && /(sft\/loss|reward\/total)/.test(l)).length
            : 0;
          if (logged >= killAt) break;
        }
        if (c.exitCode === null) break;
        counts.killAfterFinish++;
        rmSync(d, { recursive: true, force: true });
        scratchWith(`kill-${kind}-${t}`, upstream);
      }
      assert.is(c!.exitCode, null, `${kind} trial ${t}: the worker finished before every kill attempt`);
      c!.kill('SIGKILL');
      await exited(c!);
      const again = worker(d, task);
      assert.is(await exited(again), 0, `resume of ${kind} trial ${t} failed`);
      if (kind === 'eval')
        assert.is(
          readFileSync(join(files(d, spec).stage, 'eval', `${evalRef.split}-${evalRef.count}.json`), 'utf8'),
          reference.eval,
        );
      else
        assert.is(
          readFileSync(files(d, spec).metrics, 'utf8'),
          reference[kind],
          `${kind} trial ${t} (killed at step ${killAt})`,
        );
      counts.killSurvived++;
      rmSync(d, { recursive: true, force: true });
    }
  });
}

/** Damage applied to a copy of the finished GRPO stage whose summary.json was removed (as if it died at the end). */
const TORN: [string, (stage: string) => void, 'same' | RegExp][] = [
  [
    'metrics.jsonl: a torn last line',
    (s) => appendFileSync(join(s, 'metrics.jsonl'), '{"grpo/kl":0.01,"step":'),
    'same',
  ],
  ['timing.jsonl: a torn last line', (s) => appendFileSync(join(s, 'timing.jsonl'), '{"step": 9, "sam'), 'same'],
  ['summary.json: truncated', (s) => writeFileSync(join(s, 'summary.json'), '{"kind": "gr'), 'same'],
  ['config.json: truncated', (s) => writeFileSync(join(s, 'config.json'), '{"spec'), 'same'],
  [
    'checkpoint/model.safetensors: truncated',
    (s) => truncateSync(join(s, 'checkpoint', 'model.safetensors'), 300),
    'same',
  ],
  [
    'checkpoint/optimizer.safetensors: a flipped byte',
    (s) => {
      const f = join(s, 'checkpoint', 'optimizer.safetensors');
      const b = readFileSync(f);
      b[b.length - 3] ^= 1;
      writeFileSync(f, b);
    },
    'same',
  ],
  ['checkpoint/state.json: truncated', (s) => writeFileSync(join(s, 'checkpoint', 'state.json'), '{"st'), 'same'],
  [
    'checkpoint/checksums.json: garbage',
    (s) => writeFileSync(join(s, 'checkpoint', 'checksums.json'), '\u0000\u0001'),
    'same',
  ],
  ['checkpoint/tokenizer.json: truncated', (s) => truncateSync(join(s, 'checkpoint', 'tokenizer.json'), 10), 'same'],
  [
    'lock: an unreadable lock file left behind',
    (s) => {
      writeFileSync(join(s, 'lock'), '');
      const old = new Date(Date.now() - 3600_000);
      utimesSync(join(s, 'lock'), old, old);
    },
    'same',
  ],
  [
    'both checkpoints damaged',
    (s) => {
      for (const d of ['checkpoint', 'checkpoint.prev']) truncateSync(join(s, d, 'model.safetensors'), 100);
    },
    /no usable checkpoint: .*model\.safetensors does not match its checksum/,
  ],
];
for (const [what, damage, expect] of TORN) {
  test(`torn write — ${what}: ${expect === 'same' ? 'resumes to the same metrics' : 'a clear error'}`, async () => {
    counts.tornTrials++;
    const d = scratchWith(`torn-${counts.tornTrials}`, [base, sft, grpo]);
    const stage = files(d, grpo).stage;
    const intact = what.startsWith('summary.json');
    if (!intact) rmSync(join(stage, 'summary.json'));
    damage(stage);
    const c = worker(d, { kind: 'train', spec: grpo });
    let err = '';
    c.stderr!.on('data', (b) => (err += b));
    const code = await exited(c);
    if (expect === 'same') {
      assert.is(code, 0, err.slice(-800));
      assert.is(readFileSync(files(d, grpo).metrics, 'utf8'), reference.grpo);
    } else {
      assert.is.not(code, 0);
      assert.match(err, expect);
      assert.not.ok(existsSync(join(stage, 'summary.json')), 'never marked finished');
    }
    counts.tornSurvived++;
    rmSync(d, { recursive: true, force: true });
  });
}

test('torn write — a damaged evaluation cache is recomputed, not read as NaN', async () => {
  counts.tornTrials++;
  const d = scratchWith('torn-eval', [base, sft, grpo]);
  const f = join(files(d, grpo).stage, 'eval', `${evalRef.split}-${evalRef.count}.json`);
  mkdirSync(join(f, '..'), { recursive: true });
  for (const junk of ['{}', '{"acc50": 0.5', '{"acc50": null, "results": []}']) {
    writeFileSync(f, junk);
    assert.is(await exited(worker(d, { kind: 'eval', spec: grpo, ref: evalRef })), 0);
    assert.is(readFileSync(f, 'utf8'), reference.eval);
  }
  counts.tornSurvived++;
  rmSync(d, { recursive: true, force: true });
});

test('config fuzz: every --set value is accepted valid or rejected naming its key', () => {
  const leaves: string[] = [];
  const walk = (o: Record<string, unknown>, p: string[]) => {
    for (const [k, v] of Object.entries(o)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, [...p, k]);
      else leaves.push([...p, k].join('.'));
    }
  };
  walk(SCALES.default as unknown as Record<string, unknown>, []);
  const keys = [...leaves, 'grpo.lrr', 'arch', 'base.steps.x', 'nope', 'grpo.reward', ''];
  const values = [
    '0',
    '1',
    '-1',
    '0.5',
    '1e9',
    '-0.01',
    '1e400',
    'NaN',
    'null',
    'true',
    'false',
    '"x"',
    'abc',
    '[]',
    '[1,2]',
    '{}',
    '{"a":1}',
    '2.5',
    '',
    '"rsground"',
    '"none"',
    '300',
    '[1,1]',
  ];
  const r = new Rng(3);
  for (let i = 0; i < 400; i++) {
    const k = r.choice(keys),
      v = r.choice(values);
    counts.configCases++;
    try {
      validateCommon(applySet(SCALES.default, `${k}=${v}`));
      counts.configOk++;
    } catch (e) {
      assert.instance(e, Error);
      const msg = (e as Error).message;
      assert.ok(!(e instanceof TypeError), `TypeError for ${k}=${v}: ${msg}`);
      assert.ok(msg.includes(k.split('.')[0]) || msg.includes('--set'), `${k}=${v}: ${msg}`);
      assert.not.match(msg, /undefined is not|Cannot read prop/);
    }
  }
  assert.ok(
    counts.configOk > 10 && counts.configOk < counts.configCases,
    `${counts.configOk} of ${counts.configCases} accepted`,
  );
});

/** Random damage to a text file: delete, duplicate or replace a span, or insert garbage. */
function mutate(text: string, r: Rng): string {
  const a = r.int(0, text.length),
    b = Math.min(text.length, a + r.int(1, 40));
  switch (r.int(0, 5)) {
    case 0:
      return text.slice(0, a) + text.slice(b);
    case 1:
      return text.slice(0, b) + text.slice(a, b) + text.slice(b);
    case 2:
      return (
        text.slice(0, a) +
        r.choice(['-7', '1e309', '0x1f', 'NaN', '', '9'.repeat(30), 'null', '"', '<', '>', ']', '}', '&bogus;']) +
        text.slice(b)
      );
    case 3:
      return text.replace(/\d+(\.\d+)?/g, (m) => (r.bool(0.15) ? r.choice(['-3', '99999', '0', 'x', '1.5e3']) : m));
    case 4:
      return text.slice(0, a);
    default:
      return text.slice(0, a) + String.fromCharCode(r.int(0, 255)) + text.slice(a);
  }
}

test('dataset fuzz: damaged annotation files give an error naming the file, or valid samples', async () => {
  const r = new Rng(11);
  const FIX = join(PROJECT_ROOT, 'test', 'fixtures');
  const check = (out: Awaited<ReturnType<typeof loadDiorRsvg>>) => {
    assert.ok(out.length > 0, 'never a silently empty dataset');
    for (const s of out) {
      assert.ok(isValidBox(s.gt), `invalid box ${JSON.stringify(s.gt)}`);
      assert.ok(
        s.gt.x1 >= 0 && s.gt.y1 >= 0 && s.gt.x2 <= s.image.width && s.gt.y2 <= s.image.height,
        `box outside the image: ${JSON.stringify(s)}`,
      );
      assert.ok(typeof s.query === 'string' && s.query.trim() !== '');
    }
  };
  const cases: [string, string[], (dir: string) => Promise<Awaited<ReturnType<typeof loadDiorRsvg>>>][] = [
    ['dior-rsvg', ['Annotations/00001.xml', 'Annotations/00002.xml', 'train.txt'], (d) => loadDiorRsvg(d, 'train')],
    [
      'vrsbench',
      ['VRSBench_EVAL_referring.json'],
      (d) => loadVrsbenchVg(join(d, 'VRSBench_EVAL_referring.json'), join(d, 'Images_val')),
    ],
    ['rrsisd', ['instances.json', 'refs(unc).json'], (d) => loadRrsisD(d, 'test')],
  ];
  for (let i = 0; i < 300; i++) {
    const [name, targets, load] = cases[i % cases.length];
    const dir = join(root, `fuzz-${i}`);
    cpSync(join(FIX, name), dir, { recursive: true });
    if (name === 'dior-rsvg') writeFileSync(join(dir, 'train.txt'), '0\n1\n3\n');
    const target = join(dir, r.choice(targets));
    writeFileSync(target, mutate(readFileSync(target, 'utf8'), r));
    counts.dataCases++;
    try {
      check(await load(dir));
      counts.dataOk++;
    } catch (e) {
      assert.instance(e, Error, `case ${i}: not an Error`);
      const msg = (e as Error).message;
      if ((e as Error).name === 'Assert') throw e;
      assert.ok(msg.includes(dir), `case ${i} (${target}): the error does not name the file: ${msg}`);
      assert.not.match(msg, /undefined is not|Cannot read prop|NaN/, `case ${i}: ${msg}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(() => {
  console.log(`FAULTS ${JSON.stringify(counts)}`);
  rmSync(root, { recursive: true, force: true });
  void readdirSync;
});
test.run();
