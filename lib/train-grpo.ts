/**
 * Reinforcement fine-tuning with GRPO (RSGround-R1 §3.3–3.4; SPEC §3–§5).
 *
 * One loop, in the paper's order: sample G rollouts per query → score them
 * (R = R_format + R_IoU + β·R_aux; for region queries RemoteReasoner's R_format + R_IoU + R_count;
 * for Geo-CoT's counting, detection and VQA R_format + the task's score; batches may mix tasks,
 * through the task registry of tasks.ts) → group statistics (advantages; spatial-consistency weight
 * w from the group's IoUs) → μ policy updates (default 1) of the clipped objective with the k3
 * KL to the frozen reference (the starting checkpoint) → log → evaluate → checkpoint.
 *
 * Deviations from the paper, on purpose:
 * - The policy is the small tfjs model of `policy.ts`, not Qwen2.5-VL-3B, and the data is the
 *   mini world (or a real dataset through the loaders).
 * - One update per batch of rollouts by default (VLM-R1's num_iterations = 1), so the ratio is 1
 *   in value and the clip never binds; `grpo/clip_frac` is logged to show it. With
 *   `iterations` = μ > 1, loss, KL, clip fraction and gradient norm are means over the μ updates.
 * - Optimiser: AdamW with warm-up and cosine decay (VLM-R1 uses AdamW with a constant or
 *   linear schedule); the learning rate is a config value.
 * - Two knobs the paper does not have, off by default: μ > 1 (above) and Dr. GRPO advantages
 *   (`advantageScale: 'none'`, centred but not divided by the group's std).
 * - Two controls the paper does not have, off by default, that check the testbed can resolve a
 *   reward's effect: `reward.iouWeight: 0` (R_format alone, the positive control's weak arm)
 *   and `rewardTarget: 'other-sample'` (every box term scored against the ground truth of
 *   another query in the batch, the negative control).
 */
import * as tf from '@tensorflow/tfjs';
import { grpoLoss, referenceLogProbs, sequenceTensors } from './loss';
import { AdamW, DEFAULT_OPTIM, lrAt } from './model/optimizer';
import { LORA_SCHEMA, type LoraConfig } from './model/lora';
import { GROUNDING_REWARD_SCHEMA, DEFAULT_GROUNDING_REWARD, type GroundingRewardConfig } from './rewards';
import { REGION_REWARD_SCHEMA, rolloutReward, type RegionRewardConfig } from './tasks';
import {
  ADVANTAGE_SCALES,
  CONSISTENCY_SCHEMA,
  DEFAULT_CONSISTENCY,
  type AdvantageScale,
  type ConsistencyConfig,
  groupAdvantages,
  groupDiagnostics,
  spatialConsistencyWeight,
} from './grpo';
import { meanStd } from './stats';
import { thinkBlock } from './answer';
import { faithfulness, repetitionRate, traceStructure } from './faithfulness';
import type { Box } from './boxes';
import type { Evaluation } from './evaluate';
import { disposeEncoderInput } from './model/network';
import type { Policy } from './model/policy';
import type { RunDir, Metrics } from './runs';
import { taskOf, TASKS, type TaskSample } from './data/samples';
import type { SampleSource } from './data/splits';
import { Rng, deriveSeed } from './rng';
import { Progress } from './progress';
import { num, oneOf, validate, z } from './config';
import {
  evaluateAndLog,
  isCheckpointStep,
  isEvalStep,
  resumeOrStart,
  type Selection,
  type SelectionState,
  Selector,
  selectedEval,
  yieldToEventLoop,
} from './training';

