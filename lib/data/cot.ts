/**
 * Ground-truth completions for supervised stages, written from the scene's ground truth
 * ("backfilling under GT constraints", papers 000 §3.2 and 001):
 *
 * - `rsground`: position-aware reasoning in words (RSGround-R1 CoT-SFT): how many look-alikes
 *   there are, which cue separates them, where the target lies.
 * - `geocot`: Geo-CoT's plan → grounded evidence (a box for every candidate) → synthesis.
 * - `short`: no reasoning ("find the vehicle ."), the format of the base model and of the
 *   answer-only SFT baseline.
 *
 * Every completion ends in the SPEC §3.1 answer format and has formatReward = 1.
 */
import { center, formatBox, type Box } from '../boxes';
import { type Expression, regionOf, regionPhrase, selectorPhrase } from './referring';
import { PLURAL, type ObjectClass } from './world';

export const COT_STYLES = ['short', 'rsground', 'geocot'] as const;
export type CotStyle = (typeof COT_STYLES)[number];

/** The minimal facts a trace is written from (what `GroundingSample.meta` carries). */
export type TraceFacts = {
  expression: Expression;
  gt: Box;
  imageSize: number;
  /** every object: class and box */
  objects: readonly { cls: ObjectClass; box: Box }[];
  targetIndex: number;
};

export function completion(think: string, answer: string): string {
  return `<think>${think}</think><answer>${answer}</answer>`;
}

const NUMBER_WORDS = [
  'no',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];
const ORDINAL_WORDS = ['', 'first', 'second', 'third', 'fourth'];
const countWord = (n: number) => NUMBER_WORDS[n] ?? String(n);

function where(b: Box, size: number): string {
  const [x, y] = center(b);
  return regionPhrase(regionOf(x, y, size));
}

/** "find the vehicle ." — no reasoning. */
export function shortThink(f: TraceFacts): string {
  return `find the ${f.expression.cls} .`;
}

/** RSGround-R1 style: position-aware reasoning in words. */
export function rsgroundThink(f: TraceFacts): string {
  const { expression: e, objects, imageSize: S } = f;
  const same = objects.filter((o) => o.cls === e.cls);
  const n = same.length;
  const count = n === 1 ? `there is one ${e.cls} .` : `there are ${countWord(n)} ${PLURAL[e.cls]} .`;
  const at = where(f.gt, S);
  const c = e.cue;
  let reason: string;
  switch (c.type) {
    case 'category':
      reason = `it is the only ${e.cls} .`;
      break;
    case 'color':
      reason = `only one of them is ${c.color} .`;
      break;
    case 'size':
      reason = `the ${c.which} one is ${at} .`;
      break;
    case 'absolute':
      reason = n === 1 ? `it is ${regionPhrase(c.region)} .` : `only one of them is ${regionPhrase(c.region)} .`;
      break;
    case 'ordinal':
      reason = `counting from the ${c.side} , it is the ${ORDINAL_WORDS[c.rank]} .`;
      break;
    case 'relational': {
      const lm = objects.find((o) => o.cls === c.landmark);
      const lmAt = lm ? where(lm.box, S) : 'in the image';
      reason = `the ${c.landmark} is ${lmAt} . the ${e.cls} ${c.relation} it is ${at} .`;
      break;
    }
  }
  return `${count} ${reason} so the target is ${at} .`;
}

/** Geo-CoT style: plan → grounded evidence (candidate boxes) → synthesis (paper 001). */
export function geocotThink(f: TraceFacts, maxCandidates = 6): string {
  const { expression: e, objects } = f;
  const idx = objects.map((_, i) => i).filter((i) => objects[i].cls === e.cls);
  // Candidates in reading order (left to right, then top to bottom); keep the target.
  idx.sort((a, b) => objects[a].box.x1 - objects[b].box.x1 || objects[a].box.y1 - objects[b].box.y1);
  let shown = idx.slice(0, maxCandidates);
  if (!shown.includes(f.targetIndex)) shown = [...shown.slice(0, maxCandidates - 1), f.targetIndex];
  const evidence = shown.map((i) => `${e.cls} ${formatBox(objects[i].box)}`);
  if (e.cue.type === 'relational') {
    const lmCls = e.cue.landmark;
    const lm = objects.find((o) => o.cls === lmCls);
    if (lm) evidence.unshift(`${lmCls} ${formatBox(lm.box)}`);
  }
  return (
    `plan : find every ${e.cls} , then pick ${selectorPhrase(e)} . evidence : ${evidence.join(' ; ')} . ` +
    `synthesis : ${selectorPhrase(e)} is ${formatBox(f.gt)} .`
  );
}

/** The full supervised completion for a grounding sample in a given style. */
export function groundingCompletion(f: TraceFacts, style: CotStyle): string {
  const think = style === 'rsground' ? rsgroundThink(f) : style === 'geocot' ? geocotThink(f) : shortThink(f);
  return completion(think, formatBox(f.gt));
}
