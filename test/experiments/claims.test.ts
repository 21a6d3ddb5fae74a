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
import { dirname } from 'node:path';
import { resolveConfig } from '../../experiments/runner';
import { findExperiment } from '../../experiments/registry';
import { type Variant, dataRef, variantSpec } from '../../experiments/specs';
import { V } from '../../experiments/variants';
import type { Executor } from '../../experiments/scheduler';
import type { ClaimResult } from '../../lib/report/verdicts';
import { type DataRef, evalFile } from '../../lib/pipeline';
import { OOD_SPLITS } from '../../lib/data/splits';
import { withTempDirs } from '../helpers';

const SEEDS = [1, 2, 3, 4];
const IDS = Object.values(V).map((v) => v.id);

/** The accuracy written for a variant at a seed on a split: distinct per variant, varying with seed and split. */
function acc(id: string, seed: number, split: string): number {
  const i = IDS.indexOf(id);
  const k = (OOD_SPLITS as readonly string[]).indexOf(split) + 1;
  return 0.1 + 0.03 * i + 0.01 * ((i * 7 + seed * 3 + k * 2) % 5) + 0.02 * k;
}

/** Write a whole greedy evaluation with `round(acc × n)` hits (IoU 0.9) and misses (IoU 0.1); returns its accuracy. */
function writeEval(file: string, n: number, a: number): number {
  const hits = Math.round(a * n);
  const results = Array.from({ length: n }, (_, j) => ({
    id: `s${j}`,
    text: '',
    iou: j < hits ? 0.9 : 0.1,
    format: 1,
  }));
  const miou = (0.9 * hits + 0.1 * (n - hits)) / n;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify({
      acc50: hits / n,
      acc70: hits / n,
      miou,
      ciou: miou,
      n,
      formatRate: 1,
      meanLength: 10,
      byCue: {},
      results,
    }),
  );
  return hits / n;
}

/** Build an experiment's claims from hand-written evaluations; returns them and the accuracies written. */
async function claimsOf(
  name: string,
  variants: Variant[],
  refs: (c: ReturnType<typeof resolveConfig>['config']) => DataRef[],
): Promise<{ claims: Map<string, ClaimResult>; written: (id: string, seed: number, split: string) => number }> {
  return withTempDirs(['RSG_RUNS_DIR'], async () => {
    const { config } = resolveConfig(name, { scale: 'default', seeds: SEEDS });
    const written = new Map<string, number>();
    for (const v of variants)
      for (const seed of SEEDS)
        for (const ref of refs(config)) {
          const a = writeEval(evalFile(variantSpec(config, v, seed), ref), ref.count, acc(v.id, seed, ref.split));
          written.set(`${v.id}/${seed}/${ref.split}`, a);
        }
    // every evaluation is on disk: an executor asked to run anything is a failure of this test
    const executor: Executor = {
      name: 'none',
      run: async (tasks) => {
        const evals = tasks.filter((t) => t.kind === 'eval');
        assert.ok(evals.length > 0, 'the report asks for its evaluations');
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
      written: (id, seed, split) => {
        const a = written.get(`${id}/${seed}/${split}`);
        if (a === undefined) throw new Error(`no evaluation written for ${id} seed ${seed} on ${split}`);
        return a;
      },
    };
  });
}

const meanOver = (f: (seed: number) => number) => SEEDS.reduce((a, s) => a + f(s), 0) / SEEDS.length;

function expectDiff(claims: Map<string, ClaimResult>, id: string, expected: number, kind = 'greater'): void {
  const c = claims.get(id);
  assert.ok(c, `claim ${id} is reported (claims: ${[...claims.keys()].join(', ')})`);
  assert.ok(c!.diff, `${id} has an interval`);
  assert.ok(Math.abs(c!.diff!.mean - expected) < 1e-9, `${id}: difference ${c!.diff!.mean}, expected ${expected}`);
  assert.is(c!.kind, kind, `${id}: direction`);
}

test('table1: full − GRPO and GRPO − SFT on the test split', async () => {
  const { claims, written: w } = await claimsOf('table1', [V.base, V.sft, V.grpo, V.full], (c) => [
    dataRef(c, 'test', c.data.test),
  ]);
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
  const { claims, written: w } = await claimsOf('table2-ood', [V.sft, V.grpo, V.full], (c) =>
    OOD_SPLITS.map((split) => ({ split, count: c.data.ood })),
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
  const { claims, written: w } = await claimsOf('table3-components', vs, (c) => [dataRef(c, 'test', c.data.test)]);
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
  // the written accuracies grow with the variant's place in V: the best single row is the last of them
  assert.is(
    best,
    singles.reduce((b, id) => (IDS.indexOf(id) > IDS.indexOf(b) ? id : b)),
  );
  expectDiff(
    claims,
    't3-full',
    meanOver((s) => t('full', s) - t(best, s)),
  );
});

test('table4-rewards: R_pos over each alternative; GIoU and DIoU together no better than IoU alone', async () => {
  const vs = [V.grpo, V.grpoGiou, V.grpoDiou, V.grpoCenter, V.grpoPos];
  const { claims, written: w } = await claimsOf('table4-rewards', vs, (c) => [dataRef(c, 'test', c.data.test)]);
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
  const { claims, written: w } = await claimsOf('table5-consistency', vs, (c) => [dataRef(c, 'test', c.data.test)]);
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

test.run();
