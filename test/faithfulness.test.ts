import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { faithfulness, repetitionRate, traceStructure } from '../lib/faithfulness';
import { countingSplit, groundingSplit, regionSplit } from '../lib/data/splits';
import type { Box } from '../lib/boxes';
import { close } from './helpers';

type Obj = { cls: string; box: Box };
const objectsOf = (s: { meta?: Record<string, unknown> }) => s.meta!.objects as Obj[];
const geocot = (s: { meta?: Record<string, unknown> }) => (s.meta!.cot as Record<string, string>).geocot;
/** The policy's spacing: every bracket, comma and period a token of its own. */
const spaced = (t: string) => t.replace(/([[\],.])/g, ' $1 ').replace(/\s+/g, ' ');

test('the mini world’s Geo-CoT traces are well formed and faithful, compact or token-spaced', () => {
  const samples = [
    ...groundingSplit('val', { count: 30 }),
    ...countingSplit('count-test', { count: 30 }),
    ...regionSplit('region-test', { count: 30 }),
  ];
  for (const s of samples) {
    for (const text of [geocot(s), spaced(geocot(s))]) {
      const t = traceStructure(text);
      assert.ok(t.ok, text);
      const f = faithfulness(text, objectsOf(s));
      if (t.evidence.length) assert.is(f.evidenceMatch, 1, text);
      // grounding synthesis names an evidence box; counting and region syntheses state the evidence's count
      assert.is(f.synthesisAgrees, true, text);
    }
  }
});

test('structure: missing, repeated or reordered sections and unreadable evidence break it', () => {
  const ok =
    '<think>plan : find every ship . evidence : ship [1, 2, 10, 12] . synthesis : there is 1 ship ' +
    '.</think><answer>1</answer>';
  assert.ok(traceStructure(ok).ok);
  assert.equal(traceStructure(ok).evidence, [{ cls: 'ship', box: { x1: 1, y1: 2, x2: 10, y2: 12 } }]);
  const broken = [
    ok.replace('plan : find every ship . ', ''),
    ok.replace('evidence : ship [1, 2, 10, 12] . ', ''),
    ok.replace('synthesis :', 'plan :'),
    '<think>evidence : ship [1, 2, 10, 12] . plan : x . synthesis : y .</think><answer>1</answer>',
    ok.replace('ship [1, 2, 10, 12]', 'ship [1, 2, 10]'),
    ok.replace('ship [1, 2, 10, 12]', '[1, 2, 10, 12]'),
    ok.replace('<think>', ''),
    `<think>plan : x . evidence : ${'ship '.repeat(10_000)}[1, 2, 3, 4] . synthesis : y .</think>`,
    ok.replace('synthesis : there is 1 ship', 'synthesis : there is 1 ship . synthesis : there are 2 ships'),
  ];
  for (const b of broken) assert.is(traceStructure(b).ok, false, b);
  // "no <class>" is an empty but valid evidence list
  const none = '<think>plan : find every ship . evidence : no ship . synthesis : there are 0 ships .</think>';
  assert.ok(traceStructure(none).ok);
  assert.equal(faithfulness(none, []), { evidenceMatch: NaN, synthesisAgrees: true });
});

test('faithfulness, hand-computed: wrong class, shifted box, a synthesis that contradicts its evidence', () => {
  const objects: Obj[] = [
    { cls: 'ship', box: { x1: 0, y1: 0, x2: 10, y2: 10 } },
    { cls: 'vehicle', box: { x1: 20, y1: 20, x2: 30, y2: 30 } },
  ];
  // three evidence items: right; the vehicle called a ship; the ship shifted by 5 (IoU 1/3)
  const t =
    '<think>plan : find every ship . evidence : ship [0, 0, 10, 10] ; ship [20, 20, 30, 30] ; ship [5, 0, 15, 10] . ' +
    'synthesis : there are 2 ships .</think><answer>2</answer>';
  const f = faithfulness(t, objects);
  close(f.evidenceMatch, 1 / 3);
  assert.is(f.synthesisAgrees, false); // 2 stated, 3 listed
  assert.is(faithfulness(t.replace('there are 2 ships', 'there are three ships'), objects).synthesisAgrees, true);
  // a grounding synthesis must pick one of its evidence boxes
  const g = (box: string) =>
    `<think>plan : find every ship , then pick the left one . evidence : ship [0, 0, 10, 10] . synthesis : the left ` +
    `one is ${box} .</think>`;
  assert.is(faithfulness(g('[0, 0, 10, 10]'), objects).synthesisAgrees, true);
  assert.is(faithfulness(g('[40, 40, 50, 50]'), objects).synthesisAgrees, false);
  // a synthesis with neither box nor count says nothing checkable
  assert.is(faithfulness(g('unclear'), objects).synthesisAgrees, null);
  assert.equal(faithfulness('garbage', objects), { evidenceMatch: NaN, synthesisAgrees: null });
});

test('repetition rate, hand-computed', () => {
  assert.is(repetitionRate('a b c d e f'), 0);
  // 2-grams of "a b a b a b": ab ba ab ba ab → 3 of 5 seen before
  close(repetitionRate('a b a b a b', 2), 3 / 5);
  close(repetitionRate('x x x x x x', 4), 2 / 3); // 3 four-grams, 2 repeats
  assert.is(repetitionRate('a b', 4), 0);
  assert.is(repetitionRate(''), 0);
});

test('faithfulness counts IoU 0.5 exactly as a match, for evidence and for the synthesis’s box', () => {
  const objects: Obj[] = [{ cls: 'ship', box: { x1: 0, y1: 0, x2: 10, y2: 10 } }];
  const t = '<think>plan : find the ship . evidence : ship [0, 0, 10, 5] . synthesis : it is [0, 0, 10, 10] .</think>';
  assert.equal(faithfulness(t, objects), { evidenceMatch: 1, synthesisAgrees: true });
});

test.run();
