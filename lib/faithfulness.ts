/**
 * Is a Geo-CoT trace well formed, and does it say what the image shows? (paper 001: Planning →
 * Grounding evidence → Synthesis, each assertion anchored to a box.) The checks read a
 * completion's think block — `plan : … . evidence : vehicle [x1, y1, x2, y2] ; … . synthesis : … .`,
 * with the spaces the policy's tokenizer puts between tokens — and never throw.
 */
import { thinkBlock } from './answer';
import { iou, type Box } from './boxes';

/** One evidence item: the class it names and its box. */
export type Evidence = { cls: string; box: Box };

const NUMS = String.raw`\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]`;
const ITEM = new RegExp(String.raw`^\s*([a-z][a-z ]*?)\s*${NUMS}\s*$`);
const NONE = /^\s*no\s+[a-z][a-z ]*$/;
const BOX = new RegExp(NUMS);

/** The sections of a trace, in order, each exactly once; null when the structure is broken. */
function sections(think: string): { plan: string; evidence: string; synthesis: string } | null {
  const at = (k: string) => {
    const re = new RegExp(String.raw`(^|\s)${k}\s*:`, 'g');
    const hits = [...think.matchAll(re)];
    return hits.length === 1 ? { start: hits[0].index!, end: hits[0].index! + hits[0][0].length } : null;
  };
  const p = at('plan'),
    e = at('evidence'),
    s = at('synthesis');
  if (!p || !e || !s || !(p.start < e.start && e.start < s.start)) return null;
  // a section ends at the " . " that precedes the next heading
  const cut = (t: string) => t.trim().replace(/\s*\.$/, '');
  return {
    plan: cut(think.slice(p.end, e.start)),
    evidence: cut(think.slice(e.end, s.start)),
    synthesis: cut(think.slice(s.end)),
  };
}

export type TraceStructure = {
  /** all three sections, in order, non-empty, and every evidence item a class and a box (or "no <class>") */
  ok: boolean;
  evidence: Evidence[];
  synthesis: string;
};

/** Paper 001's structure check of a completion's trace. */
export function traceStructure(text: string): TraceStructure {
  const bad = { ok: false, evidence: [], synthesis: '' };
  const think = thinkBlock(text);
  if (think === null) return bad;
  const sec = sections(think);
  if (!sec || !sec.plan || !sec.evidence || !sec.synthesis) return bad;
  const evidence: Evidence[] = [];
  for (const item of sec.evidence.split(';')) {
    // an item is a class name and a box: a very long one is not, and is not worth a regex's time
    if (item.length > 200) return { ...bad, synthesis: sec.synthesis };
    if (NONE.test(item)) continue;
    const m = ITEM.exec(item);
    if (!m) return { ...bad, synthesis: sec.synthesis };
    evidence.push({ cls: m[1].trim(), box: { x1: +m[2], y1: +m[3], x2: +m[4], y2: +m[5] } });
  }
  return { ok: true, evidence, synthesis: sec.synthesis };
}

export type Faithfulness = {
  /** share of evidence boxes with IoU ≥ 0.5 to an object of the class they name (NaN without evidence) */
  evidenceMatch: number;
  /**
   * the synthesis agrees with the evidence: its box is one of the evidence boxes (IoU ≥ 0.5), or the
   * count it states equals the number of evidence boxes; null when it states neither
   */
  synthesisAgrees: boolean | null;
};

const WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

const COUNT = new RegExp(String.raw`(?:^|\bthere (?:is|are)\s+)(\d+|${WORDS.join('|')})(?:\s|$)`);

/**
 * The count a synthesis states, at its start ("3 ships in the left half") or after "there is/are"
 * ("there are three vehicles"), or null ("the one at the bottom" states none).
 */
function statedCount(s: string): number | null {
  const m = COUNT.exec(s.trim());
  if (!m) return null;
  return /^\d+$/.test(m[1]) ? Number(m[1]) : WORDS.indexOf(m[1]);
}

/**
 * Paper 001's faithfulness of a structured trace against the scene's objects (class and box):
 * does each evidence box point at an object of the class it names, and does the synthesis follow
 * from the evidence? A broken structure has no evidence (NaN) and no agreement (null).
 */
export function faithfulness(text: string, objects: readonly { cls: string; box: Box }[]): Faithfulness {
  const t = traceStructure(text);
  if (!t.ok) return { evidenceMatch: NaN, synthesisAgrees: null };
  const hits = t.evidence.filter((e) => objects.some((o) => o.cls === e.cls && iou(o.box, e.box) >= 0.5)).length;
  const evidenceMatch = t.evidence.length ? hits / t.evidence.length : NaN;
  const b = BOX.exec(t.synthesis);
  let synthesisAgrees: boolean | null = null;
  if (b) {
    const box = { x1: +b[1], y1: +b[2], x2: +b[3], y2: +b[4] };
    synthesisAgrees = t.evidence.some((e) => iou(e.box, box) >= 0.5);
  } else {
    const n = statedCount(t.synthesis);
    if (n !== null) synthesisAgrees = n === t.evidence.length;
  }
  return { evidenceMatch, synthesisAgrees };
}

/**
 * Repetition: the share of a text's word n-grams that already occurred earlier in it (0 for fewer
 * than n words). The collapse paper 001 reports without a KL term shows as this rising.
 */
export function repetitionRate(text: string, n = 4): number {
  const w = text.trim().split(/\s+/).filter(Boolean);
  if (w.length < n) return 0;
  const seen = new Set<string>();
  let repeated = 0;
  for (let i = 0; i + n <= w.length; i++) {
    const g = w.slice(i, i + n).join(' ');
    if (seen.has(g)) repeated++;
    else seen.add(g);
  }
  return repeated / (w.length - n + 1);
}