export type GrpoConfig = {
  /** optimizer steps (one batch of B·G rollouts each) */
  steps: number;
  /** queries per step (B) */
  queriesPerStep: number;
  /** G: rollouts per query */
  group: number;
  /** sampling temperature */
  temperature: number;
  /** maximum completion length (tokens) */
  maxLen: number;
  lr: number;
  warmup: number;
  /** ε: PPO clip range */
  epsilon: number;
  /**
   * μ: policy updates per batch of rollouts (TRL's num_iterations). 1 = SPEC §5's default:
   * π_old = π_θ and the clip never binds. > 1 reuses the rollouts with the ratio taken against
   * the sampling policy, so the clip binds.
   */
  iterations: number;
  /**
   * How group advantages are scaled (SPEC §4): 'std' divides by the group's sample std (the
   * paper); 'none' only centres them (Dr. GRPO), so a group whose rewards barely differ gets a
   * barely non-zero advantage instead of a unit one.
   */
  advantageScale: AdvantageScale;
  /** β_KL: weight of the k3 KL to the reference model (0 removes the reference) */
  betaKL: number;
  /**
   * Which box the rewards score against: the query's own ground truth ('gt', always outside the
   * negative control), or the ground truth of the next query in the batch ('other-sample').
   */
  rewardTarget: RewardTarget;
  /** R = R_format + R_IoU + β·R_aux (eq. 5) */
  reward: GroundingRewardConfig;
  /**
   * Region queries (RemoteReasoner, SPEC §3.7): R = R_format + R_IoU + R_count with this matching
   * and count weight. Absent means DEFAULT_REGION_REWARD (and leaves grounding stages' hashes as they were).
   */
  region?: RegionRewardConfig;
  /** L_SC on/off (eq. 9); off means w = 1 */
  spatialConsistency: boolean;
  /** λm, λv, w_min, w_max (eq. 8) */
  consistency: ConsistencyConfig;
  /**
   * Low-rank adapters instead of full fine-tuning (RemoteReasoner: rank 8, α 16); absent means every
   * weight trains (and leaves existing stages' hashes as they were).
   */
  lora?: LoraConfig;
  /**
   * Log what the rollouts' reasoning looks like every step (Geo-CoT's collapse without KL): the share
   * with the plan → evidence → synthesis structure, the n-gram repetition rate and the think length.
   * Absent means off.
   */
  traceDiagnostics?: boolean;
  /** fraction of the train split RFT may see (the paper: 40%) */
  trainFraction: number;
  /** evaluate on val every this many steps (0 = only at the end) */
  evalEvery: number;
  checkpointEvery: number;
};

export const REWARD_TARGETS = ['gt', 'other-sample'] as const;
export type RewardTarget = (typeof REWARD_TARGETS)[number];

export const DEFAULT_GRPO: Readonly<GrpoConfig> = Object.freeze({
  steps: 200,
  queriesPerStep: 8,
  group: 8,
  temperature: 1.0,
  maxLen: 64,
  lr: 1e-4,
  warmup: 10,
  epsilon: 0.2,
  iterations: 1,
  advantageScale: 'std',
  betaKL: 0.04,
  rewardTarget: 'gt',
  reward: DEFAULT_GROUNDING_REWARD,
  spatialConsistency: true,
  consistency: DEFAULT_CONSISTENCY,
  trainFraction: 0.4,
  evalEvery: 50,
  checkpointEvery: 25,
});

export const GRPO_SCHEMA = z.strictObject({
  steps: num.int(1),
  queriesPerStep: num.int(1),
  group: num.int(2), // advantages are relative within a group
  temperature: num.positive(),
  maxLen: num.int(1),
  lr: num.positive(),
  warmup: num.int(0),
  epsilon: z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)'),
  iterations: num.int(1),
  advantageScale: oneOf(ADVANTAGE_SCALES),
  betaKL: num.nonNegative(),
  rewardTarget: oneOf(REWARD_TARGETS),
  reward: GROUNDING_REWARD_SCHEMA,
  region: REGION_REWARD_SCHEMA.optional(),
  lora: LORA_SCHEMA.optional(),
  traceDiagnostics: z.boolean({ error: 'must be true or false' }).optional(),
  spatialConsistency: z.boolean({ error: 'must be true or false' }),
  consistency: CONSISTENCY_SCHEMA,
  trainFraction: z.number().gt(0, 'must be in (0, 1]').lte(1, 'must be in (0, 1]'),
  evalEvery: num.int(0),
  checkpointEvery: num.int(1),
}) satisfies z.ZodType<GrpoConfig>;

