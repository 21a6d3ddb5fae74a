import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Row,
  beats,
  comparisonTable,
  curveOverSeeds,
  intervals,
  perSample,
  perSeed,
  percent,
  rowsOf,
  stageMetrics,
} from '../../experiments/results';
import { stageDir } from '../../lib/pipeline';
import { close, withTempDirs } from '../helpers';
import { tinyBase } from '../stages';
import { V } from '../../experiments/variants';
import type { Evaluation } from '../../lib/evaluate';

const ev = (acc50: number) => ({ acc50, acc70: acc50 / 2, miou: 0.4, ciou: 0.3 }) as unknown as Evaluation;

test('a comparison table gives mean ± CI over seeds, and says so; one seed gets no interval and says n = 1', () => {
  const three: Row = { variant: V.grpo, seeds: [1, 2, 3], evals: [ev(0.2), ev(0.3), ev(0.4)] };
  const t3 = comparisonTable('t', [three]);
  // mean 30, t(0.975, 2) = 4.3027, sd 10 → half-width 24.84
  assert.is(t3.rows[0][1], '30.00 ± 24.84');
  assert.match(t3.note!, /mean ± 95% CI/);
  const one: Row = { variant: V.grpo, seeds: [1], evals: [ev(0.25)] };
  const t1 = comparisonTable('t', [one, three]);
  assert.is(t1.rows[0][1], '25.00 (n=1)');
  assert.not.match(t1.note!, /±|CI/);
  assert.match(t1.note!, /n = 1/);
});

// An evaluation whose per-sample IoUs are given (Acc@τ and mIoU follow from them).
const withIous = (ious: number[]) =>
  ({
    acc50: ious.filter((v) => v >= 0.5).length / ious.length,
    acc70: ious.filter((v) => v >= 0.7).length / ious.length,
    miou: ious.reduce((a, v) => a + v, 0) / ious.length,
    ciou: 0,
    results: ious.map((iou, i) => ({ id: `s${i}`, iou })),
  }) as unknown as Evaluation;

test('per sample: 1/0 at IoU ≥ 0.5 and ≥ 0.7 (ties count), the IoU itself for mIoU; per seed and by id', () => {
  const row: Row = {
    variant: V.grpo,
    seeds: [1, 2],
    evals: [withIous([0.5, 0.7, 0.69, 0]), withIous([1, 0.49, 0.7, 0.2])],
  };
  assert.equal(perSample(row, 'acc50'), [
    [1, 1, 1, 0],
    [1, 0, 1, 0],
  ]);
  assert.equal(perSample(row, 'acc70'), [
    [0, 1, 0, 0],
    [1, 0, 1, 0],
  ]);
  assert.equal(perSample(row, 'miou'), [
    [0.5, 0.7, 0.69, 0],
    [1, 0.49, 0.7, 0.2],
  ]);
  assert.equal(perSeed(row, 'acc50'), [0.75, 0.5]);
  const ci = intervals(row);
  close(ci.acc50.mean, 0.625);
  close(ci.acc50.halfWidth, 12.7062 * 0.125, 1e-4); // t(0.975, 1) · sd / √2, sd = 0.125 · √2
  close(ci.acc70.mean, (0.25 + 0.5) / 2);
  close(ci.miou.mean, (1.89 / 4 + 2.39 / 4) / 2);
  const rows = rowsOf([row]);
  assert.is(rows.get('grpo'), row);
  assert.throws(() => rows.get('nope'), /no row "nope" \(rows: grpo\)/);
});

test('"a beats b": the paired interval over seeds and the paired bootstrap over samples, both of a − b', () => {
  // a hits every sample b hits, and one or two more per seed: the seeds differ in how much better a is
  const a: Row = {
    variant: V.grpo,
    seeds: [1, 2, 3],
    evals: [
      [1, 1, 0, 1],
      [1, 1, 1, 0],
      [1, 1, 1, 1],
    ].map(withIous),
  };
  const b: Row = {
    variant: V.sft,
    seeds: [1, 2, 3],
    evals: [
      [1, 0, 0, 1],
      [1, 0, 1, 0],
      [0, 0, 1, 1],
    ].map(withIous),
  };
  const claim = { id: 'x', text: 'a beats b', source: 'test' };
  const r = beats(rowsOf([a, b]), 'grpo', 'sft', claim, 'a − b');
  close(r.diff!.mean, (0.25 + 0.25 + 0.5) / 3);
  assert.ok(r.sampleCI!.lo >= 0 && r.sampleCI!.hi > 0, JSON.stringify(r.sampleCI));
  const back = beats(rowsOf([a, b]), 'sft', 'grpo', claim, 'b − a');
  close(back.diff!.mean, -(0.25 + 0.25 + 0.5) / 3);
  assert.ok(back.sampleCI!.hi <= 0 && back.sampleCI!.lo < 0, JSON.stringify(back.sampleCI));
});

test('a curve over seeds: a trailing mean of `smooth` points, the steps every seed logged, mean and 95% CI', () =>
  withTempDirs(['RSG_RUNS_DIR'], () => {
    const spec = tinyBase;
    const write = (seed: number, lines: Record<string, number>[], torn = '') => {
      mkdirSync(stageDir(spec(seed)), { recursive: true });
      const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + torn;
      writeFileSync(join(stageDir(spec(seed)), 'metrics.jsonl'), text);
    };
    // seed 1 logs steps 1, 2, 3 (and a line without the key); seed 2 logs 1, 2, 3, 4 and a torn last line
    write(1, [
      { step: 1, r: 1 },
      { step: 2, r: 3 },
      { step: 2, other: 9 },
      { step: 3, r: 5 },
    ]);
    write(
      2,
      [
        { step: 1, r: 3 },
        { step: 2, r: 5 },
        { step: 3, r: 7 },
        { step: 4, r: 9 },
      ],
      '{"step": 5, "r"',
    );
    assert.is(stageMetrics(spec(2)).length, 4);
    const raw = curveOverSeeds([spec(1), spec(2)], 'r');
    assert.equal(raw.x, [1, 2, 3]); // step 4 only in seed 2
    assert.equal(curveOverSeeds([spec(2), spec(1)], 'r').x, [1, 2, 3], 'whichever seed comes first');
    assert.equal(raw.y, [2, 4, 6]);
    // two seeds 2 apart: sd √2, half-width t(0.975, 1) · √2 / √2 = 12.706
    close(raw.hi[0] - raw.y[0], 12.7062, 1e-3);
    close(raw.y[0] - raw.lo[0], 12.7062, 1e-3);
    // smooth 2: seed 1 → 1, 2, 4; seed 2 → 3, 4, 6
    assert.equal(curveOverSeeds([spec(1), spec(2)], 'r', 2).y, [2, 3, 5]);
    // one seed: no interval, the band collapses onto the mean
    const one = curveOverSeeds([spec(1)], 'r');
    assert.equal([one.lo, one.hi], [one.y, one.y]);
    const pct = percent(raw);
    assert.equal(pct.y, [200, 400, 600]);
    close(pct.lo[0], 100 * raw.lo[0]);
    close(pct.hi[2], 100 * raw.hi[2]);
    assert.equal(pct.x, raw.x);
  }));

test.run();
