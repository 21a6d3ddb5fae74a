/**
 * Greedy evaluation (SPEC §6): decode each sample once, parse the answer (unparseable → IoU 0),
 * map it to the original image's pixels (letterboxed real images, lib/data/fit.ts), and report Acc@0.5, Acc@0.7, mIoU,
 * cIoU, the format rate and per-sample results.
 *
 * Region queries (RemoteReasoner, SPEC §6.2) report through the same fields: a sample's `iou` is its
 * matched IoU, Acc@τ the share with matched IoU ≥ τ, mIoU its mean, cIoU the oracle masks' cIoU, and
 * `region` holds count accuracy, gIoU and the contour metrics.
 *
 * Counting, detection and VQA (Geo-CoT), and any set that mixes tasks, report per task in `tasks`
 * (TaskMetrics); the common fields then pool every sample, each scored by what its task calls
 * right (see `SampleResult.iou`).
 */
import { iou, overlap, type Box } from './boxes';
import { fromLetterbox } from './data/conventions';
import { formatReward, parseAnswer, parseBoxes, parseCount } from './answer';
import { groundingMetrics, type GroundingMetrics } from './metrics';
import type { Policy } from './model/policy';
import {
  isRegionSample,
  taskOf,
  TASKS,
  type GroundingSample,
  type RegionSample,
  type TaskName,
  type TaskSample,
} from './data/samples';
import { rleToMask } from './data/world';
import { matchedIoU, multiTargetFormatReward } from './rewards';
import { rolloutReward } from './tasks';
import { detectionF1, meanAveragePrecision } from './detection';
import { objectsMask, predictedMask, regionMetrics, type MaskedObject, type RegionMetrics } from './regions';
import { Rng } from './rng';
import { groundingReward, DEFAULT_GROUNDING_REWARD } from './rewards';

const IOU_ONLY = { ...DEFAULT_GROUNDING_REWARD, aux: 'none' as const };

/**
 * One evaluated sample. `iou` is what Acc@τ thresholds: the box IoU (grounding), the matched IoU
 * (regions), F1@0.5 (detection), and 1 or 0 for an exact count or VQA answer. `score` is the
 * task's reward term where it differs (R_count, the VQA score with its near-answer credit).
 */
export type SampleResult = {
  id: string;
  text: string;
  iou: number;
  format: number;
  cueFamily?: string;
  task?: TaskName;
  score?: number;
};

/** One task's share of an evaluation (Geo-CoT's per-task metrics). */
export type TaskMetrics = {
  n: number;
  /** share answered right: IoU ≥ 0.5, matched IoU ≥ 0.5, F1@0.5 ≥ 0.5, the exact count or answer */
  acc: number;
  /** mean task reward term: IoU, matched IoU, R_count, F1@0.5 or the VQA score */
  meanScore: number;
  formatRate: number;
  /** detection only: mAP@0.5 over classes, the answer order as the ranking (SPEC §6.3) */
  map50?: number;
};

export type Evaluation = GroundingMetrics & {
  /** fraction of completions with R_format = 1 */
  formatRate: number;
  /** mean completion length in tokens */
  meanLength: number;
  /** Acc@0.5 per cue family */
  byCue: Record<string, { n: number; acc50: number }>;
  /** region queries only: SPEC §6.2's count accuracy, mask and contour metrics */
  region?: RegionMetrics;
  /** counting, detection, VQA or a mix of tasks: the metrics of each task present */
  tasks?: Partial<Record<TaskName, TaskMetrics>>;
  results: SampleResult[];
};

/** The objects of a synthetic sample's scene (from its metadata), as the oracle segmenter needs them. */
export function sceneObjects(s: RegionSample): MaskedObject[] {
  const objects = s.meta?.objects as { box: MaskedObject['box']; maskRle: number[] }[] | undefined;
  if (!objects) throw new Error(`sample ${s.id}: no scene objects in its metadata (the mask oracle needs them)`);
  return objects.map((o) => ({
    box: o.box,
    mask: rleToMask(o.maskRle, (o.box.x2 - o.box.x1) * (o.box.y2 - o.box.y1)),
  }));
}

