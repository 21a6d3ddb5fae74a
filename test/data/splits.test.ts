import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  groundingSample,
  groundingSplit,
  sampleAt,
  splitSpec,
  taskSplit,
  lazySplit,
  worldOf,
  SPLIT_NAMES,
  OOD_SPLITS,
} from '../../lib/data/splits';
import { taskOf } from '../../lib/data/samples';
import { worldTokenizer } from '../../lib/model/tokenizer';
import { targetText } from '../../lib/train-sft';
import { rolloutReward } from '../../lib/tasks';
import { DEFAULT_GROUNDING_REWARD } from '../../lib/rewards';
import type { Box } from '../../lib/boxes';
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

test('the Geo-CoT task mix cycles its four tasks, and each answer follows from the scene', () => {
  const mix = taskSplit('multi-val', { count: 200 });
  assert.equal(mix.slice(0, 8).map(taskOf), [
    'grounding',
    'counting',
    'detection',
    'vqa',
    'grounding',
    'counting',
    'detection',
    'vqa',
  ]);
  // random access: sample i alone is sample i of the split
  assert.is(
    JSON.stringify({ ...sampleAt(splitSpec('multi-val'), 7), image: null }),
    JSON.stringify({ ...mix[7], image: null }),
  );
  const kinds = new Set<string>();
  for (const s of mix) {
    const objects = s.meta!.objects as { cls: string; color: string; box: Box }[];
    const ofCls = (c: string) => objects.filter((o) => o.cls === c);
    if (!('task' in s)) continue;
    if (s.task === 'counting') assert.is(s.count, ofCls(s.category).length);
    if (s.task === 'detection') {
      assert.is(s.query, `find every ${s.category}`);
      assert.equal(
        [...s.boxes].sort((a, b) => a.x1 - b.x1),
        ofCls(s.category)
          .map((o) => o.box)
          .sort((a, b) => a.x1 - b.x1),
      );
    }
    if (s.task !== 'vqa') continue;
    kinds.add(s.kind);
    if (s.kind === 'presence') assert.is(s.answer, ofCls(s.category).length > 0 ? 'there are' : 'no');
    if (s.kind === 'class') {
      // the named extreme object, recomputed here from the centres
      const which = s.query.split(' ')[1];
      const key = (b: Box) =>
        which === 'leftmost'
          ? b.x1 + b.x2
          : which === 'rightmost'
            ? -(b.x1 + b.x2)
            : which === 'topmost'
              ? b.y1 + b.y2
              : -(b.y1 + b.y2);
      const best = [...objects].sort((a, b) => key(a.box) - key(b.box))[0];
      assert.is(s.answer, best.cls, s.query);
    }
    if (s.kind === 'color') assert.ok(ofCls(s.category).some((o) => o.color === s.answer));
    if (s.kind === 'count') {
      const n = Number(s.answer);
      assert.ok(n <= ofCls(s.category).length);
      assert.equal(s.near, [n - 1, n + 1].filter((k) => k >= 0).map(String));
    }
  }
  assert.equal([...kinds].sort(), ['class', 'color', 'count', 'presence']);
});

test('every task mix query and target is in the world vocabulary, and every target earns full marks', () => {
  const tok = worldTokenizer(64);
  for (const s of taskSplit('multi-train', { count: 120 }))
    for (const style of ['short', 'geocot'] as const) {
      const t = targetText(s, style);
      const unknown = tok.pieces(`${s.query} ${t}`).filter((p) => tok.tokenId(p) === tok.unkId);
      assert.equal(unknown, [], `${s.id} ${style}: ${t}`);
      const r = rolloutReward(t, s, s, { reward: DEFAULT_GROUNDING_REWARD });
      assert.equal([r.format, r.iou], [1, 1], `${s.id} ${style}: ${t}`);
    }
});

test('an on-demand split gives the samples of the whole split, index for index, and knows each task unread', () => {
  for (const split of ['train', 'multi-val']) {
    const all = taskSplit(split, { count: 12 });
    const lazy = lazySplit(split, 12);
    assert.is(lazy.length, 12);
    // read out of order: each sample comes from its own seed, not from the ones read before it
    for (const i of [7, 0, 11, 3, 7]) {
      assert.equal(lazy.at(i), all[i]);
      assert.is(lazy.taskAt!(i), taskOf(all[i]));
    }
    assert.is(lazy.at(5), lazy.at(5), 'a sample is generated once and kept');
    assert.is(lazy.at(12), undefined);
    assert.is(lazy.at(-1), undefined);
  }
  assert.ok(new Set(taskSplit('multi-val', { count: 12 }).map(taskOf)).size > 1, 'the mixed split mixes tasks');
});

test.run();
