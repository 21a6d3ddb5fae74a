import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../lib/backend';
import { Policy } from '../lib/model/policy';
import { trainGrpo, DEFAULT_GRPO, groupStatistics, scoreRollouts, type GrpoConfig } from '../lib/train-grpo';
import { trainSft, DEFAULT_SFT } from '../lib/train-sft';
import { selectionSteps } from '../lib/training';
import { type Metrics, RunDir } from '../lib/runs';
import { groundingSplit, regionSplit, taskSplit } from '../lib/data/splits';
import { evaluatePolicy } from '../lib/evaluate';
import { close, rejects } from './helpers';

const { ops } = await selectBackend(process.env.RSG_TEST_BACKEND ?? 'wasm');
const TINY = {
  imageSize: 64,
  patchSize: 16,
  dModel: 16,
  nHeads: 2,
  nEncLayers: 1,
  nDecLayers: 1,
  ffnMult: 2,
  maxQueryLen: 12,
  maxCompletionLen: 24,
};
const train = groundingSplit('train', { count: 20 });
const val = groundingSplit('val', { count: 4 });
const CFG: GrpoConfig = {
  ...DEFAULT_GRPO,
  steps: 4,
  queriesPerStep: 2,
  group: 3,
  maxLen: 24,
  evalEvery: 2,
  checkpointEvery: 2,
  trainFraction: 1,
  lr: 3e-3,
};
const tmp = () => mkdtempSync(join(tmpdir(), 'rsg-rft-'));