/** Greedy decoding of `samples` in batches: `each(sample, text, tokens)` in order. */
function greedyEach<S extends TaskSample>(
  policy: Policy,
  samples: readonly S[],
  batch: number,
  maxLen: number,
  each: (s: S, text: string, tokens: number) => void,
): void {
  const rng = new Rng(0); // unused by greedy decoding, required by the API
  for (let i = 0; i < samples.length; i += batch) {
    const chunk = samples.slice(i, i + batch);
    const g = policy.generate(chunk, rng, { group: 1, temperature: 1, maxLen, greedy: true });
    chunk.forEach((s, k) => each(s, g.texts[k], g.ids[k].length));
  }
}

/** Greedy evaluation of region queries (SPEC §6.2), in the fields of `Evaluation`. */
function evaluateRegions(policy: Policy, samples: readonly RegionSample[], batch: number, maxLen: number): Evaluation {
  const results: SampleResult[] = [];
  const forMetrics: Parameters<typeof regionMetrics>[0][number][] = [];
  let len = 0;
  greedyEach(policy, samples, batch, maxLen, (s, text, tokens) => {
    const pred = parseBoxes(text);
    const objects = sceneObjects(s);
    const { width, height } = s.image;
    const referents = objects.filter((o) => s.boxes.some((b) => iou(b, o.box) === 1));
    forMetrics.push({
      pred,
      gts: s.boxes,
      predMask: predictedMask(pred ?? [], objects, width, height),
      gtMask: objectsMask(referents, width, height),
      width,
      height,
    });
    len += tokens;
    results.push({
      id: s.id,
      text,
      iou: pred === null ? 0 : matchedIoU(pred, s.boxes),
      format: multiTargetFormatReward(text),
    });
  });
  const region = regionMetrics(forMetrics);
  const ious = results.map((r) => r.iou);
  const n = results.length;
  return {
    acc50: region.acc50,
    acc70: ious.filter((v) => v >= 0.7).length / n,
    miou: region.meanIoU,
    ciou: region.cIoU,
    n,
    formatRate: results.reduce((a, r) => a + r.format, 0) / n,
    meanLength: len / n,
    byCue: {},
    region,
    results,
  };
}

/** Greedy evaluation of counting, detection or VQA samples of one task: results and the task's metrics. */
function evaluateAnswers(
  policy: Policy,
  samples: readonly TaskSample[],
  batch: number,
  maxLen: number,
): { results: SampleResult[]; length: number; map50?: number } {
  const results: SampleResult[] = [];
  const ranked: { cls: string; ranked: Box[]; gts: Box[] }[] = [];
  let len = 0;
  greedyEach(policy, samples, batch, maxLen, (s, text, tokens) => {
    const task = taskOf(s);
    // the reward registry's terms: format and the task's score (no config: these tasks have no knobs)
    const r = rolloutReward(text, s, s, { reward: { ...DEFAULT_GROUNDING_REWARD } });
    let right = r.iou;
    if ('task' in s && s.task === 'detection') {
      const pred = parseBoxes(text) ?? [];
      ranked.push({ cls: s.category, ranked: pred, gts: s.boxes });
      right = detectionF1(pred, s.boxes);
    } else if ('task' in s && s.task === 'counting') right = parseCount(text) === s.count ? 1 : 0;
    else right = r.iou === 1 ? 1 : 0; // VQA: the exact answer
    len += tokens;
    results.push({ id: s.id, text, iou: right, format: r.format, task, score: r.iou });
  });
  return { results, length: len, map50: ranked.length ? meanAveragePrecision(ranked).map : undefined };
}

