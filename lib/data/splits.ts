/**
 * Named splits of the mini world and the samples they hold: grounding (RSVG), counting,
 * detection and VQA (Geo-CoT), multi-target regions (RemoteReasoner), and Geo-CoT's task mix.
 *
 * Sample i of split s is generated from its own seed, deriveSeed(DATA_SEED, s, i): random
 * access, stable when a split grows, and independent of every training seed.
 */
import { center, formatBox, type Box } from '../boxes';
import {
  CUE_FAMILIES,
  type CueFamily,
  type Expression,
  cueFamily,
  margin,
  renderExpression,
  uniqueCues,
} from './referring';
import { completion, groundingCompletion, type TraceFacts } from './cot';
import {
  DEFAULT_WORLD,
  PLURAL,
  type ObjectClass,
  type Scene,
  type WorldConfig,
  generateScene,
  maskToRle,
  validateWorld,
} from './world';
import { Rng, deriveSeed } from '../rng';
import type {
  CountingSample,
  DetectionSample,
  GroundingSample,
  RegionSample,
  TaskName,
  TaskSample,
  VqaSample,
} from './samples';

/** The dataset seed: fixed, and separate from every training seed (STYLE 8). */
export const DATA_SEED = 20260121;
/** Bump when generation changes, so cached or materialised data is rebuilt. */
export const GENERATOR_VERSION = 2;

/** What a split holds: one task, or `mixed` — Geo-CoT's multi-task mix (MIXED_TASKS, round robin). */
export type Task = TaskName | 'mixed';

/** The tasks of a `mixed` split, in the order sample i cycles through them (i mod 4). */
export const MIXED_TASKS = ['grounding', 'counting', 'detection', 'vqa'] as const satisfies readonly TaskName[];

export type SplitSpec = {
  name: string;
  task: Task;
  /** default number of samples */
  size: number;
  /** overrides of DEFAULT_WORLD */
  world: Partial<WorldConfig>;
  /** relative frequency of each cue family (grounding) */
  cueWeights: Record<CueFamily, number>;
  /** what the split stands for */
  description: string;
};

const RSVG_CUES: Record<CueFamily, number> = {
  category: 0.1,
  attribute: 0.2,
  absolute: 0.25,
  ordinal: 0.25,
  relational: 0.2,
};
/**
 * The generic corpus stands for the web data a general VLM was trained on: category and attribute
 * queries only (no positional cues), on scenes of another region — the arid palette. A base
 * pretrained on it grounds the RSVG splits only partly (≈18% val Acc@0.5 at the default scale),
 * as Qwen2.5-VL-3B grounds 37.5% of DIOR-RSVG zero-shot (paper Table 1), and SFT and RFT then
 * have a domain and a cue vocabulary to learn (experiments/CALIBRATION.md, candidate C4).
 */
const GENERIC_CUES: Record<CueFamily, number> = {
  category: 0.75,
  attribute: 0.25,
  absolute: 0,
  ordinal: 0,
  relational: 0,
};
/** The generic corpus's region (a palette the RSVG splits never use). */
const GENERIC_WORLD: Partial<WorldConfig> = { palette: 'arid' };

