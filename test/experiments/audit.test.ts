/**
 * The audit: the draw is seeded and never takes two stages of one lineage; a stage retrained from
 * its stored parent in a scratch directory comes out identical, and any change to what is stored
 * (a metrics line, the weights' checksum, the final evaluation) is named, and a stage stored from
 * another backend is not compared; two runs directories compare stage by stage; audit.json records it
 * and REPORT.md's sentence counts it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_GRPO,
  DEFAULT_SFT,
  runLineage,
  runStage,
  stageDir,
  stageName,
  type BaseSpec,
  type GrpoSpec,
  type SftSpec,
  type StageSpec,
} from '../../lib/pipeline';
import { selectBackend } from '../../lib/backend';
import {
  auditSentence,
  auditStages,
  compareRuns,
  drawAudit,
  finishedStages,
  readAudits,
} from '../../experiments/audit';
import type { Executor, Task } from '../../experiments/scheduler';
import { withTempDirs } from '../helpers';
import { tinyBase } from '../stages';

const base = tinyBase(2);
const sft = (seed: number): SftSpec => ({
  kind: 'sft',
  from: base,
  seed,
  sft: { ...DEFAULT_SFT, steps: 2, batchSize: 4, checkpointEvery: 1, evalEvery: 1 },
  data: { split: 'train', count: 6 },
  eval: { split: 'val', count: 3 },
});
const grpo = (from: StageSpec, seed: number): GrpoSpec => ({
  kind: 'grpo',
  from: from as BaseSpec | SftSpec,
  seed,
  grpo: { ...DEFAULT_GRPO, steps: 2, queriesPerStep: 2, group: 3, maxLen: 12, evalEvery: 1, checkpointEvery: 1 },
  data: { split: 'train', count: 10 },
  eval: { split: 'val', count: 3 },
});

/** Trains in this process (the real trainer, no worker processes): what the tests need of an executor. */
const inProcess: Executor = {
  name: 'in-process',
  async run(tasks: Task[]) {
    for (const t of tasks) if (t.kind === 'train') await runStage(t.spec, { quiet: true, backend: 'wasm' });
  },
};
const opts = { seed: 1, jobs: 1, backend: 'wasm', log: () => {}, executor: inProcess };

test('the draw is seeded, takes at most n, and never two stages of one lineage', () => {
  const a = sft(1),
    b = sft(2);
  const stages: StageSpec[] = [base, a, b, grpo(a, 3), grpo(a, 4), grpo(b, 5), grpo(base, 6)];
  for (let seed = 1; seed <= 40; seed++) {
    const d = drawAudit(stages, 7, seed);
    assert.equal(d.map(stageName), drawAudit(stages, 7, seed).map(stageName), 'same seed, same draw');
    assert.ok(d.length >= 1 && d.length <= 7);
    for (const x of d)
      for (const y of d) {
        if (x === y) continue;
        const line = (s: StageSpec): string[] => (s.kind === 'base' ? [stageName(s)] : [...line(s.from), stageName(s)]);
        assert.not.ok(line(y).includes(stageName(x)), `${stageName(x)} is in the lineage of ${stageName(y)}`);
      }
    assert.ok(drawAudit(stages, 2, seed).length <= 2);
  }
  // with the base drawn nothing else can be; with the leaves drawn, at most the four unrelated ones
  const sizes = new Set(Array.from({ length: 40 }, (_, i) => drawAudit(stages, 7, i + 1).length));
  assert.ok(sizes.has(1) || sizes.size > 1, `draw sizes ${[...sizes]}`);
  assert.ok(Math.max(...sizes) <= 4, `no more than the four leaves: ${[...sizes]}`);
  const firsts = new Set(Array.from({ length: 40 }, (_, i) => stageName(drawAudit(stages, 1, i + 1)[0])));
  assert.ok(firsts.size >= 4, `the seed moves the draw: ${firsts.size} distinct first stages`);
});

