import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatReward, parseAnswer, parseCount, thinkBlock } from '../../lib/answer';
import { groundingSplit, countingSplit, regionSplit } from '../../lib/data/splits';
import { multiTargetReward } from '../../lib/rewards';
import { COT_STYLES, checkTrace, completion, factsOf, geocotThink } from '../../lib/data/cot';
import { worldTokenizer } from '../../lib/model/tokenizer';

test('every grounding trace, in every style, is well formatted and answers the ground truth', () => {
  for (const s of groundingSplit('val', { count: 300 })) {
    const cot = s.meta!.cot as Record<string, string>;
    for (const style of COT_STYLES) {
      const text = cot[style];
      assert.is(formatReward(text), 1, `${s.id} ${style}: ${text}`);
      assert.equal(parseAnswer(text), s.gt);
    }
  }
});

test('traces mention what they should: counts and regions (rsground), candidate boxes (geocot)', () => {
  const s = groundingSplit('val', { count: 50 }).find((x) => x.meta!.cueFamily === 'ordinal')!;
  const cot = s.meta!.cot as Record<string, string>;
  assert.match(thinkBlock(cot.rsground)!, /there are \w+ \w+/);
  assert.match(thinkBlock(cot.rsground)!, /so the target is (at|on|in) the/);
  const nBoxes = (thinkBlock(cot.geocot)!.match(/\[\d+, \d+, \d+, \d+\]/g) ?? []).length;
  // one box per candidate (≤ 6) plus the synthesis box
  assert.ok(nBoxes >= 3, cot.geocot);
  assert.match(thinkBlock(cot.short)!, /^find the /);
});

test('counting traces answer the count; region traces earn the full multi-target reward', () => {
  for (const s of countingSplit('count-test', { count: 100 })) {
    assert.is(parseCount((s.meta!.cot as Record<string, string>).geocot), s.count);
  }
  let empty = 0;
  for (const s of regionSplit('region-test', { count: 100 })) {
    const r = multiTargetReward((s.meta!.cot as Record<string, string>).geocot, s.boxes);
    assert.equal(r, { format: 1, iou: 1, count: 1, total: 3 }, s.query);
    if (s.boxes.length === 0) empty++;
  }
  assert.ok(empty >= 1, 'some region queries have no target');
});

test('checkTrace: the ground-truth traces check right, as the policy writes them (space-separated tokens)', () => {
  const tok = worldTokenizer(64);
  const asWritten = (t: string) => tok.decode(tok.encode(t));
  let checked = 0;
  for (const s of groundingSplit('val', { count: 120 })) {
    const cot = s.meta!.cot as Record<string, string>,
      f = factsOf(s);
    assert.equal(
      checkTrace(asWritten(cot.rsground), f, 'rsground'),
      { countRight: true, regionRight: true },
      cot.rsground,
    );
    assert.equal(checkTrace(asWritten(cot.geocot), f, 'geocot'), { countRight: true, regionRight: null }, cot.geocot);
    assert.equal(checkTrace(asWritten(cot.short), f, 'short'), { countRight: null, regionRight: null });
    // A wrong count word, or a wrong region, is caught.
    const words = ['one', 'two', 'three', 'four', 'five', 'six'];
    const n = f.objects.filter((o) => o.cls === f.expression.cls).length;
    const wrong = asWritten(cot.rsground).replace(/ (is|are) (\w+) /, ` are ${words[n % 6]} `);
    assert.is(checkTrace(wrong, f, 'rsground').countRight, false);
    const moved = asWritten(cot.rsground).replace(/so the target is .+? \. </, 'so the target is nowhere . <');
    assert.is(checkTrace(moved, f, 'rsground').regionRight, false);
    checked++;
  }
  assert.is(checked, 120);
  assert.equal(
    checkTrace(
      '<think> find it . </think> <answer> [ 1 , 2 , 3 , 4 ] </answer>',
      factsOf(groundingSplit('val', { count: 1 })[0]),
      'rsground',
    ),
    { countRight: null, regionRight: null },
  );
});

test('beyond six candidates: geocot keeps the target among the six it lists, and its count check expects six', () => {
  const s = groundingSplit('val', { count: 50 }).find((x) => x.meta!.cueFamily === 'ordinal')!;
  const f = factsOf(s);
  const cls = f.expression.cls;
  // eight objects of the queried class in a row, the target the rightmost (last in reading order)
  const objects = Array.from({ length: 8 }, (_, i) => ({ cls, box: { x1: 2 + 7 * i, y1: 30, x2: 6 + 7 * i, y2: 34 } }));
  const many = { ...f, objects, targetIndex: 7, gt: objects[7].box };
  const think = geocotThink(many);
  const listed = think.match(new RegExp(`${cls} \\[\\d+, \\d+, \\d+, \\d+\\]`, 'g')) ?? [];
  assert.is(listed.length, 6, think);
  assert.ok(think.includes(`${cls} [51, 30, 55, 34]`), 'the target is listed');
  assert.equal(checkTrace(completion(think, '[51, 30, 55, 34]'), many, 'geocot'), {
    countRight: true,
    regionRight: null,
  });
  // an rsground count in digits is read as a number
  const digits = `<think>there are ${objects.length} things . so the target is here .</think>`;
  assert.is(checkTrace(digits, many, 'rsground').countRight, true);
  assert.is(checkTrace(digits.replace('8', '7'), many, 'rsground').countRight, false);
});

test.run();
