/**
 * The rewards as a service for external GRPO trainers (`npm run serve`), on fastify:
 *
 * - `POST /get_reward` — OpenRLHF's remote reward-model protocol: `{query, prompts, labels}` with
 *   one entry per rollout (`query` = prompt + completion as the trainer formats them); answers
 *   `{rewards, scores, extra_logs}` with every reward term per rollout in `extra_logs`.
 * - `POST /v1/groups` — rollouts grouped by query: every rollout's reward terms and total, the
 *   group's advantages (SPEC §4) and its spatial-consistency weight w (eq. 8), so a trainer can
 *   apply L_SC.
 * - `GET /healthz`, `GET /config`.
 *
 * A label is a box `[x1, y1, x2, y2]`, a JSON string `{"box": [...], "image_size": [w, h]}` (or an
 * object of that shape), or a list of boxes for the region and detection tasks; a count for
 * counting, an answer (or `{"answer": …, "near": [...]}`) for VQA. A label object may name its
 * own `"task"`, so one request can mix tasks (Geo-CoT's multi-task RFT). The reward configuration comes
 * from the server's flags and can be overridden per request (`config`). Bad requests get 400 with
 * the field named, oversized bodies 413; the handlers never throw past the framework.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type Box, isValidBox } from './boxes';
import {
  type GroundingRewardConfig,
  DEFAULT_GROUNDING_REWARD,
  GROUNDING_REWARD_SCHEMA,
  groundingReward,
  multiTargetReward,
} from './rewards';
import {
  type AdvantageScale,
  type ConsistencyConfig,
  ADVANTAGE_SCALES,
  CONSISTENCY_SCHEMA,
  DEFAULT_CONSISTENCY,
  groupAdvantages,
  spatialConsistencyWeight,
} from './grpo';
import { describeIssues, oneOf } from './config';
import { answerReward, type AnswerTruth } from './tasks';

export const TASKS = ['grounding', 'region', 'counting', 'detection', 'vqa'] as const;
type ServiceTask = (typeof TASKS)[number];

export type ServiceConfig = {
  /** the task of labels that do not name one */
  task: ServiceTask;
  reward: GroundingRewardConfig;
  /** L_SC on/off: off gives w = 1 */
  spatialConsistency: boolean;
  consistency: ConsistencyConfig;
  advantageScale: AdvantageScale;
  /** region task: eq. 4 as printed ('max') or one-to-one ('hungarian'), SPEC §3.7 */
  matching: 'max' | 'hungarian';
  /** image size assumed when a label has none (R_pos and the centre reward need one) */
  imageSize: [number, number] | null;
};

export const DEFAULT_SERVICE: Readonly<ServiceConfig> = Object.freeze({
  task: 'grounding',
  reward: DEFAULT_GROUNDING_REWARD,
  spatialConsistency: true,
  consistency: DEFAULT_CONSISTENCY,
  advantageScale: 'std',
  matching: 'max',
  imageSize: null,
});

const SERVICE_SCHEMA = z.strictObject({
  task: oneOf(TASKS),
  reward: GROUNDING_REWARD_SCHEMA,
  spatialConsistency: z.boolean(),
  consistency: CONSISTENCY_SCHEMA,
  advantageScale: oneOf(ADVANTAGE_SCALES),
  matching: oneOf(['max', 'hungarian'] as const),
  imageSize: z.tuple([z.number().int().positive(), z.number().int().positive()]).nullable(),
});

/** A request error: HTTP 400 with the field named. */
class BadRequest extends Error {}

/** `base` with a request's partial `config` merged in (reward and consistency field by field), validated. */
export function mergeConfig(base: ServiceConfig, o: unknown, where = 'config'): ServiceConfig {
  if (o === undefined) return base;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new BadRequest(`${where} must be an object`);
  const p = o as Partial<ServiceConfig>;
  const merged = {
    ...base,
    ...p,
    reward: { ...base.reward, ...p.reward },
    consistency: { ...base.consistency, ...p.consistency },
  };
  const r = SERVICE_SCHEMA.safeParse(merged);
  if (!r.success) throw new BadRequest(describeIssues(SERVICE_SCHEMA, merged, r.error.issues, where));
  return r.data as ServiceConfig;
}

type Label =
  | { task: 'grounding' | 'region' | 'detection'; boxes: Box[]; single: boolean; size: [number, number] | null }
  | (AnswerTruth & { task: 'counting' | 'vqa' });

const asBox = (v: unknown): Box | null =>
  Array.isArray(v) && v.length === 4 && v.every((x) => typeof x === 'number' && Number.isFinite(x))
    ? { x1: v[0], y1: v[1], x2: v[2], y2: v[3] }
    : null;