function taskMetrics(results: readonly SampleResult[], map50?: number): TaskMetrics {
  const n = results.length;
  const mean = (f: (r: SampleResult) => number) => results.reduce((a, r) => a + f(r), 0) / n;
  return {
    n,
    acc: mean((r) => (r.iou >= 0.5 ? 1 : 0)),
    meanScore: mean((r) => r.score ?? r.iou),
    formatRate: mean((r) => r.format),
    ...(map50 === undefined ? {} : { map50 }),
  };
}

/**
 * A set of Geo-CoT tasks, or of several tasks: each task evaluated as it is alone, the common
 * fields pooled over every sample in input order (cIoU over the grounding samples only, NaN
 * without any), per-task metrics in `tasks`.
 */
function evaluateTasks(policy: Policy, all: readonly TaskSample[], batch: number, maxLen: number): Evaluation {
  const byTask = new Map<TaskName, TaskSample[]>();
  for (const s of all) {
    const t = taskOf(s);
    if (!byTask.has(t)) byTask.set(t, []);
    byTask.get(t)!.push(s);
  }
  const results = new Map<string, SampleResult>();
  const tasks: Partial<Record<TaskName, TaskMetrics>> = {};
  let len = 0;
  let ciou = NaN;
  let region: RegionMetrics | undefined;
  for (const task of TASKS) {
    const set = byTask.get(task);
    if (!set) continue;
    let rs: SampleResult[];
    let map50: number | undefined;
    if (task === 'grounding' || task === 'region') {
      const ev = evaluatePolicy(policy, set, { batch, maxLen });
      rs = ev.results.map((r) => ({ ...r, task }));
      len += ev.meanLength * ev.n;
      if (task === 'grounding') ciou = ev.ciou;
      else region = ev.region;
    } else {
      const ev = evaluateAnswers(policy, set, batch, maxLen);
      rs = ev.results;
      len += ev.length;
      map50 = ev.map50;
    }
    rs.forEach((r) => results.set(r.id, r));
    tasks[task] = taskMetrics(rs, map50);
  }
  const ordered = all.map((s) => results.get(s.id)!);
  const ious = ordered.map((r) => r.iou);
  const n = ordered.length;
  return {
    acc50: ious.filter((v) => v >= 0.5).length / n,
    acc70: ious.filter((v) => v >= 0.7).length / n,
    miou: ious.reduce((a, v) => a + v, 0) / n,
    ciou,
    n,
    formatRate: ordered.reduce((a, r) => a + r.format, 0) / n,
    meanLength: len / n,
    byCue: {},
    ...(region ? { region } : {}),
    tasks,
    results: ordered,
  };
}

export function evaluatePolicy(
  policy: Policy,
  all: readonly TaskSample[],
  opts: { batch?: number; maxLen?: number } = {},
): Evaluation {
  if (all.length === 0) throw new Error('evaluatePolicy: no samples to evaluate (an empty split has no accuracy)');
  const batch = opts.batch ?? 100;
  const maxLen = opts.maxLen ?? policy.cfg.maxCompletionLen;
  const regions = all.filter(isRegionSample);
  if (regions.length === all.length) return evaluateRegions(policy, regions, batch, maxLen);
  if (regions.length > 0 || all.some((s) => taskOf(s) !== 'grounding'))
    return evaluateTasks(policy, all, batch, maxLen);
  const samples = all as readonly GroundingSample[];
  const results: SampleResult[] = [];
  const inters: number[] = [],
    unions: number[] = [];
  let len = 0;
  greedyEach(policy, samples, batch, maxLen, (s, text, tokens) => {
    // A letterboxed real image: the prediction goes back to the original pixels, where it is scored.
    const parsed = parseAnswer(text);
    const box = s.original && parsed ? fromLetterbox(parsed, s.original.letterbox) : parsed;
    const gt = s.original?.gt ?? s.gt;
    const o = overlap(box, gt);
    inters.push(o.inter);
    unions.push(o.union);
    len += tokens;
    results.push({
      id: s.id,
      text,
      iou: box ? iou(box, gt) : 0,
      format: formatReward(text),
      cueFamily: s.meta?.cueFamily as string | undefined,
    });
  });
  const byCue: Record<string, { n: number; acc50: number }> = {};
  for (const r of results) {
    const k = r.cueFamily ?? 'unknown';
    const e = (byCue[k] ??= { n: 0, acc50: 0 });
    e.n++;
    if (r.iou >= 0.5) e.acc50++;
  }
  for (const e of Object.values(byCue)) e.acc50 /= e.n;
  return {
    ...groundingMetrics(
      results.map((r) => r.iou),
      inters,
      unions,
    ),
    formatRate: results.reduce((s, r) => s + r.format, 0) / Math.max(1, results.length),
    meanLength: len / Math.max(1, results.length),
    byCue,
    results,
  };
}

