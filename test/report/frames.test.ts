import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runRows, runsFrame } from '../../lib/report/frames';

test('runsFrame: every metrics record of every linked run, with its identity, groupable', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rsg-frames-'));
  try {
    const stage = (name: string, seed: number, lines: object[]) => {
      mkdirSync(join(root, '_store', name), { recursive: true });
      writeFileSync(
        join(root, '_store', name, 'config.json'),
        JSON.stringify({ spec: { kind: 'grpo', seed }, hash: name.slice(5) }),
      );
      writeFileSync(
        join(root, '_store', name, 'metrics.jsonl'),
        lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"step": 9, "rew',
      ); // a torn last line is dropped
    };
    stage('grpo-aaaaaaaaaaaa', 1, [
      { step: 1, 'reward/iou': 0.1 },
      { step: 2, 'reward/iou': 0.3 },
      { step: 2, 'eval/acc50': 0.5 },
    ]);
    stage('grpo-bbbbbbbbbbbb', 2, [
      { step: 1, 'reward/iou': 0.2 },
      { step: 2, 'reward/iou': 0.5 },
    ]);
    mkdirSync(join(root, 'table1'));
    symlinkSync('../_store/grpo-aaaaaaaaaaaa', join(root, 'table1', 'grpo-s1'));
    symlinkSync('../_store/grpo-bbbbbbbbbbbb', join(root, 'table1', 'grpo-s2'));
    const rows = runRows({ root });
    assert.is(rows.length, 5);
    assert.equal(rows[2], {
      experiment: 'table1',
      run: 'grpo-s1',
      stage: 'grpo-aaaaaaaaaaaa',
      kind: 'grpo',
      seed: 1,
      step: 2,
      'reward/iou': null,
      'eval/acc50': 0.5,
    });
    const df = await runsFrame({ root });
    assert.equal(df.shape, [5, 8]);
    // Mean rollout IoU per step over seeds: step 1 → 0.15, step 2 → 0.4.
    const steps = df.loc({
      rows: (df.column('reward/iou').isNa().values as boolean[]).map((x) => !x),
      columns: ['step', 'reward/iou'],
    });
    const g = steps.groupby(['step']).col(['reward/iou']).mean();
    const means = Object.fromEntries((g.values as number[][]).map(([s, v]) => [s, +v.toFixed(10)]));
    assert.equal(means, { 1: 0.15, 2: 0.4 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
