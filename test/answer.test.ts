import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAnswer, formatReward, parseBoxes, parseCount, thinkBlock } from '../lib/answer';

type Case = [name: string, text: string, format: 0 | 1, parsed: [number, number, number, number] | null];
const T = '<think>the vehicle at the top left</think>';
const cases: Case[] = [
  ['canonical', `${T}<answer>[1, 2, 3, 4]</answer>`, 1, [1, 2, 3, 4]],
  ['surrounding whitespace and a newline between blocks', `  \n${T}\n<answer>[1,2,3,4]</answer>\n `, 1, [1, 2, 3, 4]],
  [
    'Qwen2.5-VL JSON answer',
    `${T}<answer>{"bbox_2d": [10, 20, 30, 40], "label": "vehicle"}</answer>`,
    1,
    [10, 20, 30, 40],
  ],
  ['spaces inside the list', `${T}<answer>[ 1 ,2 , 3,4 ]</answer>`, 1, [1, 2, 3, 4]],
  ['unicode reasoning', '<think>左上角的车辆 🚗</think><answer>[1, 2, 3, 4]</answer>', 1, [1, 2, 3, 4]],
  ['invalid box is still well formatted', `${T}<answer>[5, 5, 1, 1]</answer>`, 1, [5, 5, 1, 1]],
  ['blank think', '<think>  \n </think><answer>[1,2,3,4]</answer>', 0, [1, 2, 3, 4]],
  ['missing think', '<answer>[1,2,3,4]</answer>', 0, [1, 2, 3, 4]],
  [
    'two answer blocks: first one is parsed',
    `${T}<answer>[1,2,3,4]</answer><answer>[5,6,7,8]</answer>`,
    0,
    [1, 2, 3, 4],
  ],
  ['decimal coordinate', `${T}<answer>[1.5, 2, 3, 4]</answer>`, 0, [1.5, 2, 3, 4]],
  ['negative coordinate', `${T}<answer>[-1, 2, 3, 4]</answer>`, 0, [-1, 2, 3, 4]],
  ['two lists in one answer', `${T}<answer>[1,2,3,4] or [5,6,7,8]</answer>`, 0, [1, 2, 3, 4]],
  ['nested list: inner one parsed', `${T}<answer>[[1,2,3,4]]</answer>`, 1, [1, 2, 3, 4]],
  ['three numbers', `${T}<answer>[1,2,3]</answer>`, 0, null],
  ['five numbers', `${T}<answer>[1,2,3,4,5]</answer>`, 0, null],
  ['trailing text after the answer', `${T}<answer>[1,2,3,4]</answer> done`, 0, [1, 2, 3, 4]],
  ['text between think and answer', `${T} so <answer>[1,2,3,4]</answer>`, 0, [1, 2, 3, 4]],
  ['answer tag inside think', '<think>a <answer> b</think><answer>[1,2,3,4]</answer>', 0, [1, 2, 3, 4]],
  ['think tag inside answer', `${T}<answer><think>[1,2,3,4]</answer>`, 0, [1, 2, 3, 4]],
  ['unclosed answer', `${T}<answer>[1,2,3,4]`, 0, null],
  ['answer before think', `<answer>[1,2,3,4]</answer>${T}`, 0, [1, 2, 3, 4]],
  ['upper-case tags', '<THINK>x</THINK><ANSWER>[1,2,3,4]</ANSWER>', 0, null],
  ['full-width digits are not digits', `${T}<answer>[１, 2, 3, 4]</answer>`, 0, null],
  ['exponent notation is not a number here', `${T}<answer>[1e2, 2, 3, 4]</answer>`, 0, null],
  ['plus sign', `${T}<answer>[+1, 2, 3, 4]</answer>`, 0, null],
  ['empty string', '', 0, null],
  ['only whitespace', ' \n\t ', 0, null],
  ['empty answer', `${T}<answer></answer>`, 0, null],
  ['truncated mid-list (max length hit)', `${T}<answer>[12, 40, 3`, 0, null],
];

for (const [name, text, format, parsed] of cases) {
  test(`answer text: ${name}`, () => {
    assert.is(formatReward(text), format, `formatReward(${JSON.stringify(text)})`);
    const box = parseAnswer(text);
    assert.equal(box && [box.x1, box.y1, box.x2, box.y2], parsed);
  });
}