test('a GRPO step changes the parameters and leaks no tensors; garbage rollouts earn 0 and do not crash', async () => {
  const dir = tmp();
  const p = Policy.create(TINY, 1, ops);
  const before = new Map([...p.params].map(([k, v]) => [k, v.dataSync().slice()]));
  const counts: number[] = [];
  const n0 = tf.memory().numTensors;
  const r = await trainGrpo({
    policy: p,
    run: new RunDir(dir),
    train,
    evalSet: val,
    config: { ...CFG, steps: 3 },
    seed: 1,
    quiet: true,
    onStep: () => counts.push(tf.memory().numTensors),
  });
  assert.is(tf.memory().numTensors, n0, 'tensors after the run');
  assert.is(counts[1], counts[0], `tensors per step: ${counts}`);
  assert.is(counts[2], counts[0], `tensors per step: ${counts}`);
  let changed = 0;
  for (const [k, v] of p.params) if (v.dataSync().some((x, i) => x !== before.get(k)![i])) changed++;
  assert.ok(changed > p.params.size * 0.8, `${changed}/${p.params.size} parameters changed`);
  // An untrained policy writes garbage: it must have been scored (format ≈ 0), not crashed.
  assert.ok(Number.isFinite(r.last['reward/total'] as number));
  assert.ok((r.last['reward/format'] as number) < 0.5);
  p.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('μ = 3 updates per batch: the clip binds on reused rollouts, no tensor leaks; μ = 1 is the default', async () => {
  const dirs = [tmp(), tmp()];
  const p1 = Policy.create(TINY, 1, ops),
    p3 = Policy.create(TINY, 1, ops);
  const n0 = tf.memory().numTensors;
  const counts: number[] = [];
  await trainGrpo({
    policy: p3,
    run: new RunDir(dirs[0]),
    train,
    config: { ...CFG, steps: 3, evalEvery: 0, iterations: 3, lr: 3e-2 },
    seed: 1,
    quiet: true,
    onStep: () => counts.push(tf.memory().numTensors),
  });
  assert.is(tf.memory().numTensors, n0, 'tensors after the run');
  assert.is(counts[2], counts[0], `tensors per step: ${counts}`);
  await trainGrpo({
    policy: p1,
    run: new RunDir(dirs[1]),
    train,
    config: { ...CFG, steps: 3, evalEvery: 0, lr: 3e-2 },
    seed: 1,
    quiet: true,
  });
  const clipFracs = (dir: string) =>
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)['grpo/clip_frac'] as number)
      .filter((x) => x !== undefined);
  assert.equal(clipFracs(dirs[1]), [0, 0, 0], 'one update per batch: ρ = 1, nothing clipped at any step');
  // (any step: a step whose groups all tie in reward has zero advantages, so nothing moves or clips)
  assert.ok(
    Math.max(...clipFracs(dirs[0])) > 0,
    `μ = 3 at a large lr must clip some tokens, got ${clipFracs(dirs[0])}`,
  );
  // Same rollouts at the first step (same seed, same initial weights), different updates.
  assert.is(
    JSON.parse(readFileSync(join(dirs[0], 'metrics.jsonl'), 'utf8').split('\n')[0])['reward/total'],
    JSON.parse(readFileSync(join(dirs[1], 'metrics.jsonl'), 'utf8').split('\n')[0])['reward/total'],
  );
  let differ = 0;
  for (const [k, v] of p1.params) if (v.dataSync().some((x, i) => x !== p3.params.get(k)!.dataSync()[i])) differ++;
  assert.ok(differ > 0);
  p1.dispose();
  p3.dispose();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** Train a fresh tiny policy (init seed 2) with GRPO into `dir`, evaluating on val. */
async function trainInto(dir: string, config: GrpoConfig, seed: number): Promise<void> {
  const p = Policy.create(TINY, 2, ops);
  await trainGrpo({ policy: p, run: new RunDir(dir), train, evalSet: val, config, seed, quiet: true });
  p.dispose();
}

test('same seed → byte-identical metrics.jsonl; different seed → different', async () => {
  const dirs = [tmp(), tmp(), tmp()];
  for (const [i, d] of dirs.entries()) await trainInto(d, CFG, i === 2 ? 8 : 7);
  const read = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8');
  assert.ok(read(dirs[0]).length > 100);
  assert.is(read(dirs[0]), read(dirs[1]));
  assert.is.not(read(dirs[0]), read(dirs[2]));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

test('evaluating midway does not change training: evalEvery 0 logs the same steps and final eval', async () => {
  const dirs = [tmp(), tmp()];
  for (const [i, d] of dirs.entries()) await trainInto(d, { ...CFG, evalEvery: i === 0 ? 1 : 0 }, 7);
  const lines = (d: string) =>
    readFileSync(join(d, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
  const isEval = (m: Record<string, number>) => 'eval/acc50' in m;
  const [every, end] = dirs.map(lines);
  assert.equal(
    every.filter(isEval).map((m) => m.step),
    [0, 1, 2, 3, 4],
  );
  assert.equal(
    end.filter(isEval).map((m) => m.step),
    [4],
  );
  assert.equal(
    end.filter((m) => !isEval(m)),
    every.filter((m) => !isEval(m)),
  );
  assert.is(end.filter((m) => !isEval(m)).length, CFG.steps);
  assert.equal(end.filter(isEval)[0], every.filter(isEval)[4]);
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

test('kill-and-resume gives the same metrics as an uninterrupted run', async () => {
  const full = tmp(),
    killed = tmp();
  const p1 = Policy.create(TINY, 3, ops);
  await trainGrpo({ policy: p1, run: new RunDir(full), train, evalSet: val, config: CFG, seed: 5, quiet: true });
  // Kill after step 3 (a checkpoint exists at step 2), then rerun the same command.
  const p2 = Policy.create(TINY, 3, ops);
  await rejects(
    () =>
      trainGrpo({
        policy: p2,
        run: new RunDir(killed),
        train,
        evalSet: val,
        config: CFG,
        seed: 5,
        quiet: true,
        onStep: (m) => {
          if (m.step === 3) throw new Error('killed');
        },
      }),
    /killed/,
  );
  p2.dispose();
  const p3 = Policy.create(TINY, 3, ops); // the starting checkpoint again, as a rerun would load it
  await trainGrpo({ policy: p3, run: new RunDir(killed), train, evalSet: val, config: CFG, seed: 5, quiet: true });
  assert.is(readFileSync(join(killed, 'metrics.jsonl'), 'utf8'), readFileSync(join(full, 'metrics.jsonl'), 'utf8'));
  for (const [k, v] of p1.params) assert.equal(v.dataSync(), p3.params.get(k)!.dataSync(), k);
  p1.dispose();
  p3.dispose();
  rmSync(full, { recursive: true, force: true });
  rmSync(killed, { recursive: true, force: true });
});

test('SFT: resumes exactly too, and leaks nothing', async () => {
  const a = tmp(),
    b = tmp();
  const cfg = { ...DEFAULT_SFT, steps: 4, batchSize: 4, checkpointEvery: 2 };
  const n0 = tf.memory().numTensors;
  const p1 = Policy.create(TINY, 4, ops);
  await trainSft({ policy: p1, run: new RunDir(a), train, config: cfg, seed: 1, quiet: true });
  p1.dispose();
  assert.is(tf.memory().numTensors, n0);
  const p2 = Policy.create(TINY, 4, ops);
  await trainSft({ policy: p2, run: new RunDir(b), train, config: { ...cfg, steps: 2 }, seed: 1, quiet: true });
  p2.dispose();
  const p3 = Policy.create(TINY, 4, ops);
  await trainSft({ policy: p3, run: new RunDir(b), train, config: cfg, seed: 1, quiet: true });
  p3.dispose();
  assert.is(readFileSync(join(b, 'metrics.jsonl'), 'utf8'), readFileSync(join(a, 'metrics.jsonl'), 'utf8'));
  rmSync(a, { recursive: true, force: true });
  rmSync(b, { recursive: true, force: true });
});

test('selection: the stage keeps its best evaluation’s weights (earliest of a tie), stops after patience', async () => {
  // SFT on eight samples evaluated on the same eight: accuracy climbs from 0 in steps of 1/8
  const few = groundingSplit('train', { count: 8 });
  const cfg = { ...DEFAULT_SFT, steps: 120, batchSize: 8, lr: 1e-2, warmup: 5, checkpointEvery: 1000 };
  for (const patience of [100, 3]) {
    const d = tmp();
    const run = new RunDir(d);
    const p = Policy.create(TINY, 3, ops);
    const select = { first: 10, growth: 1.25, patience }; // steps 10, 13, 16, 20, 24, 31, 38, 48, 60, 75, 93, 116, 120
    const r = await trainSft({ policy: p, run, train: few, evalSet: few, config: cfg, seed: 2, quiet: true, select });
    const rows = run.metrics();
    const evals = rows.filter((m) => 'eval/acc50' in m).map((m) => [m.step, m['eval/acc50']] as [number, number]);
    // what selection should have done, read off the logged evaluations
    let best = -1,
      bestStep = 0,
      since = 0,
      stop = cfg.steps;
    for (const [step, acc] of evals) {
      if (acc > best) [best, bestStep, since] = [acc, step, 0];
      else if (++since >= patience) {
        stop = step;
        break;
      }
    }
    // patience 100 sees the whole climb; patience 3 stops in the first flat stretch
    if (patience === 100)
      assert.ok(new Set(evals.map((e) => e[1])).size > 2, `accuracy moved: ${evals.map((e) => e[1])}`);
    assert.equal(
      evals.map((e) => e[0]),
      selectionSteps(select, cfg.steps).filter((s) => s <= stop),
    );
    assert.equal(r.selected, { step: bestStep, acc50: best, trained: stop });
    assert.is(r.steps, stop);
    assert.is(Math.max(...rows.map((m) => Number(m.step))), stop, 'no step trained after stopping');
    assert.is(r.eval!.acc50, best, 'the final evaluation is of the kept weights');
    assert.equal(rows[rows.length - 1], { step: stop, 'select/step': bestStep, 'select/acc50': best });
    // the stage's checkpoint holds the kept weights, and so does the policy
    const kept = await Policy.load(join(d, 'best'), ops),
      ckpt = await Policy.load(run.checkpointDir, ops);
    for (const [k, v] of kept.params) {
      assert.equal(ckpt.params.get(k)!.dataSync(), v.dataSync(), k);
      assert.equal(p.params.get(k)!.dataSync(), v.dataSync(), k);
    }
    [p, kept, ckpt].forEach((x) => x.dispose());
    if (patience === 3) assert.ok(stop < cfg.steps && bestStep === 10 && stop === 20, 'patience 3 stops early here');
    rmSync(d, { recursive: true, force: true });
  }
});

test('selection survives kill-and-resume: the same metrics and the same kept weights', async () => {
  const cfg = { ...CFG, steps: 6, evalEvery: 0 };
  const select = { first: 1, growth: 2, patience: 3 }; // steps 1, 2, 4, 6
  const full = tmp(),
    killed = tmp();
  const p1 = Policy.create(TINY, 3, ops);
  await trainGrpo({
    policy: p1,
    run: new RunDir(full),
    train,
    evalSet: val,
    config: cfg,
    seed: 5,
    quiet: true,
    select,
  });
  const p2 = Policy.create(TINY, 3, ops);
  const kill = (m: Metrics) => {
    if (m.step === 3) throw new Error('killed');
  };
  const args = { train, evalSet: val, config: cfg, seed: 5, quiet: true, select };
  await rejects(() => trainGrpo({ ...args, policy: p2, run: new RunDir(killed), onStep: kill }), /killed/);
  p2.dispose();
  const p3 = Policy.create(TINY, 3, ops);
  await trainGrpo({ ...args, policy: p3, run: new RunDir(killed) });
  assert.is(readFileSync(join(killed, 'metrics.jsonl'), 'utf8'), readFileSync(join(full, 'metrics.jsonl'), 'utf8'));
  assert.match(readFileSync(join(full, 'metrics.jsonl'), 'utf8'), /"select\/step"/);
  for (const [k, v] of p1.params) assert.equal(v.dataSync(), p3.params.get(k)!.dataSync(), k);
  p1.dispose();
  p3.dispose();
  rmSync(full, { recursive: true, force: true });
  rmSync(killed, { recursive: true, force: true });
});

test('region queries through the same loops: SFT lists boxes, GRPO scores R_format + R_IoU + R_count', async () => {
  const rTrain = regionSplit('region-train', { count: 12 });
  const rVal = regionSplit('region-test', { count: 3 });
  const dir = tmp();
  const p = Policy.create({ ...TINY, maxCompletionLen: 64 }, 2, ops);
  await trainSft({
    policy: p,
    run: new RunDir(join(dir, 'sft')),
    train: rTrain,
    config: { ...DEFAULT_SFT, steps: 30, batchSize: 4, lr: 3e-3, evalEvery: 0, checkpointEvery: 30, target: 'short' },
    seed: 1,
    quiet: true,
  });
  const losses = readFileSync(join(dir, 'sft', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l)['sft/loss'] as number);
  assert.ok(losses.at(-1)! < losses[0] - 0.3, `SFT loss ${losses[0]} → ${losses.at(-1)}`);
  const n0 = tf.memory().numTensors;
  const r = await trainGrpo({
    policy: p,
    run: new RunDir(join(dir, 'grpo')),
    train: rTrain,
    evalSet: rVal,
    config: { ...CFG, maxLen: 64, steps: 2 },
    seed: 1,
    quiet: true,
  });
  assert.is(tf.memory().numTensors, n0, 'tensors after the run');
  for (const k of ['reward/total', 'reward/format', 'reward/iou', 'reward/aux'])
    assert.ok(Number.isFinite(r.last[k] as number), `${k} = ${r.last[k]}`);
  // R_count ∈ [0, 1] is logged as the auxiliary term
  assert.ok((r.last['reward/aux'] as number) >= 0 && (r.last['reward/aux'] as number) <= 1);
  const log = readFileSync(join(dir, 'grpo', 'metrics.jsonl'), 'utf8');
  assert.match(log, /"eval\/count_acc"/);
  // the evaluation reports region metrics through the common fields
  const ev = evaluatePolicy(p, rVal, { maxLen: 64 });
  assert.ok(ev.region, 'region metrics');
  assert.is(ev.n, 3);
  assert.is(ev.acc50, ev.region!.acc50);
  // a set of both is evaluated task by task
  const both = evaluatePolicy(p, [...rVal, ...val], { maxLen: 64 });
  assert.equal([both.tasks!.region!.n, both.tasks!.grounding!.n, both.n], [3, 4, 7]);
  p.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('trace diagnostics (Geo-CoT collapse curves) are logged only when asked for', async () => {
  const dir = tmp();
  const p = Policy.create(TINY, 3, ops);
  const on = await trainGrpo({
    policy: p,
    run: new RunDir(join(dir, 'on')),
    train,
    config: { ...CFG, steps: 1, evalEvery: 0, traceDiagnostics: true },
    seed: 1,
    quiet: true,
  });
  // an untrained policy writes no structured trace: structure 0, repetition and length finite
  assert.is(on.last['trace/structure'], 0);
  assert.ok(Number.isFinite(on.last['trace/repetition'] as number));
  assert.ok((on.last['trace/think_words'] as number) >= 0);
  const off = await trainGrpo({
    policy: p,
    run: new RunDir(join(dir, 'off')),
    train,
    config: { ...CFG, steps: 1, evalEvery: 0 },
    seed: 1,
    quiet: true,
  });
  assert.not.ok('trace/structure' in off.last);
  p.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('the Geo-CoT task mix through the same loops: mixed batches, per-task rewards and evaluation', async () => {
  const mTrain = taskSplit('multi-train', { count: 16 });
  const mVal = taskSplit('multi-val', { count: 8 });
  const dir = tmp();
  const p = Policy.create({ ...TINY, maxCompletionLen: 64 }, 4, ops);
  await trainSft({
    policy: p,
    run: new RunDir(join(dir, 'sft')),
    train: mTrain,
    config: { ...DEFAULT_SFT, steps: 4, batchSize: 4, lr: 3e-3, evalEvery: 0, checkpointEvery: 4, target: 'short' },
    seed: 1,
    quiet: true,
  });
  const n0 = tf.memory().numTensors;
  const r = await trainGrpo({
    policy: p,
    run: new RunDir(join(dir, 'grpo')),
    train: mTrain,
    evalSet: mVal,
    config: { ...CFG, maxLen: 64, steps: 2, queriesPerStep: 8 },
    seed: 1,
    quiet: true,
  });
  assert.is(tf.memory().numTensors, n0, 'tensors after the run');
  // the last batch's tasks: shares sum to 1, each task's terms finite and in range
  const tasks = ['grounding', 'counting', 'detection', 'vqa'].filter((t) => `task/${t}/share` in r.last);
  assert.ok(tasks.length >= 2, `tasks in the batch: ${tasks}`);
  close(
    tasks.reduce((a, t) => a + (r.last[`task/${t}/share`] as number), 0),
    1,
  );
  for (const t of tasks) {
    const score = r.last[`task/${t}/score`] as number;
    assert.ok(score >= 0 && score <= 1, `${t} score ${score}`);
    close(r.last[`task/${t}/reward`] as number, (r.last[`task/${t}/format`] as number) + score);
  }
  // evaluation per task, in the log and in the result
  const log = readFileSync(join(dir, 'grpo', 'metrics.jsonl'), 'utf8');
  for (const k of ['eval/grounding/acc', 'eval/counting/acc', 'eval/detection/map50', 'eval/vqa/score'])
    assert.ok(log.includes(`"${k}"`), k);
  assert.equal(
    ['grounding', 'counting', 'detection', 'vqa'].map((t) => r.eval!.tasks![t as 'vqa']!.n),
    [2, 2, 2, 2],
  );
  // the negative control needs one task per pool
  await rejects(
    () =>
      trainGrpo({
        policy: p,
        run: new RunDir(join(dir, 'neg')),
        train: mTrain,
        config: { ...CFG, rewardTarget: 'other-sample' },
        seed: 1,
        quiet: true,
      }),
    /needs one task per pool; this pool mixes grounding, counting, detection, vqa/,
  );
  p.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('step 3 by hand: advantages within each group, w from each group’s IoU rewards, filled per rollout', () => {
  const groups = [
    [
      { total: 2, iou: 1 },
      { total: 1, iou: 0 },
      { total: 1.5, iou: 0.5 },
    ],
    [
      { total: 1, iou: 0.2 },
      { total: 1, iou: 0.2 },
      { total: 1, iou: 0.2 },
    ],
  ];
  const on = groupStatistics(groups, { ...DEFAULT_GRPO, spatialConsistency: true });
  // group 1: mean 1.5, sample std 0.5 → ±0.5/(0.5 + 1e-4); group 2 ties → 0
  const a = 0.5 / 0.5001;
  [a, -a, 0, 0, 0, 0].forEach((x, i) => close(on.advantages[i], x, 1e-6, `A ${i}`));
  // w = exp(λm(1 − m) + λv·Var): group 1 m 0.5, Var 1/6 → e^0.76667; group 2 m 0.2, Var 0 → e^0.96
  const w1 = Math.exp(1.2 * 0.5 + 1 / 6),
    w2 = Math.exp(1.2 * 0.8);
  [w1, w1, w1, w2, w2, w2].forEach((x, i) => close(on.weights[i], x, 1e-6, `w ${i}`));
  assert.equal(
    on.ws.map((w) => +w.toFixed(6)),
    [+w1.toFixed(6), +w2.toFixed(6)],
  );
  const off = groupStatistics(groups, { ...DEFAULT_GRPO, spatialConsistency: false, advantageScale: 'none' });
  assert.equal([...off.weights], [1, 1, 1, 1, 1, 1]);
  assert.equal([...off.advantages], [0.5, -0.5, 0, 0, 0, 0]); // Dr. GRPO: R − mean(R)
});

test('step 2: each rollout scored against its own query, or (negative control) against the next query’s box', () => {
  const q = (id: string, x: number) => ({
    id,
    image: { width: 64, height: 64 },
    query: 'the ship',
    gt: { x1: x, y1: 10, x2: x + 10, y2: 20 },
    category: 'ship',
    unique: true,
  });
  const queries = [q('a', 0), q('b', 30), q('c', 50)];
  const say = (x: number) => `<think>it is there .</think><answer>[${x}, 10, ${x + 10}, 20]</answer>`;
  // two rollouts per query: its own box, then the next query's box
  const texts = [say(0), say(30), say(30), say(50), say(50), say(0)];
  const iou = (rewardTarget: 'gt' | 'other-sample') =>
    scoreRollouts(texts, queries, 2, { ...DEFAULT_GRPO, rewardTarget }).map((r) => r.iou);
  assert.equal(iou('gt'), [1, 0, 1, 0, 1, 0]);
  assert.equal(iou('other-sample'), [0, 1, 0, 1, 0, 1]); // the last query wraps to the first
  for (const r of scoreRollouts(texts, queries, 2, DEFAULT_GRPO)) assert.is(r.format, 1);
});

test('bad configs are rejected with the field and value', async () => {
  const p = Policy.create(TINY, 6, ops);
  await rejects(
    () => trainGrpo({ policy: p, run: new RunDir(tmp()), train, config: { ...CFG, group: 1 }, seed: 1, quiet: true }),
    /grpo.group = 1: must be an integer ≥ 2/,
  );
  await rejects(
    () =>
      trainGrpo({
        policy: p,
        run: new RunDir(tmp()),
        train,
        config: { ...CFG, reward: { ...CFG.reward, aux: 'iou2' as never } },
        seed: 1,
        quiet: true,
      }),
    /grpo.reward.aux = "iou2": must be one of: none, pos, giou, diou, center/,
  );
  await rejects(
    () =>
      trainGrpo({ policy: p, run: new RunDir(tmp()), train, config: { ...CFG, iterations: 0 }, seed: 1, quiet: true }),
    /grpo.iterations = 0: must be an integer ≥ 1/,
  );
  await rejects(
    () =>
      trainGrpo({
        policy: p,
        run: new RunDir(tmp()),
        train,
        config: { ...CFG, advantageScale: 'mad' as never },
        seed: 1,
        quiet: true,
      }),
    /grpo.advantageScale = "mad": must be one of: std, none/,
  );
  await rejects(
    () => trainGrpo({ policy: p, run: new RunDir(tmp()), train, config: { ...CFG, lr: -0.01 }, seed: 1, quiet: true }),
    /grpo.lr = -0.01: must be > 0/,
  );
  await rejects(
    () =>
      trainGrpo({
        policy: p,
        run: new RunDir(tmp()),
        train,
        config: { ...CFG, lrr: 1 } as never,
        seed: 1,
        quiet: true,
      }),
    /grpo.lrr: unknown key \(allowed: steps, queriesPerStep/,
  );
  p.dispose();
});

test.run();
