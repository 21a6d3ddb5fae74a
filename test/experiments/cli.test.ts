/** The commands a user types, with bad input: a clear error and a non-zero exit, nothing written. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PROJECT_ROOT, sha256 } from '../../lib/files';

const empty = mkdtempSync(join(tmpdir(), 'rsg-cli-'));
const FIX = join(PROJECT_ROOT, 'test', 'fixtures', 'dior-rsvg');
function run(script: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, script), ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, RSG_RUNS_DIR: empty, RSG_BACKEND: 'wasm', ...env },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}
const noStack = (out: string) => assert.not.match(out, /\n\s+at \S+ \(/, 'no stack trace');

test('npm run figures with an empty runs directory refuses and leaves figures/ untouched', () => {
  const report = join(PROJECT_ROOT, 'figures', 'REPORT.md');
  const before = existsSync(report) ? sha256(readFileSync(report)) + statSync(report).mtimeMs : 'absent';
  const r = run('scripts/figures.ts', []);
  assert.is(r.code, 2);
  assert.match(r.out, /have no finished runs at default scale — nothing was written \(figures\/ is untouched\)/);
  assert.match(r.out, /pass --partial/);
  noStack(r.out);
  assert.is(existsSync(report) ? sha256(readFileSync(report)) + statSync(report).mtimeMs : 'absent', before);
});

test('an unwritable runs directory is named as such', () => {
  const r = run('experiments/cli.ts', ['table1', '--quick'], { RSG_RUNS_DIR: '/etc/hostname/runs' });
  assert.is(r.code, 2);
  assert.match(
    r.out,
    new RegExp(
      String.raw`the runs directory /etc/hostname/runs is not writable \(ENOTDIR: not a directory\); ` +
        String.raw`point \$RSG_RUNS_DIR to a writable folder`,
    ),
  );
  noStack(r.out);
});

test('--audit with nothing finished says so and trains nothing; a count below 1 is refused', () => {
  const r = run('experiments/cli.ts', ['table1', '--audit', '2']);
  assert.is(r.code, 2);
  assert.match(r.out, new RegExp(`no finished stages of table1 at default scale in ${empty} to audit`));
  noStack(r.out);
  assert.not.ok(existsSync(join(empty, '_audit')), 'no scratch directory');
  const bad = run('experiments/cli.ts', ['table1', '--audit', '0']);
  assert.is.not(bad.code, 0);
  assert.match(bad.out, /--audit must be an integer ≥ 1, got "0"/);
});

test('bad options and --set values fail before anything trains, naming the key and what is allowed', () => {
  const cases: [string[], RegExp][] = [
    [['table1', '--jobs', '0'], /--jobs must be an integer ≥ 1, got "0"/],
    [['table1', '--seeds', '1,2,'], /--seeds expects a comma-separated list of integers ≥ 0, got "1,2,"/],
    [['table1', '--set', 'grpo.lr=-0.01'], /grpo\.lr = -0\.01: must be > 0/],
    [['table1', '--set', 'grpo.lrr=1'], /unknown key "grpo\.lrr" \(allowed here: steps, /],
    [['table1', '--set', 'arch.dModel=abc'], /"abc" is not valid JSON \(arch\.dModel is a number\)/],
    [['tabel1'], /unknown experiment "tabel1"; choose from: quickstart, /],
    [['table1', '--backend', 'tpu'], /--backend tpu is invalid \(allowed: auto, tensorflow, blas, wasm, cpu\)/],
    [
      ['table1', '--dataset', 'dior'],
      /--dataset dior is invalid \(allowed: synthetic, dior-rsvg, vrsbench-vg, rrsis-d, exported\)/,
    ],
    [['table1', '--dataset', 'dior-rsvg'], /--dataset dior-rsvg needs --data-root DIR \(or \$RSG_DATA_ROOT\)/],
    [
      ['table1', '--dataset', 'dior-rsvg', '--data-root', '/nonexistent/dior'],
      /dataset\.root = \/nonexistent\/dior: no such folder/,
    ],
    [
      ['table2-ood', '--dataset', 'dior-rsvg', '--data-root', FIX],
      /table2-ood runs on the mini world only: its out-of-domain test sets/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = run('experiments/cli.ts', [...args, '--show-config']);
    assert.is.not(r.code, 0, args.join(' '));
    assert.match(r.out, re);
    noStack(r.out);
  }
  const ok = run('experiments/cli.ts', ['table1', '--show-config', '--set', 'grpo.reward.beta=0.2']);
  assert.is(ok.code, 0, ok.out);
  assert.is(JSON.parse(ok.out).grpo.reward.beta, 0.2);
});

test(
  'a paper experiment on a real benchmark: table1 on the DIOR-RSVG fixture trains, evaluates in original pixels, ' +
    'exports',
  () => {
    const runs = mkdtempSync(join(tmpdir(), 'rsg-real-'));
    const out = join(PROJECT_ROOT, 'figures', 'dior-rsvg', 'quick');
    const tiny = [
      'base.steps=10',
      'base.count=100',
      'sft.steps=2',
      'grpo.steps=1',
      'grpo.evalEvery=1',
      'grpo.checkpointEvery=1',
    ];
    const sets = [...tiny, 'data.train=3', 'data.val=2', 'data.test=2'].flatMap((s) => ['--set', s]);
    try {
      const r = run(
        'experiments/cli.ts',
        ['table1', '--quick', '--dataset', 'dior-rsvg', '--data-root', FIX, ...sets],
        {
          RSG_RUNS_DIR: runs,
        },
      );
      assert.is(r.code, 0, r.out);
      assert.match(r.out, /wrote figures\/dior-rsvg\/quick\/table1\.\{csv,md,tex\}/);
      const csv = readFileSync(join(out, 'table1.csv'), 'utf8');
      assert.match(csv, /RSGround-R1/);
      const prov = JSON.parse(readFileSync(join(out, 'table1.provenance.json'), 'utf8'));
      assert.match(prov.generatedBy, /--dataset dior-rsvg/);
    } finally {
      rmSync(runs, { recursive: true, force: true });
      rmSync(join(PROJECT_ROOT, 'figures', 'dior-rsvg'), { recursive: true, force: true });
    }
  },
);

test.after(() => rmSync(empty, { recursive: true, force: true }));
test.run();
