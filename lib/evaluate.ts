/**
 * Greedy evaluation (SPEC §6): decode each sample once, parse the answer (unparseable → IoU 0),
 * map it to the original image's pixels (letterboxed real images, lib/data/fit.ts), and report Acc@0.5, Acc@0.7, mIoU,
 * cIoU, the format rate and per-sample results.
 *
 * Region queries (RemoteReasoner, SPEC §6.2) report through the same fields: a sample's `iou` is its
 * matched IoU, Acc@τ the share with matched IoU ≥ τ, mIoU its mean, cIoU the oracle masks' cIoU, and
 * `region` holds count accuracy, gIoU and the contour metrics.
 */
import { iou, overlap } from './boxes';
import { fromLetterbox } from './data/conventions';
import { formatReward, parseAnswer, parseBoxes } from './answer';
import { groundingMetrics, type GroundingMetrics } from './metrics';
import type { Policy } from './model/policy';
import { isRegionSample, type GroundingSample, type RegionSample, type TaskSample } from './data/samples';
import { rleToMask } from './data/world';
import { matchedIoU, multiTargetFormatReward } from './rewards';
import { objectsMask, predictedMask, regionMetrics, type MaskedObject, type RegionMetrics } from './regions';
import { Rng } from './rng';
import { groundingReward, DEFAULT_GROUNDING_REWARD } from './rewards';

const IOU_ONLY = { ...DEFAULT_GROUNDING_REWARD, aux: 'none' as const };

export type SampleResult = { id: string; text: string; iou: number; format: number; cueFamily?: string };

export type Evaluation = GroundingMetrics & {
  /** fraction of completions with R_format = 1 */
  formatRate: number;
  /** mean completion length in tokens */
  meanLength: number;
  /** Acc@0.5 per cue family */
  byCue: Record<string, { n: number; acc50: number }>;
  /** region queries only: SPEC §6.2's count accuracy, mask and contour metrics */
  region?: RegionMetrics;
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

/** Greedy evaluation of region queries (SPEC §6.2), in the fields of `Evaluation`. */
function evaluateRegions(policy: Policy, samples: readonly RegionSample[], batch: number, maxLen: number): Evaluation {
  const rng = new Rng(0);
  const results: SampleResult[] = [];
  const forMetrics: Parameters<typeof regionMetrics>[0][number][] = [];
  let len = 0;
  for (let i = 0; i < samples.length; i += batch) {
    const chunk = samples.slice(i, i + batch);
    const g = policy.generate(chunk, rng, { group: 1, temperature: 1, maxLen, greedy: true });
    chunk.forEach((s, k) => {
      const text = g.texts[k];
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
      len += g.ids[k].length;
      results.push({
        id: s.id,
        text,
        iou: pred === null ? 0 : matchedIoU(pred, s.boxes),
        format: multiTargetFormatReward(text),
      });
    });
  }
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

export function evaluatePolicy(
  policy: Policy,
  all: readonly TaskSample[],
  opts: { batch?: number; maxLen?: number } = {},
): Evaluation {
  if (all.length === 0) throw new Error('evaluatePolicy: no samples to evaluate (an empty split has no accuracy)');
  const batch = opts.batch ?? 100;
  const regions = all.filter(isRegionSample);
  if (regions.length === all.length)
    return evaluateRegions(policy, regions, batch, opts.maxLen ?? policy.cfg.maxCompletionLen);
  if (regions.length > 0)
    throw new Error('evaluatePolicy: a set mixes region and grounding queries; evaluate each apart');
  const samples = all as readonly GroundingSample[];
  const rng = new Rng(0); // unused by greedy decoding, required by the API
  const results: SampleResult[] = [];
  const inters: number[] = [],
    unions: number[] = [];
  let len = 0;
  for (let i = 0; i < samples.length; i += batch) {
    const chunk = samples.slice(i, i + batch);
    const g = policy.generate(chunk, rng, {
      group: 1,
      temperature: 1,
      maxLen: opts.maxLen ?? policy.cfg.maxCompletionLen,
      greedy: true,
    });
    chunk.forEach((s, k) => {
      const text = g.texts[k];
      // A letterboxed real image: the prediction goes back to the original pixels, where it is scored.
      const parsed = parseAnswer(text);
      const box = s.original && parsed ? fromLetterbox(parsed, s.original.letterbox) : parsed;
      const gt = s.original?.gt ?? s.gt;
      const o = overlap(box, gt);
      inters.push(o.inter);
      unions.push(o.union);
      len += g.ids[k].length;
      results.push({
        id: s.id,
        text,
        iou: box ? iou(box, gt) : 0,
        format: formatReward(text),
        cueFamily: s.meta?.cueFamily as string | undefined,
      });
    });
  }
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