/**
 * What sampling sees, next to what greedy decoding sees: G rollouts per sample at `temperature`
 * (the GRPO rollout distribution), scored like greedy evaluation (unparseable → IoU 0).
 * RL raises the *sampled* reward; greedy accuracy only moves when the mode moves, so the gap
 * between the two, and pass@G (some rollout hits IoU ≥ 0.5), say how much a policy's own samples
 * could teach it.
 */
export type SamplingEvaluation = {
  n: number;
  group: number;
  temperature: number;
  /** Acc@0.5 of a single rollout (mean over all rollouts) */
  acc50: number;
  /** mean IoU of a single rollout */
  miou: number;
  /** fraction of samples with at least one of the G rollouts at IoU ≥ 0.5 */
  passAtG: number;
  /** mean over samples of the best rollout's IoU */
  bestIoU: number;
  /** mean over samples of the population std of the G rollouts' IoUs */
  iouStdInGroup: number;
  /** per sample, the G rollouts' R_format + R_IoU (the GRPO baseline's reward), for group statistics */
  rewards: number[][];
};

export function samplingEvaluation(
  policy: Policy,
  samples: readonly GroundingSample[],
  opts: { group: number; temperature: number; seed: number; maxLen?: number; batch?: number },
): SamplingEvaluation {
  const G = opts.group,
    batch = opts.batch ?? 25;
  const rng = new Rng(opts.seed);
  let hits = 0,
    sumIoU = 0,
    pass = 0,
    best = 0,
    std = 0;
  const rewards: number[][] = [];
  for (let i = 0; i < samples.length; i += batch) {
    const chunk = samples.slice(i, i + batch);
    const g = policy.generate(chunk, rng, {
      group: G,
      temperature: opts.temperature,
      maxLen: opts.maxLen ?? policy.cfg.maxCompletionLen,
      greedy: false,
    });
    chunk.forEach((s, b) => {
      const texts = g.texts.slice(b * G, (b + 1) * G);
      // The GRPO baseline's reward, R_format + R_IoU (SPEC §3.5 with aux = none).
      const scored = texts.map((t) =>
        groundingReward(t, s.gt, { imageWidth: s.image.width, imageHeight: s.image.height }, IOU_ONLY),
      );
      const ious = scored.map((r) => r.iou);
      rewards.push(scored.map((r) => r.total));
      const m = ious.reduce((a, x) => a + x, 0) / G;
      hits += ious.filter((x) => x >= 0.5).length;
      sumIoU += m * G;
      if (ious.some((x) => x >= 0.5)) pass++;
      best += Math.max(...ious);
      std += Math.sqrt(ious.reduce((a, x) => a + (x - m) ** 2, 0) / G);
    });
  }
  const n = samples.length,
    N = Math.max(1, n);
  return {
    n,
    group: G,
    temperature: opts.temperature,
    acc50: hits / (N * G),
    miou: sumIoU / (N * G),
    passAtG: pass / N,
    bestIoU: best / N,
    iouStdInGroup: std / N,
    rewards,
  };
}
