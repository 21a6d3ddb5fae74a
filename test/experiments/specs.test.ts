/**
 * Variants → stage specs: what each row trains. A spec is a run's identity (its hash names the
 * stage), so the suite's whole stage set is pinned here: a change to any spec — a default, a
 * curriculum, a seed rule — fails this test and has to be made on purpose (the runs trained
 * before it are not reused; `--list-stale` lists them).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SUITE } from '../../experiments/registry';
import { resolveConfig } from '../../experiments/runner';
import { trainTasks } from '../../experiments/scheduler';
import { baseSpec, mergeGrpo, sftSpec, variantSpec } from '../../experiments/specs';
import { SCALES } from '../../experiments/scales';
import { V } from '../../experiments/variants';
import { hashConfig } from '../../lib/files';
import type { GrpoSpec, SftSpec } from '../../lib/pipeline';

const c = SCALES.default;

test('a row starts GRPO from its seed’s lineage; the A/A row only offsets the GRPO seed', () => {
  const grpo = variantSpec(c, V.grpo, 2) as GrpoSpec;
  const aa = variantSpec(c, V.grpoAA, 2) as GrpoSpec;
  assert.equal([grpo.seed, aa.seed], [2, 1002]);
  assert.equal(aa.from, baseSpec(c, 2));
  assert.equal(aa.grpo, grpo.grpo);
  // rows without RFT are their init model
  assert.equal(variantSpec(c, V.base, 3), baseSpec(c, 3));
  assert.equal(variantSpec(c, V.sft, 3), sftSpec(c, 'short', 3));
});

test('CoT-SFT rows use the scale’s trace style unless the row names one; a longer budget comes with its SFT', () => {
  const cot = variantSpec(c, V.cotsft, 1) as SftSpec;
  assert.is(cot.sft.target, c.cot);
  const geo = variantSpec(c, V.cotsftGeocot, 1) as SftSpec;
  assert.is(geo.sft.target, 'geocot');
  assert.is(geo.maxCompletionLen, V.cotsftGeocot.budget);
  assert.ok(geo.maxCompletionLen! > c.arch.maxCompletionLen);
  assert.equal(geo.from, baseSpec(c, 1), 'the same base as every other row of the seed');
  assert.throws(() => variantSpec(c, { ...V.grpo, budget: 128 }, 1), /a longer budget is given by an SFT stage/);
});

test('the base pretrains on easy, mid, then full generic scenes; GRPO overrides merge field by field', () => {
  assert.equal(
    baseSpec(c, 1).curriculum.map((p) => [p.until, p.data.split]),
    [
      [0.3, 'generic-easy'],
      [0.6, 'generic-mid'],
      [1, 'generic'],
    ],
  );
  const m = mergeGrpo(c.grpo, { reward: { beta: 0.3 }, consistency: { lambdaV: 0 } });
  assert.equal(m.reward, { ...c.grpo.reward, beta: 0.3 });
  assert.equal(m.consistency, { ...c.grpo.consistency, lambdaV: 0 });
});

test('the suite’s stage set is pinned: 270 distinct stages at the default scale, 54 at quick', () => {
  const pinned = {
    default: { n: 270, kinds: { base: 5, sft: 50, grpo: 215 }, digest: '8b4bb0f24d58' },
    quick: { n: 54, kinds: { base: 1, sft: 10, grpo: 43 }, digest: '196661e02879' },
  } as const;
  for (const scale of ['default', 'quick'] as const) {
    const tasks = trainTasks(SUITE.flatMap((e) => e.specs(resolveConfig(e.name, { scale }).config)));
    const hashes = tasks.map((t) => hashConfig(t.spec)).sort();
    const kinds = { base: 0, sft: 0, grpo: 0 };
    for (const t of tasks) kinds[t.spec.kind]++;
    assert.is(tasks.length, pinned[scale].n, scale);
    assert.is(new Set(hashes).size, tasks.length, `${scale}: no two stages share a spec`);
    assert.equal(kinds, pinned[scale].kinds, scale);
    assert.is(hashConfig(hashes), pinned[scale].digest, `${scale}: a stage spec changed (see this file's header)`);
  }
});

test.run();
