/**
 * Named splits of the mini world and the samples they hold: grounding (RSVG), counting
 * (Geo-CoT) and multi-target regions (RemoteReasoner).
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
import type { CountingSample, GroundingSample, RegionSample } from './samples';

/** The dataset seed: fixed, and separate from every training seed (STYLE 8). */
export const DATA_SEED = 20260121;
/** Bump when generation changes, so cached or materialised data is rebuilt. */
export const GENERATOR_VERSION = 2;

export type Task = 'grounding' | 'counting' | 'region';

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