export const SPLITS = {
  generic: {
    name: 'generic',
    task: 'grounding',
    size: 8000,
    world: GENERIC_WORLD,
    cueWeights: GENERIC_CUES,
    description:
      'base pretraining: category and attribute queries in another region (arid palette), no positional cues ' +
      '(stand-in for a general VLM meeting aerial images)',
  },
  'generic-easy': {
    name: 'generic-easy',
    task: 'grounding',
    size: 8000,
    world: { ...GENERIC_WORLD, minObjects: 1, maxObjects: 3, dominantCount: [1, 2] },
    cueWeights: GENERIC_CUES,
    description: 'base pretraining curriculum, first phase: the generic corpus on scenes of 1–3 objects',
  },
  'generic-mid': {
    name: 'generic-mid',
    task: 'grounding',
    size: 8000,
    world: { ...GENERIC_WORLD, minObjects: 2, maxObjects: 6, dominantCount: [1, 3] },
    cueWeights: GENERIC_CUES,
    description: 'base pretraining curriculum, second phase: the generic corpus on scenes of 2–6 objects',
  },
  train: {
    name: 'train',
    task: 'grounding',
    size: 6000,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'RSVG train split (DIOR-RSVG stand-in)',
  },
  val: {
    name: 'val',
    task: 'grounding',
    size: 500,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'RSVG validation split: all tuning happens here',
  },
  test: {
    name: 'test',
    task: 'grounding',
    size: 1000,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'RSVG in-domain test split',
  },
  'ood-palette': {
    name: 'ood-palette',
    task: 'grounding',
    size: 500,
    world: { palette: 'volcanic' },
    cueWeights: RSVG_CUES,
    description:
      'out-of-domain: dark volcanic terrain, a palette no training split uses (a sensor/region shift, FAST-T stand-in)',
  },
  'ood-scale': {
    name: 'ood-scale',
    task: 'grounding',
    size: 500,
    world: { objectScale: 0.75 * DEFAULT_WORLD.objectScale },
    cueWeights: RSVG_CUES,
    description: 'out-of-domain: objects 25% smaller (a ground-resolution shift)',
  },
  'ood-dense': {
    name: 'ood-dense',
    task: 'grounding',
    size: 500,
    world: { maxObjects: 16, minObjects: 6, dominantCount: [5, 9], clusterProb: 0.9 },
    cueWeights: RSVG_CUES,
    description: 'out-of-domain: denser scenes with more look-alikes (SOTA-T stand-in)',
  },
  'count-train': {
    name: 'count-train',
    task: 'counting',
    size: 3000,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'counting questions (Geo-CoT), train',
  },
  'count-test': {
    name: 'count-test',
    task: 'counting',
    size: 500,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'counting questions (Geo-CoT), test',
  },
  'multi-train': {
    name: 'multi-train',
    task: 'mixed',
    size: 20000,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'Geo-CoT task mix, train: grounding, counting, detection and VQA in turn',
  },
  'multi-val': {
    name: 'multi-val',
    task: 'mixed',
    size: 500,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'Geo-CoT task mix, validation',
  },
  'multi-test': {
    name: 'multi-test',
    task: 'mixed',
    size: 1000,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'Geo-CoT task mix, test (250 samples per task)',
  },
  'region-train': {
    name: 'region-train',
    task: 'region',
    size: 20000,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'multi-target region queries (RemoteReasoner), train',
  },
  'region-val': {
    name: 'region-val',
    task: 'region',
    size: 500,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'multi-target region queries (RemoteReasoner), validation',
  },
  'region-test': {
    name: 'region-test',
    task: 'region',
    size: 1000,
    world: {},
    cueWeights: RSVG_CUES,
    description: 'multi-target region queries (RemoteReasoner), test',
  },
  'ood-palette-region': {
    name: 'ood-palette-region',
    task: 'region',
    size: 500,
    world: { palette: 'volcanic' },
    cueWeights: RSVG_CUES,
    description: 'region queries out of domain: the volcanic palette of ood-palette',
  },
  'ood-scale-region': {
    name: 'ood-scale-region',
    task: 'region',
    size: 500,
    world: { objectScale: 0.75 * DEFAULT_WORLD.objectScale },
    cueWeights: RSVG_CUES,
    description: 'region queries out of domain: objects 25% smaller, as ood-scale',
  },
  'ood-dense-region': {
    name: 'ood-dense-region',
    task: 'region',
    size: 500,
    world: { maxObjects: 16, minObjects: 6, dominantCount: [5, 9], clusterProb: 0.9 },
    cueWeights: RSVG_CUES,
    description: 'region queries out of domain: the denser scenes of ood-dense (more targets per query)',
  },
} satisfies Record<string, SplitSpec>;

export type SplitName = keyof typeof SPLITS;
export const SPLIT_NAMES = Object.keys(SPLITS) as SplitName[];
export const GROUNDING_SPLITS = SPLIT_NAMES.filter((s) => SPLITS[s].task === 'grounding');
export const OOD_SPLITS = ['ood-palette', 'ood-scale', 'ood-dense'] as const satisfies readonly SplitName[];
/** The same shifts for region queries (RemoteReasoner). */
export const REGION_OOD_SPLITS = [
  'ood-palette-region',
  'ood-scale-region',
  'ood-dense-region',
] as const satisfies readonly SplitName[];