const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** A count or VQA label: `3` / `{"count": 3}`, `"ship"` / `{"answer": "ship", "near": [...]}`. */
function answerLabel(task: 'counting' | 'vqa', x: unknown, where: string): Label {
  if (task === 'counting') {
    const n = isObject(x) ? x.count : x;
    if (!Number.isInteger(n) || (n as number) < 0)
      throw new BadRequest(`${where}: a counting label is a count ≥ 0 (or {"count": n}), got ${JSON.stringify(x)}`);
    return { task, count: n as number };
  }
  const a = isObject(x) ? x.answer : x;
  const near = isObject(x) ? (x.near ?? []) : [];
  if (typeof a !== 'string' || !Array.isArray(near) || !near.every((n) => typeof n === 'string'))
    throw new BadRequest(
      `${where}: a VQA label is an answer string (or {"answer": "…", "near": ["…"]}), got ${JSON.stringify(x)}`,
    );
  return { task, answer: a, near };
}

/**
 * Read one label (see the header) of `task`, unless the label names its own; errors name the field
 * and the allowed values.
 */
export function parseLabel(v: unknown, where: string, defaultTask: ServiceTask = 'grounding'): Label {
  let x = v;
  if (typeof x === 'string') {
    try {
      x = JSON.parse(x);
    } catch {
      // a VQA answer need not be JSON
      if (defaultTask === 'vqa') return answerLabel('vqa', x, where);
      throw new BadRequest(`${where}: not a box, a list of boxes, or JSON {"box": [...], "image_size": [w, h]}`);
    }
  }
  let task = defaultTask;
  if (isObject(x) && x.task !== undefined) {
    if (!(TASKS as readonly unknown[]).includes(x.task))
      throw new BadRequest(`${where}.task = ${JSON.stringify(x.task)}: must be one of ${TASKS.join(', ')}`);
    task = x.task as ServiceTask;
  }
  if (task === 'counting' || task === 'vqa') return answerLabel(task, x, where);
  let size: [number, number] | null = null;
  if (isObject(x)) {
    const o = x as { box?: unknown; boxes?: unknown; image_size?: unknown };
    if (o.image_size !== undefined) {
      const s = o.image_size;
      if (!Array.isArray(s) || s.length !== 2 || !s.every((n) => Number.isInteger(n) && n > 0))
        throw new BadRequest(`${where}.image_size must be [width, height] (positive integers)`);
      size = [s[0], s[1]];
    }
    x = o.box ?? o.boxes;
    if (x === undefined) throw new BadRequest(`${where}: needs "box" (or "boxes")`);
  }
  const one = asBox(x);
  if (one) {
    if (!isValidBox(one))
      throw new BadRequest(`${where}: ground-truth box ${JSON.stringify(x)} is invalid (need x1 < x2, y1 < y2)`);
    return { task, boxes: [one], single: true, size };
  }
  if (Array.isArray(x)) {
    const boxes = x.map(asBox);
    boxes.forEach((b, i) => {
      if (!b || !isValidBox(b)) throw new BadRequest(`${where}[${i}]: not a valid box [x1, y1, x2, y2]`);
    });
    return { task, boxes: boxes as Box[], single: false, size };
  }
  throw new BadRequest(`${where}: not a box, a list of boxes, or {"box": [...], "image_size": [w, h]}`);
}

const END_TOKENS = /(<\|im_end\|>|<\|endoftext\|>|<\/s>|<eos>|<\|eot_id\|>)+\s*$/;

/** The completion inside a trainer's query: what follows its prompt, without end-of-turn tokens. */
export function completionOf(query: string, prompt: string | undefined): string {
  const c = prompt !== undefined && query.startsWith(prompt) ? query.slice(prompt.length) : query;
  return c.replace(END_TOKENS, '').trim();
}

export type Scored = { total: number; format: number; iou: number; aux: number; count: number };

/**
 * One rollout's reward terms under `cfg`, by its label's task (grounding: SPEC §3.5; region: §3.7;
 * counting, detection, VQA: lib/tasks.ts's answerReward, the task's score in `iou`).
 */
export function scoreRollout(text: string, label: Label, cfg: ServiceConfig, where: string): Scored {
  if (label.task === 'counting' || label.task === 'vqa' || label.task === 'detection') {
    const truth: AnswerTruth = 'boxes' in label ? { task: 'detection', boxes: label.boxes } : label;
    const r = answerReward(text, truth);
    return { total: r.format + r.score, format: r.format, iou: r.score, aux: 0, count: 0 };
  }
  if (label.task === 'region') {
    const r = multiTargetReward(text, label.boxes, cfg.matching);
    return { total: r.total, format: r.format, iou: r.iou, aux: 0, count: r.count };
  }
  if (!label.single)
    throw new BadRequest(`${where}: the grounding task needs one box per label (set config.task = "region" for lists)`);
  const size = label.size ?? cfg.imageSize;
  const needsSize = cfg.reward.aux === 'pos' || cfg.reward.aux === 'center';
  if (!size && needsSize && cfg.reward.beta > 0) {
    throw new BadRequest(
      `${where}: R_${cfg.reward.aux} needs the image size: give "image_size": [w, h] in the label, ` +
        'or start the server with --image-size',
    );
  }
  const [w, h] = size ?? [1, 1];
  const r = groundingReward(
    text,
    label.boxes[0],
    { imageWidth: w, imageHeight: h },
    size ? cfg.reward : { ...cfg.reward, aux: needsSize ? 'none' : cfg.reward.aux },
  );
  return { total: r.total, format: r.format, iou: r.iou, aux: r.aux, count: 0 };
}

