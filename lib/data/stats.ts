/**
 * Statistics of a grounding dataset: what makes it hard. Class and cue distributions, target
 * sizes, objects per image, how often same-class distractors are present, and how often a
 * random box — or a wrong look-alike — has IoU 0 with the target (the case R_pos is for).
 */
import { iou, type Box } from '../boxes';
import { Rng } from '../rng';
import { taskOf, type GroundingSample, type RegionSample, type TaskSample } from './samples';

export type DatasetStats = {
  n: number;
  classes: Record<string, number>;
  cueFamilies: Record<string, number>;
  /** fraction of samples whose target class is unique in the image */
  uniqueFrac: number;
  /** fraction with at least one same-class distractor */
  distractorFrac: number;
  /** mean number of same-class distractors */
  meanDistractors: number;
  objectsPerImage: { mean: number; min: number; max: number };
  targetSide: { p10: number; median: number; p90: number };
  /** target area as a fraction of the image */
  targetAreaFrac: { median: number };
  /** P(IoU = 0) for a box of the target's size placed uniformly at random in the image */
  randomBoxIoUZero: number;
  /** P(IoU = 0) when the answer is a wrong same-class instance (samples with distractors) */
  distractorIoUZero: number;
};

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q,
    lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function datasetStats(samples: readonly GroundingSample[], seed = 0): DatasetStats {
  const rng = new Rng(seed);
  const count = (xs: string[]) => xs.reduce<Record<string, number>>((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {});
  const sides: number[] = [],
    areas: number[] = [],
    objs: number[] = [];
  let withD = 0,
    nD = 0,
    randZero = 0,
    dZero = 0,
    dTotal = 0;
  for (const s of samples) {
    const g = s.gt,
      w = g.x2 - g.x1,
      h = g.y2 - g.y1;
    sides.push(Math.sqrt(w * h));
    areas.push((w * h) / (s.image.width * s.image.height));
    const objects = (s.meta?.objects as { box: Box }[] | undefined) ?? [];
    objs.push(objects.length);
    const distractors = (s.meta?.distractors as number[] | undefined) ?? [];
    if (distractors.length) withD++;
    nD += distractors.length;
    for (const d of distractors) {
      dTotal++;
      if (iou(objects[d].box, g) === 0) dZero++;
    }
    const x = rng.uniform(0, s.image.width - w),
      y = rng.uniform(0, s.image.height - h);
    if (iou({ x1: x, y1: y, x2: x + w, y2: y + h }, g) === 0) randZero++;
  }
  sides.sort((a, b) => a - b);
  areas.sort((a, b) => a - b);
  const n = samples.length;
  return {
    n,
    classes: count(samples.map((s) => s.category)),
    cueFamilies: count(samples.map((s) => String(s.meta?.cueFamily ?? 'unknown'))),
    uniqueFrac: samples.filter((s) => s.unique).length / n,
    distractorFrac: withD / n,
    meanDistractors: nD / n,
    objectsPerImage: { mean: objs.reduce((a, b) => a + b, 0) / n, min: Math.min(...objs), max: Math.max(...objs) },
    targetSide: { p10: quantile(sides, 0.1), median: quantile(sides, 0.5), p90: quantile(sides, 0.9) },
    targetAreaFrac: { median: quantile(areas, 0.5) },
    randomBoxIoUZero: randZero / n,
    distractorIoUZero: dTotal ? dZero / dTotal : NaN,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** "a 50.0%, b 25.0%, …", most frequent first. */
function distribution(m: Record<string, number>, n: number): string {
  return Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${pct(v / n)}`)
    .join(', ');
}

/** The statistics as a short Markdown report. */
export function statsMarkdown(name: string, st: DatasetStats): string {
  const dist = (m: Record<string, number>) => distribution(m, st.n);
  return [
    `### ${name} (${st.n} samples)`,
    '',
    `- classes: ${dist(st.classes)}`,
    `- cue families: ${dist(st.cueFamilies)}`,
    `- objects per image: mean ${st.objectsPerImage.mean.toFixed(1)} (min ${st.objectsPerImage.min}, max ` +
      `${st.objectsPerImage.max})`,
    `- target size (√area, px): p10 ${st.targetSide.p10.toFixed(1)}, median ${st.targetSide.median.toFixed(1)}, p90 ` +
      `${st.targetSide.p90.toFixed(1)}; median area ${pct(st.targetAreaFrac.median)} of the image`,
    `- unique class: ${pct(st.uniqueFrac)}; with same-class distractors: ${pct(st.distractorFrac)} (mean ` +
      `${st.meanDistractors.toFixed(2)} distractors)`,
    `- IoU = 0 for a random same-size box: ${pct(st.randomBoxIoUZero)}; for a wrong look-alike: ` +
      `${pct(st.distractorIoUZero)}`,
    '',
  ].join('\n');
}

export type RegionStats = {
  n: number;
  classes: Record<string, number>;
  /** how many objects a query names (0, 1, several): samples per count */
  targets: Record<number, number>;
  /** share of queries that name no object ("no such object" is the right answer) */
  emptyFrac: number;
  meanTargets: number;
};

/** Statistics of region queries (RemoteReasoner): classes and how many objects each query names. */
export function regionStats(samples: readonly RegionSample[]): RegionStats {
  const classes: Record<string, number> = {},
    targets: Record<number, number> = {};
  let total = 0;
  for (const s of samples) {
    classes[s.category] = (classes[s.category] ?? 0) + 1;
    targets[s.boxes.length] = (targets[s.boxes.length] ?? 0) + 1;
    total += s.boxes.length;
  }
  const n = samples.length;
  return { n, classes, targets, emptyFrac: n ? (targets[0] ?? 0) / n : NaN, meanTargets: n ? total / n : NaN };
}

export function regionStatsMarkdown(name: string, st: RegionStats): string {
  const counts = Object.entries(st.targets)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([k, v]) => `${k}: ${pct(v / st.n)}`)
    .join(', ');
  const classes = distribution(st.classes, st.n);
  return [
    `### ${name} (${st.n} samples)`,
    '',
    `- objects named per query: ${counts} (mean ${st.meanTargets.toFixed(2)}; none: ${pct(st.emptyFrac)})`,
    `- classes: ${classes}`,
    '',
  ].join('\n');
}

export type TaskMixStats = {
  n: number;
  /** samples per task */
  tasks: Record<string, number>;
  /** counting and detection: samples per number of objects of the class */
  objects: Record<number, number>;
  /** VQA: questions per kind, and per kind the answers given */
  vqaKinds: Record<string, number>;
  vqaAnswers: Record<string, Record<string, number>>;
};

/** Statistics of Geo-CoT's task mix (or of any set of task samples): tasks, object counts, VQA answers. */
export function taskMixStats(samples: readonly TaskSample[]): TaskMixStats {
  const st: TaskMixStats = { n: samples.length, tasks: {}, objects: {}, vqaKinds: {}, vqaAnswers: {} };
  const inc = (r: Record<string | number, number>, k: string | number) => (r[k] = (r[k] ?? 0) + 1);
  for (const s of samples) {
    inc(st.tasks, taskOf(s));
    if (!('task' in s)) continue;
    if (s.task === 'counting' || s.task === 'detection') inc(st.objects, s.boxes.length);
    if (s.task === 'vqa') {
      inc(st.vqaKinds, s.kind);
      inc((st.vqaAnswers[s.kind] ??= {}), s.answer);
    }
  }
  return st;
}

export function taskMixStatsMarkdown(name: string, st: TaskMixStats): string {
  const nObj = Object.values(st.objects).reduce((a, b) => a + b, 0);
  const nVqa = Object.values(st.vqaKinds).reduce((a, b) => a + b, 0);
  const objects = Object.entries(st.objects)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([k, v]) => `${k}: ${pct(v / nObj)}`)
    .join(', ');
  return [
    `### ${name} (${st.n} samples)`,
    '',
    `- tasks: ${distribution(st.tasks, st.n)}`,
    ...(nObj ? [`- counting and detection, objects of the class: ${objects}`] : []),
    ...(nVqa ? [`- VQA questions: ${distribution(st.vqaKinds, nVqa)}`] : []),
    ...Object.entries(st.vqaAnswers).map(
      ([kind, a]) =>
        `- VQA ${kind} answers: ${distribution(
          a,
          Object.values(a).reduce((x, y) => x + y, 0),
        )}`,
    ),
    '',
  ].join('\n');
}