export function validateGrpo(c: GrpoConfig, where = 'grpo'): GrpoConfig {
  return validate(GRPO_SCHEMA, c, where);
}

export type GrpoResult = {
  /** steps trained (fewer than configured when selection stopped early) */
  steps: number;
  eval?: Evaluation;
  last: Metrics;
  /** with selection: the kept step and its eval Acc@0.5 */
  selected?: { step: number; acc50: number; trained: number };
};

/** Per-step hook for notebooks (live plots). */
export type StepHook = (m: Metrics) => void;

/**
 * Step 2 of a GRPO step: the reward of each of the B·G rollouts (`texts`, G per query in order;
 * SPEC §3.5, regions §3.7, other tasks §3.6) against its query's truth — or, for the negative
 * control (`rewardTarget` 'other-sample'), against the next query's truth in the batch (query b is
 * scored against b + 1, the last against the first).
 */
export function scoreRollouts(
  texts: readonly string[],
  queries: readonly TaskSample[],
  G: number,
  cfg: Pick<GrpoConfig, 'reward' | 'region' | 'rewardTarget'>,
): ReturnType<typeof rolloutReward>[] {
  const B = queries.length;
  return texts.map((text, n) => {
    const b = Math.floor(n / G);
    const target = cfg.rewardTarget === 'gt' ? queries[b] : queries[(b + 1) % B];
    return rolloutReward(text, queries[b], target, cfg);
  });
}

/**
 * Step 3 (SPEC §4): per rollout, its advantage within its group and its group's spatial
 * consistency weight w from the group's IoU rewards (eq. 6–8; 1 without L_SC), and w per group.
 */
export function groupStatistics(
  groups: readonly (readonly { total: number; iou: number }[])[],
  cfg: Pick<GrpoConfig, 'advantageScale' | 'spatialConsistency' | 'consistency'>,
): { advantages: Float32Array; weights: Float32Array; ws: number[] } {
  const G = groups[0]?.length ?? 0;
  const advantages = new Float32Array(groups.length * G);
  const weights = new Float32Array(groups.length * G).fill(1);
  const ws: number[] = [];
  groups.forEach((grp, b) => {
    groupAdvantages(
      grp.map((r) => r.total),
      cfg.advantageScale,
    ).forEach((a, g) => (advantages[b * G + g] = a));
    const w = cfg.spatialConsistency
      ? spatialConsistencyWeight(
          grp.map((r) => r.iou),
          cfg.consistency,
        )
      : 1;
    ws.push(w);
    weights.fill(w, b * G, (b + 1) * G);
  });
  return { advantages, weights, ws };
}

/**
 * Train `policy` in place with GRPO on `train` (the first trainFraction of it), evaluating on
 * `evalSet`. The reference model is a frozen copy of `policy` as it is on entry (or as it was
 * at the start of the run, when resuming). Resumes from `run`'s checkpoint.
 */
