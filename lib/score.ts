/**
 * Scoring a model's predictions on a benchmark (`npm run score`): read a predictions JSONL (one
 * record per sample: `id`, and either the completion `text` or a `box`), map each box from the
 * model's coordinate convention to the image's pixels, and compute SPEC §6's metrics with 95%
 * bootstrap intervals over samples, breakdowns, the format-failure count, the SPEC §3 reward terms
 * the predictions would have earned, and a paired comparison with a second model's predictions.
 *
 * Bad input is an error naming the file and line (a record that is not JSON, lacks an id or a
 * prediction, repeats an id, names a sample the dataset lacks, or leaves a sample unanswered);
 * with `lenient`, each such record is counted as a failed answer and listed instead.
 */
import { readFileSync } from 'node:fs';
import { type Box, area, iou, isValidBox, overlap } from './boxes';
import { answerBlock, formatReward, parseAnswer } from './answer';
import { centerReward, diouReward, giouReward, positionalReward } from './rewards';
import { type BoxConvention, type ConventionOptions, toImagePixels } from './data/conventions';
import { type Interval, bootstrapCI, mcnemar, pairedBootstrapDiffCI } from './stats';
import type { GroundingSample } from './data/samples';

export type Prediction = { id: string; line: number; text?: string; box?: [number, number, number, number] };
export type Problem = { line: number; id?: string; problem: string };

/** How a box is found in a completion: SPEC §3.1's first answer block, or the first four-number list anywhere. */
export type ParseMode = 'answer' | 'anywhere';

const FOUR = /\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]/;

/**
 * Read a predictions JSONL. Strict: the first bad record is an error naming `file:line`.
 * Lenient: bad records are returned as problems (a record with a readable id then counts as a
 * failed answer for that sample).
 */
export function readPredictions(
  file: string,
  o: { lenient?: boolean } = {},
): { preds: Map<string, Prediction>; problems: Problem[] } {
  const preds = new Map<string, Prediction>();
  const problems: Problem[] = [];
  const fail = (p: Problem) => {
    if (!o.lenient) throw new Error(`${file}:${p.line}: ${p.problem}`);
    problems.push(p);
  };
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === '') return;
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(raw);
      } catch (e) {
        return fail({ line, problem: `not a JSON record (${(e as Error).message})` });
      }
      if (r === null || typeof r !== 'object' || Array.isArray(r)) return fail({ line, problem: 'not a JSON object' });
      const id = r.id ?? r.question_id ?? r.sample_id;
      if (typeof id !== 'string' && typeof id !== 'number') return fail({ line, problem: 'missing "id"' });
      const sid = String(id);
      if (preds.has(sid))
        return fail({ line, id: sid, problem: `id ${sid} appears twice (first on line ${preds.get(sid)!.line})` });
      const text = r.text ?? r.completion ?? r.response ?? r.output;
      const box = r.box ?? r.bbox;
      if (typeof text === 'string') preds.set(sid, { id: sid, line, text });
      else if (
        Array.isArray(box) &&
        box.length === 4 &&
        box.every((v) => typeof v === 'number' && Number.isFinite(v))
      ) {
        preds.set(sid, { id: sid, line, box: box as [number, number, number, number] });
      } else {
        const problem =
          box !== undefined
            ? `"box" must be 4 finite numbers, got ${JSON.stringify(box)}`
            : 'no prediction: give "text" (the completion) or "box" ([x1, y1, x2, y2])';
        fail({ line, id: sid, problem });
        preds.set(sid, { id: sid, line }); // counted as a failed answer
      }
    });
  return { preds, problems };
}

export type SizeBucket = 'small' | 'medium' | 'large';
/** Relative area thresholds (box area / image area), so that 64 px and 800 px images compare. */
export const SIZE_THRESHOLDS = { small: 0.01, medium: 0.1 };

export function sizeBucket(gt: Box, image: { width: number; height: number }): SizeBucket {
  const r = area(gt) / (image.width * image.height);
  return r < SIZE_THRESHOLDS.small ? 'small' : r < SIZE_THRESHOLDS.medium ? 'medium' : 'large';
}