/** Advantages and w of one group's rollouts (SPEC §4, eq. 6–8). */
export function groupStats(
  scores: Scored[],
  cfg: ServiceConfig,
): { advantages: number[]; w: number; mean: number; std: number } {
  const totals = scores.map((s) => s.total);
  const mean = totals.reduce((a, b) => a + b, 0) / Math.max(1, totals.length);
  const std = totals.length > 1 ? Math.sqrt(totals.reduce((a, t) => a + (t - mean) ** 2, 0) / (totals.length - 1)) : 0;
  const w =
    cfg.spatialConsistency && scores.length
      ? spatialConsistencyWeight(
          scores.map((s) => s.iou),
          cfg.consistency,
        )
      : 1;
  return { advantages: groupAdvantages(totals, cfg.advantageScale), w, mean, std };
}

const getRewardBody = {
  type: 'object',
  required: ['query'],
  properties: {
    query: { type: 'array', items: { type: 'string' } },
    prompts: { type: 'array', items: { type: 'string' } },
    labels: { type: 'array' },
    config: { type: 'object' },
  },
} as const;

const groupsBody = {
  type: 'object',
  required: ['groups'],
  properties: {
    groups: {
      type: 'array',
      items: {
        type: 'object',
        required: ['completions', 'label'],
        properties: {
          completions: { type: 'array', items: { type: 'string' }, minItems: 1 },
          label: {},
          prompt: { type: 'string' },
        },
      },
    },
    config: { type: 'object' },
  },
} as const;

/** The service, not yet listening. */
export function buildService(base: ServiceConfig, o: { bodyLimit?: number; logger?: boolean } = {}): FastifyInstance {
  // No type coercion: a string where a list belongs is the caller's bug, named, not silently wrapped.
  const app = Fastify({
    bodyLimit: o.bodyLimit ?? 16 * 1024 * 1024,
    logger: o.logger ?? false,
    ajv: { customOptions: { coerceTypes: false } },
  });
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err instanceof BadRequest) return reply.code(400).send({ error: err.message });
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(code).send({ error: err.message });
  });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/config', async () => base);
  app.post('/get_reward', { schema: { body: getRewardBody } }, async (req) => {
    const b = req.body as { query: string[]; prompts?: string[]; labels?: unknown[]; config?: unknown };
    const cfg = mergeConfig(base, b.config);
    if (!b.labels) throw new BadRequest('body/labels is required: the ground truth of each rollout');
    if (b.labels.length !== b.query.length)
      throw new BadRequest(
        `body/labels has ${b.labels.length} entries, body/query ${b.query.length}: one label per rollout`,
      );
    if (b.prompts && b.prompts.length !== b.query.length)
      throw new BadRequest(`body/prompts has ${b.prompts.length} entries, body/query ${b.query.length}`);
    const scored = b.query.map((q, i) =>
      scoreRollout(
        completionOf(q, b.prompts?.[i]),
        parseLabel(b.labels![i], `body/labels/${i}`, cfg.task),
        cfg,
        `body/labels/${i}`,
      ),
    );
    const rewards = scored.map((s) => s.total);
    return {
      rewards,
      scores: rewards,
      extra_logs: {
        format: scored.map((s) => s.format),
        iou: scored.map((s) => s.iou),
        ...(cfg.task === 'region' ? { count: scored.map((s) => s.count) } : { aux: scored.map((s) => s.aux) }),
      },
    };
  });
  app.post('/v1/groups', { schema: { body: groupsBody } }, async (req) => {
    const b = req.body as { groups: { completions: string[]; label: unknown; prompt?: string }[]; config?: unknown };
    const cfg = mergeConfig(base, b.config);
    return {
      groups: b.groups.map((g, i) => {
        const label = parseLabel(g.label, `body/groups/${i}/label`, cfg.task);
        const scored = g.completions.map((c) =>
          scoreRollout(completionOf(c, g.prompt), label, cfg, `body/groups/${i}/label`),
        );
        const st = groupStats(scored, cfg);
        return { rollouts: scored, advantages: st.advantages, w: st.w, mean: st.mean, std: st.std };
      }),
    };
  });
  return app;
}