test('a stage retrained from its stored parent is identical; a change stored is named', async () => {
  await selectBackend('wasm');
  await withTempDirs(['RSG_RUNS_DIR'], async ({ RSG_RUNS_DIR: home }) => {
    const g = grpo(base, 4);
    await runLineage(g, { quiet: true, backend: 'wasm', log: () => {} });
    assert.equal(finishedStages([g]).map(stageName).sort(), [stageName(base), stageName(g)].sort());

    const first = await auditStages([g], opts);
    assert.is(first.rows.length, 1);
    assert.is(first.rows[0].identical, true, first.rows[0].differences.join('; '));
    assert.equal(first.rows[0].differences, []);
    assert.is(first.scratch, null, 'a clean audit leaves no scratch directory');
    assert.equal(readdirSync(join(home, '_audit')), []);
    assert.is(readAudits().length, 1);
    assert.match(auditSentence([g])!, /1 of these stages.*: 1 of 1 identical/);
    assert.is(auditSentence([sft(9)]), null, 'no audited stage among these specs');

    // what is stored changes: line 2 of metrics.jsonl, then the weights' checksum, then the evaluation
    const dir = stageDir(g);
    const metrics = join(dir, 'metrics.jsonl');
    const lines = readFileSync(metrics, 'utf8').split('\n');
    lines[1] = lines[1].replace(/\d(?=[,}])/, (d) => String((Number(d) + 1) % 10));
    writeFileSync(metrics, lines.join('\n'));
    const sums = join(dir, 'checkpoint', 'checksums.json');
    const c = JSON.parse(readFileSync(sums, 'utf8'));
    c.sha256['model.safetensors'] = '0'.repeat(64);
    writeFileSync(sums, JSON.stringify(c));
    const sumFile = join(dir, 'summary.json');
    const s = JSON.parse(readFileSync(sumFile, 'utf8'));
    s.eval.acc50 += 0.001;
    writeFileSync(sumFile, JSON.stringify(s));

    const second = await auditStages([g], { ...opts, seed: 2 });
    assert.is(second.rows[0].identical, false);
    assert.equal(second.rows[0].differences, [
      'metrics.jsonl line 2',
      'checkpoint model.safetensors',
      'the final evaluation',
    ]);
    assert.ok(second.scratch !== null && existsSync(join(second.scratch, '_store', stageName(g), 'metrics.jsonl')));
    assert.ok(
      lstatSync(join(second.scratch, '_store', stageName(base))).isSymbolicLink(),
      'the parent is linked, not retrained',
    );
    assert.is(readAudits().length, 2);
    assert.match(auditSentence([g])!, /0 of 1 identical \(.*\); \*\*1 differ\*\* \(grpo-\w+: metrics.jsonl line 2/);

    // stored on another backend: not compared, and said so
    writeFileSync(sumFile, JSON.stringify({ ...s, backend: 'tensorflow', backendDetail: 'CUDA' }));
    const third = await auditStages([g], { ...opts, seed: 3 });
    assert.is(third.rows[0].identical, null);
    assert.match(third.rows[0].differences[0], /^trained on tensorflow \(CUDA\), retrained on wasm/);
    assert.match(
      auditSentence([g])!,
      /0 of 1 identical \(.*\); 1 ran on another backend or kernel and were not compared/,
    );
  });
});

test('compareRuns: one lineage trained in two runs directories is identical stage by stage', async () => {
  await selectBackend('wasm');
  const g = grpo(base, 5);
  await withTempDirs(['RSG_RUNS_DIR'], async ({ RSG_RUNS_DIR: other }) => {
    await runLineage(g, { quiet: true, backend: 'wasm', log: () => {} });
    await withTempDirs(['RSG_RUNS_DIR'], async ({ RSG_RUNS_DIR: here }) => {
      assert.equal(compareRuns([g], other), [], 'nothing finished here yet: nothing compared');
      await runLineage(g, { quiet: true, backend: 'wasm', log: () => {} });
      const rows = compareRuns([g], other);
      assert.equal(
        rows.map((r) => [r.stage, r.identical]),
        [
          [stageName(base), true],
          [stageName(g), true],
        ],
      );
      const m = join(other, '_store', stageName(g), 'metrics.jsonl');
      writeFileSync(m, readFileSync(m, 'utf8') + '{"step":99}\n');
      const again = compareRuns([g], other);
      assert.equal(again[1].differences, [`metrics.jsonl line ${readFileSync(m, 'utf8').split('\n').length - 1}`]);
      assert.is(again[1].identical, false);
      assert.is(again[0].identical, true);
      rmSync(join(other, '_store', stageName(g), 'summary.json'));
      assert.equal(
        compareRuns([g], other).map((r) => r.stage),
        [stageName(base)],
        'a stage not finished there is skipped',
      );
      assert.throws(() => compareRuns([g], here + '/nope'), /nope is not a runs directory \(it has no _store\/ folder/);
    });
  });
});

test.run();