export type SampleScore = {
  id: string;
  /** the predicted box in image pixels (null: none could be read) */
  box: Box | null;
  iou: number;
  inter: number;
  union: number;
  /** R_format (SPEC §3.1) for a completion; 1 for a well-formed box record */
  format: number;
  rewards: { iou: number; pos: number; giou: number; diou: number; center: number };
  category: string;
  size: SizeBucket;
  cue?: string;
};

/** One prediction scored against its sample (absent prediction: a failed answer). */
export function scoreOne(
  s: GroundingSample,
  p: Prediction | undefined,
  conv: BoxConvention,
  o: ConventionOptions & { parse?: ParseMode; alpha?: number },
): SampleScore {
  let raw: Box | null = null,
    format = 0;
  if (p?.text !== undefined) {
    format = formatReward(p.text);
    raw = parseAnswer(p.text);
    if (!raw && o.parse === 'anywhere' && answerBlock(p.text) === null) {
      const m = FOUR.exec(p.text);
      if (m) raw = { x1: +m[1], y1: +m[2], x2: +m[3], y2: +m[4] };
    }
  } else if (p?.box) {
    raw = { x1: p.box[0], y1: p.box[1], x2: p.box[2], y2: p.box[3] };
    format = 1;
  }
  const box =
    raw && [raw.x1, raw.y1, raw.x2, raw.y2].every(Number.isFinite) ? toImagePixels(raw, conv, s.image, o) : null;
  const size = { imageWidth: s.image.width, imageHeight: s.image.height };
  const valid = isValidBox(box);
  const ov = overlap(valid ? box : null, s.gt);
  return {
    id: s.id,
    box,
    iou: valid ? iou(box, s.gt) : 0,
    inter: ov.inter,
    union: ov.union,
    format,
    rewards: {
      iou: valid ? iou(box, s.gt) : 0,
      pos: valid ? positionalReward(box, s.gt, { ...size, alpha: o.alpha ?? 2.5 }) : 0,
      giou: giouReward(valid ? box : null, s.gt),
      diou: diouReward(valid ? box : null, s.gt),
      center: centerReward(box, s.gt, size),
    },
    category: s.category,
    size: sizeBucket(s.gt, s.image),
    cue: s.meta?.cueFamily as string | undefined,
  };
}

export type Metric = { value: number; lo: number; hi: number };
export type Summary = { n: number; acc50: Metric; acc70: Metric; miou: Metric; ciou: Metric };

/** Acc@0.5, Acc@0.7, mIoU, cIoU (in %) with 95% percentile bootstrap intervals over samples (seeded). */
export function summarize(scores: readonly SampleScore[], seed = 0): Summary {
  const n = scores.length;
  const pct = (ci: Interval): Metric => ({ value: 100 * ci.mean, lo: 100 * ci.lo, hi: 100 * ci.hi });
  const over = (f: (idx: Int32Array) => number) => pct(bootstrapCI(n, f, { seed, reps: 2000 }));
  const mean = (idx: Int32Array, g: (s: SampleScore) => number) => {
    let t = 0;
    for (const i of idx) t += g(scores[i]);
    return idx.length ? t / idx.length : NaN;
  };
  return {
    n,
    acc50: over((idx) => mean(idx, (s) => (s.iou >= 0.5 ? 1 : 0))),
    acc70: over((idx) => mean(idx, (s) => (s.iou >= 0.7 ? 1 : 0))),
    miou: over((idx) => mean(idx, (s) => s.iou)),
    ciou: over((idx) => {
      let a = 0,
        b = 0;
      for (const i of idx) {
        a += scores[i].inter;
        b += scores[i].union;
      }
      return b ? a / b : 0;
    }),
  };
}

/** Acc@0.5 and mIoU (in %) per group of samples. */
export function breakdown(
  scores: readonly SampleScore[],
  key: (s: SampleScore) => string | undefined,
): { group: string; n: number; acc50: number; miou: number }[] {
  const groups = new Map<string, SampleScore[]>();
  for (const s of scores) {
    const k = key(s);
    if (k !== undefined) groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([group, ss]) => ({
      group,
      n: ss.length,
      acc50: (100 * ss.filter((s) => s.iou >= 0.5).length) / ss.length,
      miou: (100 * ss.reduce((t, s) => t + s.iou, 0)) / ss.length,
    }));
}

