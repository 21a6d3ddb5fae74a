/**
 * The paper tables' claims compare the rows their words name, in the direction they say. Every
 * row's evaluations are written by hand into a temporary runs directory (a distinct accuracy per
 * variant, seed and split), the experiment's report is built from them, and each claim's paired
 * difference must equal the one computed here from the claim's own words: a claim wired to the
 * wrong row, the wrong order or the wrong split shows as a different number.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveConfig } from '../../experiments/runner';
import { findExperiment } from '../../experiments/registry';
import { type Variant, baseSpec, dataRef, variantSpec } from '../../experiments/specs';
import { V } from '../../experiments/variants';
import type { Executor } from '../../experiments/scheduler';
import type { ClaimResult } from '../../lib/report/verdicts';
import { type DataRef, type StageSpec, evalFile, stageDir } from '../../lib/pipeline';
import type { CommonConfig } from '../../experiments/scales';
import { MIXED_TASKS, OOD_SPLITS, REGION_OOD_SPLITS } from '../../lib/data/splits';
import { MULTI_ROWS, multiSpec } from '../../experiments/geocot';
import { SHOTS, shotSpec } from '../../experiments/few-shot';
import { ROWS, rowSpec } from '../../experiments/remotereasoner';
import { withTempDirs } from '../helpers';

const SEEDS = [1, 2, 3, 4];

/** One evaluation to write: the row it belongs to (`key`), its stage and split. */
type Item = { key: string; spec: StageSpec; ref: DataRef; extra?: object };

/** The accuracy written for the i-th row at a seed on a split: distinct per row, varying with seed and split. */
function acc(i: number, seed: number, split: string): number {
  const k = (OOD_SPLITS as readonly string[]).indexOf(split) + 1;
  return 0.1 + 0.03 * (i % 25) + 0.01 * ((i * 7 + seed * 3 + k * 2) % 5) + 0.02 * k;
}

/**
 * Write a whole greedy evaluation with `round(acc × n)` hits (IoU 0.9) and misses (IoU 0.1), the hits and the first
 * half of the misses well-formed; returns its accuracy and format rate.
 */
function writeEval(
  file: string,
  n: number,
  a: number,
  regions: boolean,
  extra: object = {},
): { acc: number; format: number } {
  const hits = Math.round(a * n);
  const formed = hits + Math.floor((n - hits) / 2);
  const results = Array.from({ length: n }, (_, j) => ({
    id: `s${j}`,
    text: '',
    iou: j < hits ? 0.9 : 0.1,
    format: j < formed ? 1 : 0,
  }));
  const miou = (0.9 * hits + 0.1 * (n - hits)) / n;
  const region = {
    ...{ acc50: hits / n, meanIoU: miou, countAcc: 0.5, gIoU: 0.5, cIoU: 0.5, f1At1: 0.5, f1At3: 0.5 },
    ...{ asd: 3, hd: 9, emptyContourRate: 0, n },
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify({
      acc50: hits / n,
      acc70: hits / n,
      miou,
      ciou: miou,
      n,
      formatRate: formed / n,
      meanLength: 10,
      byCue: {},
      ...(regions ? { region } : {}),
      ...extra,
      results,
    }),
  );
  return { acc: hits / n, format: formed / n };
}

/** Build an experiment's claims from hand-written evaluations; returns them and the accuracies written. */
async function claimsOf(
  name: string,
  items: (c: CommonConfig) => Item[],
  regions = false,
): Promise<{ claims: Map<string, ClaimResult>; written: (key: string, seed: number, split: string) => number }> {
  return withTempDirs(['RSG_RUNS_DIR'], async () => {
    const { config } = resolveConfig(name, { scale: 'default', seeds: SEEDS });
    const written = new Map<string, number>();
    const keys: string[] = [];
    for (const { key, spec, ref, extra } of items(config)) {
      if (!keys.includes(key)) keys.push(key);
      const a = writeEval(evalFile(spec, ref), ref.count, acc(keys.indexOf(key), spec.seed, ref.split), regions, extra);
      written.set(`${key}/${spec.seed}/${ref.split}`, a.acc);
      written.set(`${key}/${spec.seed}/${ref.split}#format`, a.format);
    }
    // every evaluation is on disk: the report asks for them, and nothing may train or evaluate
    const executor: Executor = {
      name: 'none',
      run: async (tasks) => {
        assert.ok(
          tasks.every((t) => t.kind === 'eval'),
          'the report asks for evaluations only',
        );
      },
    };
    const report = await findExperiment(name).report({
      scale: 'default',
      config,
      log: () => {},
      pool: { jobs: 1, log: () => {}, executor },
    });
    return {
      claims: new Map(report.claims.map((c) => [c.id, c])),
      written: (key, seed, split) => {
        const a = written.get(`${key}/${seed}/${split}`);
        if (a === undefined) throw new Error(`no evaluation written for ${key} seed ${seed} on ${split}`);
        return a;
      },
    };
  });
}