export async function trainGrpo(x: {
  policy: Policy;
  run: RunDir;
  /** an array, or a split generated on demand (lib/data/splits.ts `lazySplit`) */
  train: SampleSource;
  evalSet?: readonly TaskSample[];
  config: GrpoConfig;
  seed: number;
  label?: string;
  quiet?: boolean;
  onStep?: StepHook;
  /** keep the best evaluation's weights and stop early (lib/training.ts `Selection`) */
  select?: Selection;
}): Promise<GrpoResult> {
  const { policy, run } = x;
  const cfg = validateGrpo(x.config);
  // the pool: the first trainFraction of `train`, read by index (an on-demand split generates only what is drawn)
  const poolSize = Math.min(
    x.train.length,
    Math.max(cfg.queriesPerStep, Math.round(x.train.length * cfg.trainFraction)),
  );
  const poolAt = (i: number): TaskSample => x.train.at(i)!;
  // LoRA (RemoteReasoner): adapters on every linear layer train, the weights stay frozen.
  if (cfg.lora && !policy.lora) policy.addLora(cfg.lora, deriveSeed(x.seed, 'grpo', 'lora'));
  const opt = new AdamW(policy.trainable, { ...DEFAULT_OPTIM, lr: cfg.lr }, policy.ops);
  const sampler = new Rng(deriveSeed(x.seed, 'grpo', 'rollouts'));
  const order = new Rng(deriveSeed(x.seed, 'grpo', 'data'));
  // The reference model: the starting checkpoint, frozen (only needed when β_KL > 0).
  const ref = cfg.betaKL > 0 ? policy.frozenCopy() : null;
  // Data order: shuffled epochs over the pool, drawn from `order`; both saved in checkpoints.
  const { start, extra } = resumeOrStart(run, policy, opt, cfg.steps);
  let queue: number[] = [];
  if (start > 0) {
    sampler.setState(extra.sampler as ReturnType<Rng['getState']>);
    order.setState(extra.order as ReturnType<Rng['getState']>);
    queue = [...(extra.queue as number[])];
  }
  const selector = new Selector(x.select, cfg.steps, run.dir, extra.select as SelectionState | undefined);
  const state = (step: number) => ({
    step,
    extra: {
      sampler: sampler.getState(),
      order: order.getState(),
      queue,
      ...(x.select ? { select: selector.state } : {}),
    },
  });
  const poolTasks = new Set(
    Array.from({ length: poolSize }, (_, i) => (x.train.taskAt ? x.train.taskAt(i) : taskOf(poolAt(i)))),
  );
  const perTask = poolTasks.size > 1 || [...poolTasks].some((t) => t !== 'grounding' && t !== 'region');
  if (cfg.rewardTarget === 'other-sample' && poolTasks.size > 1)
    throw new Error(
      `grpo.rewardTarget = 'other-sample' scores another query's truth, which needs one task per pool; this pool ` +
        `mixes ${[...poolTasks].join(', ')}`,
    );
  const nextQueries = (): TaskSample[] => {
    const out: TaskSample[] = [];
    while (out.length < cfg.queriesPerStep) {
      if (queue.length === 0) queue = order.shuffle(Array.from({ length: poolSize }, (_, i) => i));
      out.push(poolAt(queue.pop()!));
    }
    return out;
  };
  const bar = new Progress(x.label ?? 'grpo', cfg.steps, { silent: x.quiet });
  if (start === 0 && cfg.evalEvery > 0) evaluateAndLog(run, policy, x.evalSet, 0, cfg.maxLen);
  let last: Metrics = {};
  let trained = start;
  for (let step = start; step < cfg.steps && !selector.state.stopped; step++) {
    await yieldToEventLoop();
    const t0 = Date.now();
    const queries = nextQueries();
    const B = queries.length,
      G = cfg.group;

    // ── 1. sample G rollouts per query ─────────────────────────────────────────────────
    const gen = policy.generate(queries, sampler, {
      group: G,
      temperature: cfg.temperature,
      maxLen: cfg.maxLen,
      greedy: false,
    });
    const tSample = Date.now();

    // ── 2. score every rollout: R = R_format + R_IoU + β·R_aux (eq. 5; regions: eq. 6) ─
    const scores = scoreRollouts(gen.texts, queries, G, cfg);
    const tScore = Date.now();

    // ── 3. group statistics: advantages (SPEC §4) and w (eq. 6–8) ─────────────────────
    const groups = Array.from({ length: B }, (_, b) => scores.slice(b * G, (b + 1) * G));
    const { advantages, weights, ws } = groupStatistics(groups, cfg);

    // ── 4. μ policy updates on the GRPO objective (SPEC §5, eq. 9) ────────────────────
    const lr = lrAt(step, cfg.steps, cfg.lr, cfg.warmup);
    const enc = policy.encoderInput(queries);
    const seqs = sequenceTensors(gen.ids, policy.tok.bosId, policy.tok.padId);
    const batch = { enc, group: G, ...seqs };
    const refLogProbs = ref ? referenceLogProbs(ref, batch) : null;
    // π_old, the policy that sampled: only needed when the rollouts are reused.
    const oldLogProbs = cfg.iterations > 1 ? referenceLogProbs(policy, batch) : null;
    const disposeBatch = () => {
      refLogProbs?.dispose();
      oldLogProbs?.dispose();
      disposeEncoderInput(enc);
      seqs.inputIds.dispose();
      seqs.targets.dispose();
      seqs.mask.dispose();
    };
    let loss = 0,
      kl = 0,
      clipFrac = 0,
      gradNorm = 0;
    for (let it = 0; it < cfg.iterations; it++) {
      let itKl = NaN,
        itClip = NaN;
      const { value, grads } = tf.variableGrads(() => {
        const parts = grpoLoss(policy, batch, {
          advantages,
          weights,
          refLogProbs,
          oldLogProbs: it === 0 ? null : oldLogProbs,
          epsilon: cfg.epsilon,
          betaKL: cfg.betaKL,
        });
        itKl = parts.kl.dataSync()[0];
        itClip = parts.clipFrac.dataSync()[0];
        return parts.loss;
      }, [...policy.trainable.values()]);
      const itLoss = value.dataSync()[0];
      const disposeGrads = () => {
        value.dispose();
        Object.values(grads).forEach((g) => g.dispose());
      };
      if (!Number.isFinite(itLoss)) {
        disposeGrads();
        disposeBatch();
        ref?.dispose();
        opt.dispose();
        throw new Error(
          `GRPO loss is ${itLoss} at step ${step}; stopped. The last good checkpoint is ${run.checkpointDir}`,
        );
      }
      gradNorm += opt.apply(grads, lr) / cfg.iterations;
      disposeGrads();
      loss += itLoss / cfg.iterations;
      kl += itKl / cfg.iterations;
      clipFrac += itClip / cfg.iterations;
    }
    disposeBatch();
    const tUpdate = Date.now();

    // ── 5. log: reward terms, SPEC §4 diagnostics, loss parts ───────────────────────────
    const d = groupDiagnostics(groups);
    const wStats = meanStd(ws);
    const tot = meanStd(scores.map((r) => r.total));
    const fmt = meanStd(scores.map((r) => r.format));
    const iouS = meanStd(scores.map((r) => r.iou));
    const aux = meanStd(scores.map((r) => r.aux));
    const len = meanStd(gen.ids.map((r) => r.length));
    last = {
      step: step + 1,
      'reward/total': tot.mean,
      'reward/total_std': tot.std,
      'reward/format': fmt.mean,
      'reward/format_std': fmt.std,
      'reward/iou': iouS.mean,
      'reward/iou_std': iouS.std,
      'reward/aux': aux.mean,
      'reward/aux_std': aux.std,
      'reward/std_in_group': d.rewardStdInGroup,
      'reward/iou_std_in_group': d.iouStdInGroup,
      'grpo/zero_std_frac': d.zeroStdFrac,
      'grpo/iou0_aux_frac': d.iouZeroAuxPosFrac,
      'grpo/kl': kl,
      'grpo/clip_frac': clipFrac,
      'grpo/loss': loss,
      'grpo/grad_norm': gradNorm,
      'grpo/lr': lr,
      'sc/w_mean': wStats.mean,
      'sc/w_max': Math.max(...ws),
      'sc/w_min': Math.min(...ws),
      // Within-batch spread of w (coefficient of variation): with Adam, a w that is the same for every
      // group only rescales the loss, which Adam's normalisation cancels; only its spread reweights groups.
      'sc/w_cv': wStats.mean > 0 ? wStats.std / wStats.mean : 0,
      'sc/at_wmin': ws.filter((w) => w <= cfg.consistency.wMin).length / ws.length,
      'sc/at_wmax': ws.filter((w) => w >= cfg.consistency.wMax).length / ws.length,
      'rollout/len': len.mean,
      'rollout/finished': gen.finished.filter(Boolean).length / gen.finished.length,
    };
    // Per-task reward terms, where the pool is not plain grounding or regions (Geo-CoT's task mix).
    if (perTask)
      for (const task of TASKS) {
        const mine = scores.filter((r) => r.task === task);
        if (mine.length === 0) continue;
        last[`task/${task}/share`] = mine.length / scores.length;
        last[`task/${task}/reward`] = meanStd(mine.map((r) => r.total)).mean;
        last[`task/${task}/score`] = meanStd(mine.map((r) => r.iou)).mean;
        last[`task/${task}/format`] = meanStd(mine.map((r) => r.format)).mean;
      }
    if (cfg.traceDiagnostics) {
      const thinks = gen.texts.map((t) => thinkBlock(t) ?? '');
      last['trace/structure'] = gen.texts.filter((t) => traceStructure(t).ok).length / gen.texts.length;
      // faithfulness against the scene, where the sample records its objects (the mini world does)
      const faith = gen.texts.flatMap((t, n) => {
        const objects = queries[Math.floor(n / G)].meta?.objects as { cls: string; box: Box }[] | undefined;
        return objects ? [faithfulness(t, objects)] : [];
      });
      const ev = faith.map((f) => f.evidenceMatch).filter(Number.isFinite);
      const agree = faith.filter((f) => f.synthesisAgrees !== null).map((f) => (f.synthesisAgrees ? 1 : 0));
      if (ev.length) last['trace/evidence_match'] = meanStd(ev).mean;
      if (agree.length) last['trace/synthesis_agrees'] = meanStd(agree).mean;
      last['trace/repetition'] = meanStd(thinks.map((t) => repetitionRate(t))).mean;
      last['trace/think_words'] = meanStd(thinks.map((t) => (t.trim() ? t.trim().split(/\s+/).length : 0))).mean;
    }
    run.log(last);
    run.logTiming({ step: step + 1, sample_ms: tSample - t0, score_ms: tScore - tSample, update_ms: tUpdate - tScore });
    x.onStep?.(last);

    // ── 6. evaluate, checkpoint ─────────────────────────────────────────────────────────
    trained = step + 1;
    const ev =
      isEvalStep(trained, cfg.evalEvery, cfg.steps) || selector.due(trained)
        ? evaluateAndLog(run, policy, x.evalSet, trained, cfg.maxLen)
        : undefined;
    selector.observe(trained, ev, policy);
    if (isCheckpointStep(trained, cfg.checkpointEvery, cfg.steps))
      policy.save(run.checkpointDir, state(trained), opt, { grpo: cfg, seed: x.seed });
    bar.update(trained, `reward ${tot.mean.toFixed(3)} iou ${iouS.mean.toFixed(3)}`);
  }
  selector.finish(policy, () => policy.save(run.checkpointDir, state(trained), opt, { grpo: cfg, seed: x.seed }));
  const ev = x.select
    ? selectedEval(run, policy, x.evalSet, selector, trained, cfg.maxLen)
    : evaluateAndLog(run, policy, x.evalSet, cfg.steps, cfg.maxLen);
  ref?.dispose();
  opt.dispose();
  return { steps: trained, eval: ev, last, selected: selector.summary(trained) };
}
