/**
 * Reading what the policy wrote (SPEC §3.1): the answer box, and whether the text has the
 * `<think>…</think><answer>…</answer>` format. These never throw, whatever the text — a
 * malformed completion is not an error, it earns nothing.
 *
 * Everything here runs in time linear in the text (indexOf scans and regexes anchored on a
 * literal `[`), so a 10⁶-character completion is harmless.
 */
import type { Box } from './boxes';

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';
const ANSWER_OPEN = '<answer>';
const ANSWER_CLOSE = '</answer>';
const TAGS = [THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE];

/** SPEC §3.1: a number is `-?\d+(\.\d+)?`; spaces allowed around numbers and commas. */
const NUM = String.raw`\s*(-?\d+(?:\.\d+)?)\s*`;
const FOUR_NUMBERS = new RegExp(String.raw`\[${NUM},${NUM},${NUM},${NUM}\]`);
const FOUR_NUMBERS_ALL = new RegExp(FOUR_NUMBERS.source, 'g');
const PLAIN_DIGITS = /^\d+$/;

/** The text of the first `<answer>…</answer>` block, or null when there is none. */
export function answerBlock(text: string): string | null {
  if (typeof text !== 'string') return null;
  const open = text.indexOf(ANSWER_OPEN);
  if (open < 0) return null;
  const close = text.indexOf(ANSWER_CLOSE, open + ANSWER_OPEN.length);
  if (close < 0) return null;
  return text.slice(open + ANSWER_OPEN.length, close);
}

/**
 * SPEC §3.1: the first bracketed list of four numbers inside the first answer block, as a box.
 * `null` when there is no answer block or no such list. The box may be invalid (x2 ≤ x1);
 * the rewards deal with that. Never throws.
 */
export function parseAnswer(text: string): Box | null {
  const a = answerBlock(text);
  if (a === null) return null;
  const m = FOUR_NUMBERS.exec(a);
  if (!m) return null;
  return { x1: Number(m[1]), y1: Number(m[2]), x2: Number(m[3]), y2: Number(m[4]) };
}

function countOccurrences(s: string, sub: string): number {
  let n = 0;
  for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

/**
 * The structure shared by every format check (SPEC §3.1 rules 1–2): the trimmed text is one
 * `<think>T</think>`, optional whitespace, one `<answer>A</answer>` and nothing else, T is not
 * blank, and neither T nor A contains a tag. Returns T and A, or null. Never throws.
 */
export function thinkAnswerParts(text: string): { think: string; answer: string } | null {
  if (typeof text !== 'string') return null;
  const s = text.trim();
  if (!s.startsWith(THINK_OPEN) || !s.endsWith(ANSWER_CLOSE)) return null;
  // Each tag exactly once ⇔ T and A contain no tag, given the start/end checks above.
  for (const tag of TAGS) if (countOccurrences(s, tag) !== 1) return null;
  const thinkClose = s.indexOf(THINK_CLOSE);
  const answerOpen = s.indexOf(ANSWER_OPEN);
  if (answerOpen < thinkClose) return null;
  if (s.slice(thinkClose + THINK_CLOSE.length, answerOpen).trim() !== '') return null;
  const think = s.slice(THINK_OPEN.length, thinkClose);
  if (think.trim() === '') return null;
  return { think, answer: s.slice(answerOpen + ANSWER_OPEN.length, s.length - ANSWER_CLOSE.length) };
}

/**
 * SPEC §3.1: 1 exactly when the text has the think/answer structure (`thinkAnswerParts`) and
 * A holds exactly one bracketed list of four numbers, all non-negative integers in plain
 * digits. Otherwise 0. Never throws.
 */
export function formatReward(text: string): number {
  const parts = thinkAnswerParts(text);
  if (parts === null) return 0;
  const lists = [...parts.answer.matchAll(FOUR_NUMBERS_ALL)];
  if (lists.length !== 1) return 0;
  const m = lists[0];
  // Plain digits, and finite once parsed (a 400-digit integer is not).
  for (let k = 1; k <= 4; k++) if (!PLAIN_DIGITS.test(m[k]) || !Number.isFinite(Number(m[k]))) return 0;
  return 1;
}

/** The think block's text (first `<think>…</think>`), or null. For CoT analysis. */
export function thinkBlock(text: string): string | null {
  if (typeof text !== 'string') return null;
  const open = text.indexOf(THINK_OPEN);
  if (open < 0) return null;
  const close = text.indexOf(THINK_CLOSE, open + THINK_OPEN.length);
  return close < 0 ? null : text.slice(open + THINK_OPEN.length, close);
}

/** An empty bracketed list, `[]`, with any spaces inside. */
const EMPTY_LIST = /\[\s*\]/;

/**
 * SPEC §3.7: the boxes of a several-box answer (RemoteReasoner regions, Geo-CoT detection), in
 * answer order. In the first answer block: every inner list of four numbers of a list of lists
 * (`[[1, 2, 3, 4], [5, 6, 7, 8]]`), or the one box of a flat four-number list, or the boxes of
 * a JSON list of `{"bbox_2d": […]}` objects; `[]` when the block holds an empty list (the legitimate
 * "no such object"). `null` when there is no answer block or nothing parseable in it (which earns what
 * an empty answer earns, and 0 format). Never throws.
 */
export function parseBoxes(text: string): Box[] | null {
  const a = answerBlock(text);
  if (a === null) return null;
  const boxes: Box[] = [];
  for (const m of a.matchAll(FOUR_NUMBERS_ALL)) {
    boxes.push({ x1: Number(m[1]), y1: Number(m[2]), x2: Number(m[3]), y2: Number(m[4]) });
  }
  if (boxes.length > 0) return boxes;
  return EMPTY_LIST.test(a) ? [] : null;
}

/**
 * Counting answers (Geo-CoT, SPEC §3.6): the first non-negative integer in the first answer
 * block ("There are a total of 6 airplanes." → 6). `null` when there is none. Never throws.
 */
export function parseCount(text: string): number | null {
  const a = answerBlock(text);
  if (a === null) return null;
  const m = /\d+/.exec(a);
  return m ? Number(m[0]) : null;
}