export function splitSpec(name: string): SplitSpec {
  if (!(name in SPLITS)) throw new Error(`unknown split "${name}"; choose from: ${SPLIT_NAMES.join(', ')}`);
  return SPLITS[name as SplitName];
}

export function worldOf(spec: SplitSpec): WorldConfig {
  return validateWorld({ ...DEFAULT_WORLD, ...spec.world });
}

function objectsMeta(scene: Scene) {
  return scene.objects.map((o) => ({
    cls: o.cls,
    color: o.color,
    box: o.box,
    angle: o.angle,
    area: o.area,
    maskRle: maskToRle(o.mask),
  }));
}

function sampleId(split: string, index: number): string {
  return `${split}-${String(index).padStart(6, '0')}`;
}

function drawFamily(weights: Record<CueFamily, number>, rng: Rng): CueFamily {
  return CUE_FAMILIES[rng.weighted(CUE_FAMILIES.map((f) => weights[f]))];
}

/**
 * Grounding sample `index` of a split: a scene, a target and a query that resolves to exactly
 * that target (checked by `resolve`). The first cue family is drawn by weight; when no target
 * admits it, the scene is redrawn, so the split keeps its cue distribution.
 */
export function groundingSample(split: string, index: number, spec: SplitSpec = splitSpec(split)): GroundingSample {
  const world = worldOf(spec);
  const rng = new Rng(deriveSeed(DATA_SEED, split, index));
  const S = world.imageSize;
  // The family is drawn once, and scenes are redrawn until one admits it: a split keeps the
  // cue mix of its weights instead of drifting towards the families that are easy to realise.
  const family = drawFamily(spec.cueWeights, rng);
  for (let attempt = 0; attempt < 200; attempt++) {
    const scene = generateScene(world, rng);
    if (scene.objects.length === 0) continue;
    const targets = rng.shuffle(scene.objects.map((_, i) => i));
    for (const t of targets) {
      const cues = uniqueCues(family, t, scene.objects, S);
      if (cues.length === 0) continue;
      const cue = rng.choice(cues);
      const target = scene.objects[t];
      const expression: Expression = { cls: target.cls, cue };
      const distractors = scene.objects.map((_, i) => i).filter((i) => i !== t && scene.objects[i].cls === target.cls);
      const facts: TraceFacts = { expression, gt: target.box, imageSize: S, objects: scene.objects, targetIndex: t };
      return {
        id: sampleId(split, index),
        image: { width: S, height: S, rgb: scene.rgb },
        query: renderExpression(expression),
        gt: target.box,
        category: target.cls,
        unique: distractors.length === 0,
        meta: {
          task: 'grounding',
          split,
          cueFamily: cueFamily(cue),
          cue,
          expression,
          targetIndex: t,
          distractors,
          objects: objectsMeta(scene),
          palette: scene.palette,
          cot: {
            short: groundingCompletion(facts, 'short'),
            rsground: groundingCompletion(facts, 'rsground'),
            geocot: groundingCompletion(facts, 'geocot'),
          },
        },
      };
    }
  }
  throw new Error(
    `split ${split}: could not generate sample ${index} with a unique ${family} query in 200 scenes (world config ` +
      `too restrictive?)`,
  );
}

// ── Counting and multi-target regions ──────────────────────────────────────────────────

function countingFacts(scene: Scene, rng: Rng): { cls: ObjectClass; boxes: Box[] } {
  // Mostly classes present in the scene (the dominant one more often); sometimes an absent one.
  const present = [...new Set(scene.objects.map((o) => o.cls))];
  const cls: ObjectClass =
    rng.bool(0.1) || present.length === 0
      ? rng.choice(worldClasses(scene))
      : scene.objects[rng.int(0, scene.objects.length - 1)].cls;
  return { cls, boxes: scene.objects.filter((o) => o.cls === cls).map((o) => o.box) };
}

function worldClasses(_scene: Scene): ObjectClass[] {
  return DEFAULT_WORLD.classes as ObjectClass[];
}

function evidenceList(cls: ObjectClass, boxes: Box[]): string {
  const sorted = [...boxes].sort((a, b) => a.x1 - b.x1 || a.y1 - b.y1);
  return sorted.length ? sorted.map((b) => `${cls} ${formatBox(b)}`).join(' ; ') : `no ${cls}`;
}

