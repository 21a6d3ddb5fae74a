/** The other papers' experiments build the stages they claim to: data, budgets, adapters, nesting. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveConfig } from '../../experiments/runner';
import { ROWS, emptyAnswerRate, emptyCollapses, rowSpec } from '../../experiments/remotereasoner';
import type { Evaluation } from '../../lib/evaluate';
import type { Box } from '../../lib/boxes';
import { SELECT, SHOTS, shotSpec } from '../../experiments/few-shot';
import { experiment as geocot, faithfulnessTable, MULTI_ROWS, multiSpec } from '../../experiments/geocot';
import { type StageSpec, lineage, resolveSpec, stageName } from '../../lib/pipeline';
import { baseSpec, sftSpec, variantSpec } from '../../experiments/specs';
import { V } from '../../experiments/variants';

const TRACED_VARIANTS = [V.cotsftGeocot, V.geocotKl, V.geocotNoKl];

test('remotereasoner: region data everywhere below the base, RemoteReasoner’s reward, LoRA only on its row', () => {
  const { config } = resolveConfig('remotereasoner', { scale: 'default' });
  for (const r of ROWS) {
    const spec = rowSpec(config, r, 1);
    for (const s of lineage(spec)) {
      if (s.kind === 'base') continue;
      assert.is(s.data.split, 'region-train', `${r.id}: ${s.kind} trains on region-train`);
      assert.is(s.eval.split, 'region-val');
    }
    if (spec.kind === 'grpo') {
      assert.is(spec.grpo.spatialConsistency, false);
      assert.is(spec.grpo.reward.aux, 'none');
      assert.is(Boolean(spec.grpo.lora), r.id === 'grpo-lora');
      assert.is(spec.grpo.region!.matching, r.id === 'grpo-hungarian' ? 'hungarian' : 'max');
      assert.is(spec.grpo.region!.countWeight, r.id === 'grpo-nocount' ? 0 : 1);
    }
  }
  // the GRPO rows share the base of their seed, and differ from each other
  const names = ROWS.filter((r) => r.grpo).map((r) => stageName(rowSpec(config, r, 1)));
  assert.is(new Set(names).size, names.length);
});

const answered = (...texts: string[]) =>
  ({ results: texts.map((text, i) => ({ id: `q${i}`, text, iou: 0, format: 0 })) }) as unknown as Evaluation;

test('remotereasoner: the empty-answer share counts `[]` only, and names the seeds that collapsed onto it', () => {
  const e = answered(
    '<think> x </think> <answer> [ ] </answer>',
    '<answer>[]</answer>',
    '<answer>[[1, 2, 3, 4]]</answer>',
    '<answer>[1, 2, 3, 4]</answer>',
    'no answer at all',
  );
  assert.is(emptyAnswerRate(e), 2 / 5);
  const all = answered('<answer>[]</answer>', '<answer> [ ] </answer>', '<answer>[]</answer>');
  const most = answered(...Array(9).fill('<answer>[]</answer>'), '<answer>[[0, 0, 4, 4]]</answer>');
  const row = ROWS.find((r) => r.id === 'grpo')!;
  // 100% and exactly 90%: only the first is over the threshold
  assert.equal(emptyCollapses([{ row, evals: [e, all, most] }], [4, 5, 6]), [`${row.label}, seed 5 (100.0%)`]);
  assert.equal(emptyCollapses([{ row, evals: [most] }], [1], 0.85), [`${row.label}, seed 1 (90.0%)`]);
  assert.throws(() => emptyAnswerRate(answered()), /without per-sample results/);
});

test('geocot: the faithfulness table says each seed’s structure rate, which a mean over split seeds hides', () => {
  const ok = '<think>plan : find the ship . evidence : ship [0, 0, 10, 5] . synthesis : it is [0, 0, 10, 5] .</think>';
  const bad = '<think> find the ship . </think>';
  const ev = (...texts: string[]) =>
    ({
      formatRate: 1,
      results: texts.map((t, i) => ({ id: `q${i}`, text: `${t} <answer>[0, 0, 10, 5]</answer>`, iou: 1, format: 1 })),
    }) as unknown as Evaluation;
  const objects = new Map(
    ['q0', 'q1'].map((id) => [id, [{ cls: 'ship', box: { x1: 0, y1: 0, x2: 10, y2: 5 } as Box }]]),
  );
  const byId = new Map(
    TRACED_VARIANTS.map((v, i) => [
      v.id,
      { variant: v, seeds: [3, 4], evals: i === 2 ? [ev(ok, ok), ev(bad, bad)] : [ev(ok, bad), ev(ok, ok)] },
    ]),
  );
  const t = faithfulnessTable({ list: [...byId.values()], get: (id) => byId.get(id)! }, objects, 2, [3, 4]);
  assert.match(t.note!, `Structure per seed (seeds 3, 4): ${V.cotsftGeocot.label} 50.0, 100.0; `);
  assert.match(t.note!, `; ${V.geocotNoKl.label} 100.0, 0.0.`);
  assert.is(t.rows[2][1], '50.00 ± 635.31'); // the mean of 100 and 0 over two seeds, t(1) = 12.71
});

test('few-shot: nested k-sample sets, both methods from the same base, GRPO over all k samples', () => {
  const { config } = resolveConfig('few-shot', { scale: 'default' });
  for (const k of SHOTS) {
    const sft = shotSpec(config, 'sft', k, 2),
      rft = shotSpec(config, 'rft', k, 2);
    assert.ok(sft.kind === 'sft' && rft.kind === 'grpo');
    assert.equal(sft.kind === 'sft' && sft.data, { split: 'train', count: k });
    assert.equal(rft.kind === 'grpo' && rft.data, { split: 'train', count: k });
    assert.is(rft.kind === 'grpo' && rft.grpo.trainFraction, 1);
    assert.is(stageName(lineage(sft)[0]), stageName(lineage(rft)[0]), 'same base');
    // reasoning-centric RFT: the same k samples, from a CoT scaffold that saw no train-split label
    const trace = shotSpec(config, 'rft-trace', k, 2);
    assert.ok(trace.kind === 'grpo' && trace.from.kind === 'sft');
    if (trace.kind !== 'grpo' || trace.from.kind !== 'sft') return;
    assert.equal(trace.data, { split: 'train', count: k });
    assert.is(trace.from.sft.target, 'rsground');
    assert.is(trace.from.data.split, 'generic');
    assert.is(stageName(lineage(trace)[0]), stageName(lineage(rft)[0]), 'same base');
    // every method selected on the same val split, the same way, over the same number of steps; the scaffold is not
    assert.equal([sft.select, rft.select, trace.select], [SELECT, SELECT, SELECT]);
    assert.is(SELECT.first, 5);
    assert.is('patience' in SELECT, false, 'no early stop: every method trains its whole budget');
    const steps = (s: StageSpec) => (s.kind === 'sft' ? s.sft.steps : s.kind === 'grpo' ? s.grpo.steps : NaN);
    assert.equal([steps(sft), steps(trace)], [steps(rft), config.grpo.steps]);
    assert.equal([sft.eval, rft.eval, trace.eval], Array(3).fill({ split: 'val', count: config.data.val }));
    assert.is(trace.from.select, undefined);
    // the selection figure's base level is the base's own final evaluation: on the same val samples
    assert.equal(baseSpec(config, 2).eval, sft.eval);
  }
});

test('geocot: multi-task rows train and validate on the task mix, GRPO with each task’s reward, no R_pos or w', () => {
  const { config } = resolveConfig('geocot', { scale: 'default' });
  for (const r of MULTI_ROWS) {
    const spec = multiSpec(config, r, 1);
    assert.is(spec.kind, r.grpo ? 'grpo' : 'sft');
    for (const s of lineage(spec)) {
      if (s.kind === 'base') continue;
      assert.equal([s.data.split, s.eval.split], ['multi-train', 'multi-val']);
      if (s.kind === 'sft') assert.is(s.sft.target, 'geocot');
      if (s.kind === 'grpo') assert.equal([s.grpo.reward.aux, s.grpo.spatialConsistency], ['none', false]);
    }
  }
  const names = geocot.specs(config).map(stageName);
  for (const r of MULTI_ROWS) assert.ok(names.includes(stageName(multiSpec(config, r, 1))), r.id);
});

test('geocot: the CoT rows get 128 tokens from their SFT stage on; every row starts from the scale’s base', () => {
  const { config } = resolveConfig('geocot', { scale: 'default' });
  const table1 = resolveConfig('table1', { scale: 'default' }).config;
  assert.is(config.arch.maxCompletionLen, 64, 'the scale’s budget, untouched');
  const cot = new Set([
    ...TRACED_VARIANTS.flatMap((v) => config.seeds.map((s) => stageName(variantSpec(config, v, s)))),
  ]);
  for (const r of MULTI_ROWS) for (const s of config.seeds) cot.add(stageName(multiSpec(config, r, s)));
  let budgeted = 0;
  for (const spec of geocot.specs(config)) {
    const [base, ...rest] = lineage(spec);
    assert.is(stageName(base), stageName(baseSpec(table1, spec.seed)), 'the base of the other experiments');
    const sft = rest.find((s) => s.kind === 'sft');
    if (cot.has(stageName(spec))) {
      budgeted++;
      assert.is(sft?.kind === 'sft' ? sft.maxCompletionLen : NaN, 128, `${stageName(spec)}: SFT gives 128`);
      if (spec.kind === 'grpo') assert.is(spec.grpo.maxLen, 128);
    } else {
      // an answer-only row: the very stage the other experiments train
      assert.ok(sft === undefined || (sft.kind === 'sft' && sft.maxCompletionLen === undefined));
      const same = [V.sft, V.sftGrpo].some((v) => stageName(variantSpec(table1, v, spec.seed)) === stageName(spec));
      assert.ok(same, `${stageName(spec)} is one of table 1's answer-only rows`);
    }
  }
  assert.is(budgeted, cot.size);
});

test('a longer budget is refused below the base’s and for a row that starts from the base', () => {
  const { config } = resolveConfig('table1', { scale: 'default' });
  const sft = { ...sftSpec(config, 'geocot', 1), maxCompletionLen: 32 };
  assert.throws(() => resolveSpec(sft), /sft\.maxCompletionLen = 32: must be an integer ≥ the base's budget, 64/);
  assert.throws(() => variantSpec(config, { ...V.grpo, budget: 128 }, 1), /starts from the base/);
  // no budget, or the scale's: the spec (and its hash) of before
  assert.equal(sftSpec(config, 'short', 1, undefined, 64), sftSpec(config, 'short', 1));
});

test.run();
