/**
 * lib/train-sft.ts: the completion each sample is taught (hand-written strings), and the loop —
 * it learns (the loss falls on a handful of samples), logs the schedule's learning rate, follows
 * its curriculum, checkpoints when asked, and refuses what it cannot train on.
 * (Resume and leaks: test/train-grpo.test.ts.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../lib/backend';
import { Policy } from '../lib/model/policy';
import { lrAt } from '../lib/model/optimizer';
import { DEFAULT_SFT, targetText, trainSft } from '../lib/train-sft';
import { RunDir } from '../lib/runs';
import { groundingSplit } from '../lib/data/splits';
import type { TaskSample } from '../lib/data/samples';
import { close, rejects, TINY } from './helpers';

const { ops } = await selectBackend(process.env.RSG_TEST_BACKEND ?? 'wasm');
const run = () => new RunDir(mkdtempSync(join(tmpdir(), 'rsg-sft-')));
const image = { width: 64, height: 64 };

test('targetText: answers restate the query; region boxes left to right; traces from the sample', () => {
  const b = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });
  const region: TaskSample = {
    id: 'r',
    image,
    query: 'all ships on the left',
    category: 'ship',
    boxes: [b(30, 2, 40, 9), b(3.4, 5, 9.6, 12)],
  };
  assert.is(
    targetText(region, 'short'),
    '<think>find all ships on the left .</think><answer>[[3, 5, 10, 12], [30, 2, 40, 9]]</answer>',
  );
  const none: TaskSample = { ...region, boxes: [] };
  assert.is(targetText(none, 'short'), '<think>find all ships on the left .</think><answer>[]</answer>');
  const det: TaskSample = {
    task: 'detection',
    id: 'd',
    image,
    query: 'find every ship',
    category: 'ship',
    boxes: [b(1, 1, 5, 5)],
  };
  assert.is(targetText(det, 'short'), '<think>find every ship .</think><answer>[[1, 1, 5, 5]]</answer>');
  const count: TaskSample = {
    task: 'counting',
    id: 'c',
    image,
    query: 'how many ships are there ?',
    category: 'ship',
    count: 3,
    boxes: [],
  };
  assert.is(targetText(count, 'short'), '<think>counting ships .</think><answer>3</answer>');
  const vqa: TaskSample = {
    task: 'vqa',
    id: 'v',
    image,
    query: 'are there ships ?',
    kind: 'presence',
    answer: 'no',
    near: [],
    category: 'ship',
  };
  assert.is(targetText(vqa, 'short'), '<think>are there ships .</think><answer>no</answer>');
  const g: TaskSample = {
    id: 'g',
    image,
    query: 'the ship',
    gt: b(1, 1, 5, 5),
    category: 'ship',
    unique: true,
    meta: { cot: { short: 'S', rsground: 'R' } },
  };
  assert.is(targetText(g, 'short'), 'S');
  assert.is(targetText(g, 'rsground'), 'R');
  assert.throws(() => targetText(g, 'geocot'), /^sample g has no "geocot" completion/);
});

test('trainSft learns (loss halves on four samples); sft/lr is the schedule; checkpoints when asked', async () => {
  const train = groundingSplit('train', { count: 4 });
  const p = Policy.create(TINY, 3, ops);
  const r = run();
  const cfg = { ...DEFAULT_SFT, steps: 40, batchSize: 4, lr: 1e-2, warmup: 5, checkpointEvery: 1000 };
  const res = await trainSft({ policy: p, run: r, train, config: cfg, seed: 2, quiet: true });
  p.dispose();
  const m = r.metrics().filter((x) => typeof x['sft/loss'] === 'number');
  assert.is(m.length, 40);
  assert.equal(
    m.map((x) => x.step),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  m.forEach((x, i) => close(x['sft/lr'] as number, lrAt(i, 40, 1e-2, 5), 1e-15, `lr at step ${i + 1}`));
  const first = m[0]['sft/loss'] as number,
    last = m[39]['sft/loss'] as number;
  assert.ok(last < first / 2, `loss ${first} → ${last}`);
  assert.is(res.finalLoss, last);
  assert.ok(existsSync(r.checkpointDir), 'a checkpoint at the last step (checkpointEvery > steps)');
});

test('curriculum: phase k serves the steps before until·steps; bad curricula and empty sets are refused', async () => {
  // phase 1 is a single sample, phase 2 another: a batch of one repeats its phase's sample, and
  // the per-step loss shows the switch (the policy overfits phase 1, then meets a new target)
  const [a, b] = groundingSplit('train', { count: 2 });
  const p = Policy.create(TINY, 5, ops);
  const r = run();
  const cfg = { ...DEFAULT_SFT, steps: 20, batchSize: 2, lr: 3e-3, warmup: 0, checkpointEvery: 1000 };
  await trainSft({
    policy: p,
    run: r,
    train: [
      { until: 0.5, samples: [a] },
      { until: 1, samples: [b] },
    ],
    config: cfg,
    seed: 1,
    quiet: true,
  });
  const loss = r
    .metrics()
    .filter((x) => typeof x['sft/loss'] === 'number')
    .map((x) => x['sft/loss'] as number);
  assert.ok(loss[10] > loss[9], `the loss jumps when phase 2 starts at step 11: ${loss[9]} → ${loss[10]}`);
  await rejects(
    () => trainSft({ policy: p, run: run(), train: [{ until: 0.5, samples: [a] }], config: cfg, seed: 1, quiet: true }),
    /^trainSft: the last curriculum phase must run until 1, not 0\.5$/,
  );
  await rejects(
    () => trainSft({ policy: p, run: run(), train: [], config: cfg, seed: 1, quiet: true }),
    /^trainSft: a training set \(or curriculum phase\) is empty$/,
  );
  await rejects(
    () => trainSft({ policy: p, run: run(), train: [a], config: { ...cfg, batchSize: 0 }, seed: 1, quiet: true }),
    /sft\.batchSize = 0: must be an integer ≥ 1/,
  );
  p.dispose();
});

test.run();