export function countingSample(split: string, index: number, spec: SplitSpec = splitSpec(split)): CountingSample {
  const world = worldOf(spec);
  const rng = new Rng(deriveSeed(DATA_SEED, split, index));
  const scene = generateScene(world, rng);
  const { cls, boxes } = countingFacts(scene, rng);
  const n = boxes.length;
  const think =
    `plan : find every ${cls} . evidence : ${evidenceList(cls, boxes)} . synthesis : there ` +
    `${n === 1 ? 'is' : 'are'} ${n} ${n === 1 ? cls : PLURAL[cls]} .`;
  return {
    task: 'counting',
    id: sampleId(split, index),
    image: { width: world.imageSize, height: world.imageSize, rgb: scene.rgb },
    query: `how many ${PLURAL[cls]} are there ?`,
    category: cls,
    count: n,
    boxes,
    meta: { task: 'counting', split, objects: objectsMeta(scene), cot: { geocot: completion(think, String(n)) } },
  };
}

const HALVES = ['left', 'right', 'top', 'bottom'] as const;

export function regionSample(split: string, index: number, spec: SplitSpec = splitSpec(split)): RegionSample {
  const world = worldOf(spec);
  const rng = new Rng(deriveSeed(DATA_SEED, split, index));
  const S = world.imageSize,
    m = margin(S);
  for (let attempt = 0; attempt < 200; attempt++) {
    const scene = generateScene(world, rng);
    const { cls } = countingFacts(scene, rng);
    const half = rng.bool(0.25) ? null : rng.choice(HALVES);
    const ofClass = scene.objects.filter((o) => o.cls === cls);
    const key = (b: Box) => {
      const [x, y] = center(b);
      return half === 'left' || half === 'right' ? x : y;
    };
    // Unambiguous only when no candidate sits within the margin of the dividing line.
    if (half && ofClass.some((o) => Math.abs(key(o.box) - S / 2) < m)) continue;
    const inHalf = (b: Box) =>
      half === null ||
      (half === 'left'
        ? key(b) < S / 2
        : half === 'right'
          ? key(b) >= S / 2
          : half === 'top'
            ? key(b) < S / 2
            : key(b) >= S / 2);
    const boxes = ofClass.map((o) => o.box).filter(inHalf);
    const where = half ? ` in the ${half} half` : '';
    const think =
      `plan : find every ${cls}${where} . evidence : ${evidenceList(cls, boxes)} . synthesis : ` +
      `${boxes.length} ${boxes.length === 1 ? cls : PLURAL[cls]}${where} .`;
    const answer = `[${[...boxes]
      .sort((a, b) => a.x1 - b.x1 || a.y1 - b.y1)
      .map(formatBox)
      .join(', ')}]`;
    return {
      id: sampleId(split, index),
      image: { width: S, height: S, rgb: scene.rgb },
      query: `all ${PLURAL[cls]}${where}`,
      category: cls,
      boxes,
      meta: { task: 'region', split, half, objects: objectsMeta(scene), cot: { geocot: completion(think, answer) } },
    };
  }
  throw new Error(`split ${split}: could not generate region sample ${index}`);
}

/** Geo-CoT detection: every instance of one class, listed left to right (SPEC §6.3). */
export function detectionSample(split: string, index: number, spec: SplitSpec = splitSpec(split)): DetectionSample {
  const world = worldOf(spec);
  const rng = new Rng(deriveSeed(DATA_SEED, split, index));
  const scene = generateScene(world, rng);
  const { cls, boxes } = countingFacts(scene, rng);
  const sorted = [...boxes].sort((a, b) => a.x1 - b.x1 || a.y1 - b.y1);
  const n = boxes.length;
  const think =
    `plan : find every ${cls} . evidence : ${evidenceList(cls, boxes)} . synthesis : ` +
    `${n} ${n === 1 ? cls : PLURAL[cls]} .`;
  return {
    task: 'detection',
    id: sampleId(split, index),
    image: { width: world.imageSize, height: world.imageSize, rgb: scene.rgb },
    query: `find every ${cls}`,
    category: cls,
    boxes: sorted,
    meta: {
      task: 'detection',
      split,
      objects: objectsMeta(scene),
      cot: { geocot: completion(think, `[${sorted.map(formatBox).join(', ')}]`) },
    },
  };
}

