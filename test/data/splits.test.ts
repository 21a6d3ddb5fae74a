import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { groundingSample, groundingSplit, splitSpec, worldOf, SPLIT_NAMES, OOD_SPLITS } from '../../lib/data/splits';
import { datasetStats } from '../../lib/data/stats';

test('sample i of a split is the same whether generated alone or in a batch, and byte-identical across calls', () => {
  const a = groundingSample('train', 17);
  const b = groundingSplit('train', { start: 15, count: 5 })[2];
  assert.is(JSON.stringify({ ...a, image: null }), JSON.stringify({ ...b, image: null }));
  assert.equal(Buffer.from(a.image.rgb!), Buffer.from(b.image.rgb!));
  assert.is(a.id, 'train-000017');
});

test('splits are independent: train, val and test share no scene', () => {
  const hash = (s: ReturnType<typeof groundingSample>) => Buffer.from(s.image.rgb!).toString('base64');
  const train = new Set(groundingSplit('train', { count: 200 }).map(hash));
  for (const s of [...groundingSplit('val', { count: 200 }), ...groundingSplit('test', { count: 200 })])
    assert.ok(!train.has(hash(s)));
});

test(
  'the RSVG splits follow their cue mix; the generic corpus is non-positional, mostly unique-class, in another ' +
    'region',
  () => {
    const train = datasetStats(groundingSplit('train', { count: 400 }));
    for (const fam of ['category', 'attribute', 'absolute', 'ordinal', 'relational']) {
      const want = splitSpec('train').cueWeights[fam as 'category'];
      const got = (train.cueFamilies[fam] ?? 0) / train.n;
      assert.ok(Math.abs(got - want) < 0.05, `${fam}: ${got} vs ${want}`);
    }
    assert.ok(train.uniqueFrac < 0.35, `unique ${train.uniqueFrac}`);
    const generic = datasetStats(groundingSplit('generic', { count: 400 }));
    const positional =
      ((generic.cueFamilies.absolute ?? 0) +
        (generic.cueFamilies.ordinal ?? 0) +
        (generic.cueFamilies.relational ?? 0)) /
      generic.n;
    assert.is(positional, 0, `generic positional fraction ${positional}`);
    assert.ok(Math.abs((generic.cueFamilies.category ?? 0) / generic.n - 0.75) < 0.06);
    assert.ok(generic.uniqueFrac > 0.5, `generic unique ${generic.uniqueFrac}`);
    for (const split of ['generic', 'generic-easy', 'generic-mid'])
      assert.ok(
        groundingSplit(split, { count: 5 }).every((s) => s.meta!.palette === 'arid'),
        split,
      );
    assert.ok(groundingSplit('train', { count: 5 }).every((s) => s.meta!.palette === 'temperate'));
  },
);

test('out-of-domain splits shift what they claim to shift', () => {
  const base = datasetStats(groundingSplit('test', { count: 200 }));
  const scale = datasetStats(groundingSplit('ood-scale', { count: 200 }));
  const dense = datasetStats(groundingSplit('ood-dense', { count: 200 }));
  assert.ok(
    scale.targetSide.median < base.targetSide.median * 0.85,
    `${scale.targetSide.median} vs ${base.targetSide.median}`,
  );
  assert.ok(dense.objectsPerImage.mean > base.objectsPerImage.mean + 2);
  assert.ok(dense.meanDistractors > base.meanDistractors);
  const pal = groundingSplit('ood-palette', { count: 5 });
  assert.ok(pal.every((s) => s.meta!.palette === 'volcanic'));
  // the palette shift is one no training split has seen, base pretraining included
  const trained = SPLIT_NAMES.filter((s) => !s.startsWith('ood-')).map((s) => worldOf(splitSpec(s)).palette);
  assert.not.ok(trained.includes('volcanic'));
  assert.equal(
    [...OOD_SPLITS].every((s) => SPLIT_NAMES.includes(s)),
    true,
  );
});

test('unknown splits and wrong tasks are clear errors', () => {
  assert.throws(
    () => splitSpec('training'),
    /unknown split "training"; choose from: generic, generic-easy, generic-mid, train, val/,
  );
  assert.throws(() => groundingSplit('count-train', { count: 1 }), /holds counting samples, not grounding/);
});

test.run();