/** Items for variants of the RSGround-R1 tables, keyed by variant id. */
const rowsOf =
  (variants: Variant[], refs: (c: CommonConfig) => DataRef[]) =>
  (c: CommonConfig): Item[] =>
    variants.flatMap((v) =>
      SEEDS.flatMap((seed) => refs(c).map((ref) => ({ key: v.id, spec: variantSpec(c, v, seed), ref }))),
    );
const testRef = (c: CommonConfig) => [dataRef(c, 'test', c.data.test)];

const meanOver = (f: (seed: number) => number) => SEEDS.reduce((a, s) => a + f(s), 0) / SEEDS.length;

function expectDiff(claims: Map<string, ClaimResult>, id: string, expected: number, kind = 'greater'): void {
  const c = claims.get(id);
  assert.ok(c, `claim ${id} is reported (claims: ${[...claims.keys()].join(', ')})`);
  assert.ok(c!.diff, `${id} has an interval`);
  assert.ok(Math.abs(c!.diff!.mean - expected) < 1e-9, `${id}: difference ${c!.diff!.mean}, expected ${expected}`);
  assert.is(c!.kind, kind, `${id}: direction`);
}

test('table1: full − GRPO and GRPO − SFT on the test split', async () => {
  const { claims, written: w } = await claimsOf('table1', rowsOf([V.base, V.sft, V.grpo, V.full], testRef));
  assert.is(claims.size, 2);
  expectDiff(
    claims,
    't1-full-grpo',
    meanOver((s) => w('full', s, 'test') - w('grpo', s, 'test')),
  );
  expectDiff(
    claims,
    't1-grpo-sft',
    meanOver((s) => w('grpo', s, 'test') - w('sft', s, 'test')),
  );
});

test('table2-ood: full − GRPO and GRPO − SFT, each seed averaged over the three OOD splits', async () => {
  const { claims, written: w } = await claimsOf(
    'table2-ood',
    rowsOf([V.sft, V.grpo, V.full], (c) => OOD_SPLITS.map((split) => ({ split, count: c.data.ood }))),
  );
  const ood = (id: string, s: number) => OOD_SPLITS.reduce((a, split) => a + w(id, s, split), 0) / OOD_SPLITS.length;
  assert.is(claims.size, 2);
  expectDiff(
    claims,
    't2-full-grpo',
    meanOver((s) => ood('full', s) - ood('grpo', s)),
  );
  expectDiff(
    claims,
    't2-grpo-sft',
    meanOver((s) => ood('grpo', s) - ood('sft', s)),
  );
});

test('table3-components: each component over plain GRPO; all three over the best single one', async () => {
  const vs = [V.grpo, V.grpoCot, V.grpoPos, V.grpoSc, V.full];
  const { claims, written: w } = await claimsOf('table3-components', rowsOf(vs, testRef));
  const t = (id: string, s: number) => w(id, s, 'test');
  assert.is(claims.size, 4);
  expectDiff(
    claims,
    't3-cot',
    meanOver((s) => t('grpo-cot', s) - t('grpo', s)),
  );
  expectDiff(
    claims,
    't3-pos',
    meanOver((s) => t('grpo-pos', s) - t('grpo', s)),
  );
  expectDiff(
    claims,
    't3-sc',
    meanOver((s) => t('grpo-sc', s) - t('grpo', s)),
  );
  const singles = ['grpo-cot', 'grpo-pos', 'grpo-sc'];
  const best = singles.reduce((b, id) => (meanOver((s) => t(id, s)) > meanOver((s) => t(b, s)) ? id : b));
  assert.is(best, 'grpo-sc', 'the written accuracies grow with the row: the last single one is the best');
  expectDiff(
    claims,
    't3-full',
    meanOver((s) => t('full', s) - t(best, s)),
  );
});