const EXTREMES = ['leftmost', 'rightmost', 'topmost', 'bottommost'] as const;
type Extreme = (typeof EXTREMES)[number];

/** The object of `objects` that is clearly the most `which` (by more than the margin m), or null. */
function extremeOf<T extends { box: Box }>(objects: readonly T[], which: Extreme, m: number): T | null {
  if (objects.length === 0) return null;
  const key = (b: Box) => {
    const [x, y] = center(b);
    return which === 'leftmost' ? x : which === 'rightmost' ? -x : which === 'topmost' ? y : -y;
  };
  const sorted = [...objects].sort((a, b) => key(a.box) - key(b.box));
  if (sorted.length > 1 && key(sorted[1].box) - key(sorted[0].box) < m) return null;
  return sorted[0];
}

/**
 * A closed-form question about the scene, in the world's vocabulary: presence ("are there ships
 * ?" → "there are" | "no"), class ("the leftmost one is ?" → "ship"), colour ("the topmost vehicle
 * is ?" → "red") or a count in one half (a count off by one is a near answer, SPEC §3.6).
 */
export function vqaSample(split: string, index: number, spec: SplitSpec = splitSpec(split)): VqaSample {
  const world = worldOf(spec);
  const rng = new Rng(deriveSeed(DATA_SEED, split, index));
  const S = world.imageSize,
    m = margin(S);
  const kinds = ['presence', 'class', 'color', 'count'] as const;
  const kind = kinds[rng.int(0, kinds.length - 1)];
  for (let attempt = 0; attempt < 200; attempt++) {
    const scene = generateScene(world, rng);
    const objs = scene.objects;
    const base = { task: 'vqa' as const, id: sampleId(split, index), kind };
    const image = { width: S, height: S, rgb: scene.rgb };
    const meta = (think: string, answer: string) => ({
      task: 'vqa',
      kind,
      split,
      objects: objectsMeta(scene),
      cot: { geocot: completion(think, answer) },
    });
    if (kind === 'presence') {
      const present = new Set(objs.map((o) => o.cls));
      const absent = (DEFAULT_WORLD.classes as ObjectClass[]).filter((c) => !present.has(c));
      const cls: ObjectClass =
        absent.length > 0 && (present.size === 0 || rng.bool(0.5)) ? rng.choice(absent) : rng.choice([...present]);
      const boxes = objs.filter((o) => o.cls === cls).map((o) => o.box);
      const answer = boxes.length > 0 ? 'there are' : 'no';
      const think = `plan : find every ${cls} . evidence : ${evidenceList(cls, boxes)} . synthesis : ${answer} .`;
      return {
        ...base,
        image,
        query: `are there ${PLURAL[cls]} ?`,
        answer,
        near: [],
        category: cls,
        meta: meta(think, answer),
      };
    }
    if (kind === 'class') {
      const which = rng.choice(EXTREMES);
      const o = extremeOf(objs, which, m);
      if (!o) continue;
      const think =
        `plan : find the ${which} one . evidence : ${o.cls} ${formatBox(o.box)} . synthesis : it is ` + `${o.cls} .`;
      return {
        ...base,
        image,
        query: `the ${which} one is ?`,
        answer: o.cls,
        near: [],
        category: o.cls,
        meta: meta(think, o.cls),
      };
    }
    if (kind === 'color') {
      if (objs.length === 0) continue;
      const cls = objs[rng.int(0, objs.length - 1)].cls;
      const which = rng.choice(EXTREMES);
      const o = extremeOf(
        objs.filter((x) => x.cls === cls),
        which,
        m,
      );
      if (!o) continue;
      const think =
        `plan : find the ${which} ${cls} . evidence : ${cls} ${formatBox(o.box)} . synthesis : it is ` + `${o.color} .`;
      return {
        ...base,
        image,
        query: `the ${which} ${cls} is ?`,
        answer: o.color,
        near: [],
        category: cls,
        meta: meta(think, o.color),
      };
    }
    // a count in one half: unambiguous only when no candidate sits within the margin of the line
    const { cls } = countingFacts(scene, rng);
    const half = rng.choice(HALVES);
    const ofClass = objs.filter((o) => o.cls === cls);
    const key = (b: Box) => center(b)[half === 'left' || half === 'right' ? 0 : 1];
    if (ofClass.some((o) => Math.abs(key(o.box) - S / 2) < m)) continue;
    const boxes = ofClass.map((o) => o.box).filter((b) => (half === 'left' || half === 'top') === key(b) < S / 2);
    const n = boxes.length;
    const think =
      `plan : find every ${cls} in the ${half} half . evidence : ${evidenceList(cls, boxes)} . synthesis : ` +
      `${n} ${n === 1 ? cls : PLURAL[cls]} in the ${half} half .`;
    return {
      ...base,
      image,
      query: `how many ${PLURAL[cls]} in the ${half} half ?`,
      answer: String(n),
      near: [n - 1, n + 1].filter((k) => k >= 0).map(String),
      category: cls,
      meta: meta(think, String(n)),
    };
  }
  throw new Error(`split ${split}: could not generate a ${kind} question for sample ${index} in 200 scenes`);
}

