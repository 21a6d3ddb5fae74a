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
import type { GroundingSample } from './samples';

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

/** What a generated trace states, checked against the scene (the CoT diagnosis). */
export type TraceCheck = {
  /** the count it states of the queried class is right (rsground: "there are three vehicles"; geocot: its evidence) */
  countRight: boolean | null;
  /** the region it places the target in is right (rsground's "so the target is at the top left"); null for geocot */
  regionRight: boolean | null;
};

const WORD_COUNT = new Map(NUMBER_WORDS.map((w, i) => [w, i]));

/**
 * Check a generated completion's reasoning against the facts it should state. Tokens come back
 * space-separated (`there are three vehicles .`), so the patterns allow any spacing. A statement
 * the trace does not make is `null` (not wrong, just absent).
 */
export function checkTrace(text: string, f: TraceFacts, style: CotStyle): TraceCheck {
  const think = /<think>([\s\S]*?)<\/think>/.exec(text)?.[1] ?? '';
  const t = ` ${think.replace(/\s+/g, ' ').trim()} `;
  const cls = f.expression.cls;
  const trueCount = f.objects.filter((o) => o.cls === cls).length;
  if (style === 'rsground') {
    const m = / there (?:is|are) (\w+) /.exec(t);
    const n = m ? (WORD_COUNT.get(m[1]) ?? (/^\d+$/.test(m[1]) ? Number(m[1]) : NaN)) : undefined;
    const r = / so the target is (.+?) \. /.exec(t);
    return {
      countRight: n === undefined ? null : n === trueCount,
      regionRight: r ? r[1].trim() === where(f.gt, f.imageSize) : null,
    };
  }
  if (style === 'geocot') {
    const ev = / evidence : (.*?) \. synthesis /.exec(t);
    if (!ev) return { countRight: null, regionRight: null };
    const boxes = ev[1].split(' ; ').filter((e) => e.trim().startsWith(`${cls} [`)).length;
    return { countRight: boxes === Math.min(trueCount, 6), regionRight: null };
  }
  return { countRight: null, regionRight: null };
}

/** The trace facts of a mini-world grounding sample (what its `meta` carries). */
export function factsOf(s: GroundingSample): TraceFacts {
  const m = s.meta as
    { expression?: Expression; objects?: { cls: ObjectClass; box: Box }[]; targetIndex?: number } | undefined;
  if (!m?.expression || !m.objects || m.targetIndex === undefined)
    throw new Error(`sample ${s.id} carries no scene facts (only mini-world samples do)`);
  return {
    expression: m.expression,
    gt: s.gt,
    imageSize: s.image.width,
    objects: m.objects,
    targetIndex: m.targetIndex,
  };
}