test('table4-rewards: R_pos over each alternative; GIoU and DIoU together no better than IoU alone', async () => {
  const vs = [V.grpo, V.grpoGiou, V.grpoDiou, V.grpoCenter, V.grpoPos];
  const { claims, written: w } = await claimsOf('table4-rewards', rowsOf(vs, testRef));
  const t = (id: string, s: number) => w(id, s, 'test');
  assert.is(claims.size, 4);
  expectDiff(
    claims,
    't4-pos-vs-0',
    meanOver((s) => t('grpo-pos', s) - t('grpo-giou', s)),
  );
  expectDiff(
    claims,
    't4-pos-vs-1',
    meanOver((s) => t('grpo-pos', s) - t('grpo-diou', s)),
  );
  expectDiff(
    claims,
    't4-pos-vs-2',
    meanOver((s) => t('grpo-pos', s) - t('grpo-center', s)),
  );
  expectDiff(
    claims,
    't4-giou-hurts',
    meanOver((s) => (t('grpo-giou', s) + t('grpo-diou', s)) / 2 - t('grpo', s)),
    'not-greater',
  );
});

test('table5-consistency: each term alone over none; both over the mean of the single-term rows', async () => {
  const vs = [V.grpo, V.grpoScM, V.grpoScV, V.grpoSc];
  const { claims, written: w } = await claimsOf('table5-consistency', rowsOf(vs, testRef));
  const t = (id: string, s: number) => w(id, s, 'test');
  assert.is(claims.size, 3);
  expectDiff(
    claims,
    't5-m',
    meanOver((s) => t('grpo-sc-m', s) - t('grpo', s)),
  );
  expectDiff(
    claims,
    't5-v',
    meanOver((s) => t('grpo-sc-v', s) - t('grpo', s)),
  );
  expectDiff(
    claims,
    't5-both',
    meanOver((s) => t('grpo-sc', s) - (t('grpo-sc-m', s) + t('grpo-sc-v', s)) / 2),
  );
});

test('few-shot: RFT − SFT at each k in domain and averaged out of domain; RFT with a trace − SFT', async () => {
  const refs = (c: CommonConfig): DataRef[] => [
    dataRef(c, 'test', c.data.test),
    ...OOD_SPLITS.map((split) => ({ split, count: c.data.ood })),
  ];
  const methods = ['sft', 'rft', 'rft-trace'] as const;
  const { claims, written: w } = await claimsOf('few-shot', (c) => [
    ...SEEDS.flatMap((seed) => refs(c).map((ref) => ({ key: 'base', spec: baseSpec(c, seed), ref }))),
    ...methods.flatMap((m) =>
      SHOTS.flatMap((k) =>
        SEEDS.flatMap((seed) => refs(c).map((ref) => ({ key: `${m}-${k}`, spec: shotSpec(c, m, k, seed), ref }))),
      ),
    ),
  ]);
  const ood = (key: string, s: number) => OOD_SPLITS.reduce((a, split) => a + w(key, s, split), 0) / OOD_SPLITS.length;
  assert.is(claims.size, 3 * SHOTS.length);
  for (const k of SHOTS) {
    expectDiff(
      claims,
      `fs-in-${k}`,
      meanOver((s) => w(`rft-${k}`, s, 'test') - w(`sft-${k}`, s, 'test')),
    );
    expectDiff(
      claims,
      `fs-ood-${k}`,
      meanOver((s) => ood(`rft-${k}`, s) - ood(`sft-${k}`, s)),
    );
    expectDiff(
      claims,
      `fs-trace-${k}`,
      meanOver((s) => w(`rft-trace-${k}`, s, 'test') - w(`sft-${k}`, s, 'test')),
    );
  }
});

test('remotereasoner: GRPO over the base, over SFT and over GRPO without R_count; LoRA no worse', async () => {
  const { claims, written: w } = await claimsOf(
    'remotereasoner',
    (c) =>
      ROWS.flatMap((r) =>
        SEEDS.flatMap((seed) => [
          { key: r.id, spec: rowSpec(c, r, seed), ref: { split: 'region-test', count: c.data.test } },
          ...(['base', 'sft', 'grpo', 'sft-grpo'].includes(r.id)
            ? REGION_OOD_SPLITS.map((split) => ({
                key: r.id,
                spec: rowSpec(c, r, seed),
                ref: { split, count: c.data.ood },
              }))
            : []),
        ]),
      ),
    true,
  );
  const t = (id: string, s: number) => w(id, s, 'region-test');
  assert.is(claims.size, 4);
  expectDiff(
    claims,
    'rr-rl',
    meanOver((s) => t('grpo', s) - t('base', s)),
  );
  expectDiff(
    claims,
    'rr-vs-sft',
    meanOver((s) => t('grpo', s) - t('sft', s)),
  );
  expectDiff(
    claims,
    'rr-lora',
    meanOver((s) => t('grpo', s) - t('grpo-lora', s)),
    'not-greater',
  );
  expectDiff(
    claims,
    'rr-count',
    meanOver((s) => t('grpo', s) - t('grpo-nocount', s)),
  );
});