/** Sample `index` of any split, of the split's task (a mixed split's i-th task is MIXED_TASKS[i mod 4]). */
/** The task of sample `index` of a split, without generating it. */
export function taskAt(spec: SplitSpec, index: number): TaskName {
  return spec.task === 'mixed' ? MIXED_TASKS[index % MIXED_TASKS.length] : spec.task;
}

export function sampleAt(spec: SplitSpec, index: number): TaskSample {
  switch (taskAt(spec, index)) {
    case 'grounding':
      return groundingSample(spec.name, index, spec);
    case 'counting':
      return countingSample(spec.name, index, spec);
    case 'region':
      return regionSample(spec.name, index, spec);
    case 'detection':
      return detectionSample(spec.name, index, spec);
    case 'vqa':
      return vqaSample(spec.name, index, spec);
  }
}

/** Samples [start, start + count) of any split, generated in memory. */
export function taskSplit(split: string, opts: { count?: number; start?: number } = {}): TaskSample[] {
  const spec = splitSpec(split);
  const start = opts.start ?? 0,
    count = opts.count ?? spec.size;
  return Array.from({ length: count }, (_, i) => sampleAt(spec, start + i));
}

/** Samples by index: an array, or a split generated sample by sample (`lazySplit`). */
export type SampleSource = {
  readonly length: number;
  at(index: number): TaskSample | undefined;
  /** the task of sample `index` without generating it, where the source knows it */
  taskAt?(index: number): TaskName;
};

/**
 * Samples [0, count) of a split, each generated when first read and then kept: index for index
 * the samples of `taskSplit` (each is drawn from its own seed). A GRPO stage reads the 3 200
 * queries of its 400 steps out of 20 000, and generating all of them took ~40 s of every stage.
 */
export function lazySplit(split: string, count?: number): SampleSource {
  const spec = splitSpec(split);
  const n = count ?? spec.size;
  const made: (TaskSample | undefined)[] = new Array(n);
  return {
    length: n,
    at: (i) => (Number.isInteger(i) && i >= 0 && i < n ? (made[i] ??= sampleAt(spec, i)) : undefined),
    taskAt: (i) => taskAt(spec, i),
  };
}

/** Samples [start, start + count) of a grounding split, generated in memory. */
export function groundingSplit(split: string, opts: { count?: number; start?: number } = {}): GroundingSample[] {
  const spec = splitSpec(split);
  if (spec.task !== 'grounding') throw new Error(`split ${split} holds ${spec.task} samples, not grounding`);
  const start = opts.start ?? 0,
    count = opts.count ?? spec.size;
  return Array.from({ length: count }, (_, i) => groundingSample(split, start + i, spec));
}

export function countingSplit(split: string, opts: { count?: number; start?: number } = {}): CountingSample[] {
  const spec = splitSpec(split);
  if (spec.task !== 'counting') throw new Error(`split ${split} holds ${spec.task} samples, not counting`);
  const start = opts.start ?? 0,
    count = opts.count ?? spec.size;
  return Array.from({ length: count }, (_, i) => countingSample(split, start + i, spec));
}

export function regionSplit(split: string, opts: { count?: number; start?: number } = {}): RegionSample[] {
  const spec = splitSpec(split);
  if (spec.task !== 'region') throw new Error(`split ${split} holds ${spec.task} samples, not region`);
  const start = opts.start ?? 0,
    count = opts.count ?? spec.size;
  return Array.from({ length: count }, (_, i) => regionSample(split, start + i, spec));
}