/** Mean of each reward term (SPEC §3) over the predictions, and R = R_format + R_IoU + 0.1·R_pos. */
export function rewardTerms(scores: readonly SampleScore[]): Record<string, number> {
  const m = (f: (s: SampleScore) => number) => scores.reduce((t, s) => t + f(s), 0) / Math.max(1, scores.length);
  return {
    R_format: m((s) => s.format),
    R_IoU: m((s) => s.rewards.iou),
    R_pos: m((s) => s.rewards.pos),
    R_GIoU: m((s) => s.rewards.giou),
    R_DIoU: m((s) => s.rewards.diou),
    R_center: m((s) => s.rewards.center),
    'R (format + IoU + 0.1·pos)': m((s) => s.format + s.rewards.iou + 0.1 * s.rewards.pos),
  };
}

export type Comparison = {
  n: number;
  /** this − other, in points, paired bootstrap over samples */
  acc50: Metric;
  miou: Metric;
  /** McNemar on Acc@0.5: b = right only here, c = right only in the other */
  mcnemar: { b: number; c: number; p: number };
};

/** A paired comparison of two models' scores on the same samples (same order). */
export function compareScores(a: readonly SampleScore[], b: readonly SampleScore[], seed = 0): Comparison {
  if (a.length !== b.length || a.some((s, i) => s.id !== b[i].id))
    throw new Error('compareScores: the two score lists are not over the same samples');
  const hit = (s: SampleScore) => (s.iou >= 0.5 ? 1 : 0);
  const pts = (ci: Interval): Metric => ({ value: 100 * ci.mean, lo: 100 * ci.lo, hi: 100 * ci.hi });
  return {
    n: a.length,
    acc50: pts(pairedBootstrapDiffCI(a.map(hit), b.map(hit), { seed })),
    miou: pts(
      pairedBootstrapDiffCI(
        a.map((s) => s.iou),
        b.map((s) => s.iou),
        { seed },
      ),
    ),
    mcnemar: mcnemar(
      a.map((s) => s.iou >= 0.5),
      b.map((s) => s.iou >= 0.5),
    ),
  };
}

/** The benchmark's own id inside a workbench id (`vrsbench-101` → `101`, `dior-rsvg-7` → `7`), or null. */
export function nativeId(id: string): string | null {
  const m = /^[a-z][a-z-]*?-(?=\d)(.+)$/.exec(id);
  return m ? m[1] : null;
}

/**
 * Score predictions against samples. Every sample needs a prediction and every prediction a
 * sample; otherwise an error naming the record (or, lenient, a failed answer and a listed problem).
 */
export function scorePredictions(
  file: string,
  samples: readonly GroundingSample[],
  preds: Map<string, Prediction>,
  conv: BoxConvention,
  o: ConventionOptions & { parse?: ParseMode; lenient?: boolean } = {},
): { scores: SampleScore[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const complain = (problem: Problem) => {
    if (!o.lenient) throw new Error(`${file}:${problem.line}: ${problem.problem}`);
    problems.push(problem);
  };
  // A prediction may name a sample by the workbench's id or by the benchmark's own id.
  const byId = new Map<string, string>();
  for (const s of samples) byId.set(s.id, s.id);
  for (const s of samples) {
    const native = nativeId(s.id);
    if (native !== null && !byId.has(native)) byId.set(native, s.id);
  }
  const resolved = new Map<string, Prediction>();
  for (const p of preds.values()) {
    const id = byId.get(p.id);
    if (id === undefined) {
      const examples = samples
        .slice(0, 2)
        .map((s) => s.id)
        .join(', ');
      complain({
        line: p.line,
        id: p.id,
        problem: `id ${p.id} is not a sample of this dataset split (its ids look like ${examples})`,
      });
    } else if (resolved.has(id)) {
      complain({
        line: p.line,
        id: p.id,
        problem: `id ${p.id} names sample ${id} again (first on line ${resolved.get(id)!.line})`,
      });
    } else resolved.set(id, p);
  }
  const missing = samples.filter((s) => !resolved.has(s.id));
  if (missing.length) {
    const problem = `${missing.length} sample(s) have no prediction (first: ${missing
      .slice(0, 3)
      .map((s) => s.id)
      .join(', ')})`;
    if (!o.lenient) throw new Error(`${file}: ${problem}; pass --lenient to count them as failed answers`);
    problems.push({ line: 0, problem });
  }
  return { scores: samples.map((s) => scoreOne(s, resolved.get(s.id), conv, o)), problems };
}