test('geocot: KL keeps the format, GRPO after CoT-SFT, CoT vs answer-only with or without GRPO, the mix', async () => {
  const task = { n: 10, acc: 0.5, meanScore: 0.5, formatRate: 1, map50: 0.5 };
  const tasks = Object.fromEntries(MIXED_TASKS.map((t) => [t, task]));
  const { claims, written: w } = await claimsOf('geocot', (c) => [
    ...rowsOf([V.base, V.sft, V.sftGrpo, V.cotsftGeocot, V.geocotKl, V.geocotNoKl], testRef)(c),
    ...MULTI_ROWS.flatMap((r) =>
      SEEDS.map((seed) => ({
        key: r.id,
        spec: multiSpec(c, r, seed),
        ref: { split: 'multi-test', count: c.data.test },
        extra: { tasks },
      })),
    ),
  ]);
  const t = (id: string, s: number) => w(id, s, 'test');
  assert.is(claims.size, 5);
  const f = (id: string, s: number) => w(id, s, 'test#format');
  expectDiff(
    claims,
    'g-kl',
    meanOver((s) => f('geocot-kl', s) - f('geocot-nokl', s)),
  );
  expectDiff(
    claims,
    'g-rft',
    meanOver((s) => t('geocot-kl', s) - t('cotsft-geocot', s)),
  );
  expectDiff(
    claims,
    'g-cot-grpo',
    meanOver((s) => t('geocot-kl', s) - t('sft-grpo', s)),
  );
  expectDiff(
    claims,
    'g-cot',
    meanOver((s) => t('cotsft-geocot', s) - t('sft', s)),
  );
  const m = (id: string, s: number) => w(id, s, 'multi-test');
  expectDiff(
    claims,
    'g-multi',
    meanOver((s) => m('multi-cotsft-grpo', s) - m('multi-cotsft', s)),
  );
});

test('fig6-extended: full − GRPO on test, both trained three times longer', async () => {
  const { claims, written: w } = await claimsOf('fig6-extended', (c) => {
    assert.is(c.grpo.steps, 3 * resolveConfig('table1', { scale: 'default' }).config.grpo.steps);
    return rowsOf([V.grpo, V.full], testRef)(c);
  });
  assert.is(claims.size, 1);
  expectDiff(
    claims,
    'f6-persist',
    meanOver((s) => w('full', s, 'test') - w('grpo', s, 'test')),
  );
});

test('fig5-reward-std: within-group reward std of GRPO − GRPO + L_SC over the second half of training', async () => {
  await withTempDirs(['RSG_RUNS_DIR'], async () => {
    const { config: c } = resolveConfig('fig5-reward-std', { scale: 'default', seeds: SEEDS });
    // 10 logged steps per run: the first half at 0.9 (it must not count), the second at a value per row and seed
    const late = (id: string, seed: number) => 0.2 + 0.05 * (id === 'grpo' ? 1 : 0) + 0.01 * ((seed * 3) % 4);
    for (const v of [V.grpo, V.grpoSc])
      for (const seed of SEEDS) {
        const file = join(stageDir(variantSpec(c, v, seed)), 'metrics.jsonl');
        mkdirSync(dirname(file), { recursive: true });
        const lines = Array.from({ length: 10 }, (_, i) => ({
          step: 10 * (i + 1),
          'reward/std_in_group': i < 5 ? 0.9 : late(v.id, seed) + 0.001 * (i - 7),
        }));
        writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      }
    const report = await findExperiment('fig5-reward-std').report({
      scale: 'default',
      config: c,
      log: () => {},
      pool: { jobs: 1, log: () => {}, executor: { name: 'none', run: async () => {} } },
    });
    const claims = new Map(report.claims.map((x) => [x.id, x]));
    assert.is(claims.size, 1);
    // the second half's mean is late() (the offsets −2…+2 thousandths cancel)
    expectDiff(
      claims,
      'f5-std',
      meanOver((s) => late('grpo', s) - late('grpo-sc', s)),
      'less',
    );
  });
});

test.run();