test('a coordinate that is not finite once parsed earns no format reward (SPEC §3.1)', () => {
  const big = '9'.repeat(400);
  assert.is(formatReward(`<think>x</think><answer>[1, 2, ${big}, 4]</answer>`), 0);
  assert.is(formatReward(`<think>x</think><answer>[1, 2, 3, 4]</answer>`), 1);
});

test('never throws on non-strings', () => {
  for (const bad of [null, undefined, 42, {}, []] as unknown as string[]) {
    assert.is(formatReward(bad), 0);
    assert.is(parseAnswer(bad), null);
    assert.is(parseBoxes(bad), null);
  }
});

test('10⁶-character and adversarial texts are handled quickly and correctly', () => {
  const long = `<think>${'a'.repeat(1_000_000)}</think><answer>[1, 2, 3, 4]</answer>`;
  const t0 = Date.now();
  assert.is(formatReward(long), 1);
  assert.equal(parseAnswer(long), { x1: 1, y1: 2, x2: 3, y2: 4 });
  // Patterns that make naive backtracking regexes quadratic or worse:
  const adversarial = [
    '<answer>'.repeat(125_000),
    `<think>x</think><answer>${'[1, '.repeat(250_000)}</answer>`,
    `<answer>[${'1'.repeat(1_000_000)}</answer>`,
    `<think>${'</think><answer>'.repeat(60_000)}`,
    `${'<think>x</think>'.repeat(60_000)}<answer>[1,2,3,4]</answer>`,
  ];
  for (const s of adversarial) {
    assert.is(formatReward(s), 0);
    parseAnswer(s);
    parseBoxes(s);
    parseCount(s);
  }
  // A million spaces inside the list are still a valid answer (spaces are allowed).
  const spaced = `<think>x</think><answer>[${' '.repeat(1_000_000)}1,2,3,4]</answer>`;
  assert.is(formatReward(spaced), 1);
  assert.equal(parseAnswer(spaced), { x1: 1, y1: 2, x2: 3, y2: 4 });
  // A generous bound that only a super-linear algorithm would break.
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
});

test('parseBoxes reads several-box answers (SPEC §3.7)', () => {
  const b = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });
  // a list of lists, in answer order
  assert.equal(parseBoxes(`${T}<answer>[[1,2,3,4], [5, 6, 7, 8]]</answer>`), [b(1, 2, 3, 4), b(5, 6, 7, 8)]);
  // a flat four-number list is one box; decimals and negatives parse (validity is the rewards' business)
  assert.equal(parseBoxes(`${T}<answer>[9, 8.5, -7, 6]</answer>`), [b(9, 8.5, -7, 6)]);
  // a JSON list of bbox_2d objects
  const json = '[{"bbox_2d": [1, 2, 3, 4], "label": "ship"}, {"bbox_2d": [10, 20, 30, 40]}]';
  assert.equal(parseBoxes(`${T}<answer>${json}</answer>`), [b(1, 2, 3, 4), b(10, 20, 30, 40)]);
  // an inner list that is not four numbers is skipped
  assert.equal(parseBoxes(`${T}<answer>[[1, 2, 3], [5, 6, 7, 8]]</answer>`), [b(5, 6, 7, 8)]);
  // the first answer block only
  assert.equal(parseBoxes(`${T}<answer>[]</answer><answer>[1, 2, 3, 4]</answer>`), []);
  // an empty list is "no such object"; nothing parseable or no block is null
  assert.equal(parseBoxes(`${T}<answer>[ ]</answer>`), []);
  assert.is(parseBoxes(`${T}<answer>none</answer>`), null);
  assert.is(parseBoxes(`${T}<answer>[1, 2]</answer>`), null);
  assert.is(parseBoxes('no answer'), null);
});

test('counts and think blocks', () => {
  assert.is(parseCount('<think>x</think><answer>There are a total of 6 airplanes.</answer>'), 6);
  assert.is(parseCount('<think>x</think><answer>none</answer>'), null);
  assert.is(thinkBlock(`${T}<answer>[1,2,3,4]</answer>`), 'the vehicle at the top left');
});

test.run();
