/**
 * Reinforcement fine-tuning with GRPO (RSGround-R1 §3.3–3.4; SPEC §3–§5).
 *
 * One loop, in the paper's order: sample G rollouts per query → score them
 * (R = R_format + R_IoU + β·R_aux) → group statistics (advantages; spatial-consistency weight
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
 */
import * as tf from '@tensorflow/tfjs';
import { grpoLoss, sequenceTensors } from './loss';
import { logProbsNoGrad } from './native/decoder';
import { AdamW, DEFAULT_OPTIM, lrAt } from './model/optimizer';
import { groundingReward, type GroundingRewardConfig, DEFAULT_GROUNDING_REWARD, AUX_REWARDS } from './rewards';
import { DEFAULT_CONSISTENCY, type ConsistencyConfig, type AdvantageScale, ADVANTAGE_SCALES, groupAdvantages, groupDiagnostics, meanStd, spatialConsistencyWeight, validateConsistency } from './grpo';
import { evaluatePolicy, type Evaluation } from './evaluate';
import type { Policy } from './model/policy';
import type { RunDir, Metrics } from './runs';
import type { GroundingSample } from './data/samples';
import { Rng, deriveSeed } from './rng';
import { Progress } from './progress';
import { hasCheckpoint } from './model/checkpoint';

export type GrpoConfig = {
  /** optimizer steps (one batch of B·G rollouts each) */
  steps: number;
  /** queries per step (B) */
  queriesPerStep: number;
  /** rollouts per query (G) */
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
   * μ: policy updates per batch of rollouts (TRL's num_iterations, the GRPO paper's μ). Absent
   * or 1 = SPEC §5's default: π_old = π_θ and the clip never binds. > 1 reuses the rollouts with
   * the ratio taken against the sampling policy, so the clip binds. (Optional so that the stage
   * hashes of runs made before it existed stay valid.)
   */
  iterations?: number;
  /**
   * How group advantages are scaled (SPEC §4): 'std' (default) divides by the group's sample
   * std; 'none' only centres them (Dr. GRPO), so a group whose rewards barely differ gets a
   * barely non-zero advantage instead of a unit one. Optional for the same reason as above.
   */
  advantageScale?: AdvantageScale;
  /** β_KL: weight of the k3 KL to the reference model (0 removes the reference) */
  betaKL: number;
  /** R = R_format + R_IoU + β·R_aux (eq. 5) */
  reward: GroundingRewardConfig;
  /** L_SC on/off (eq. 9); off means w = 1 */
  spatialConsistency: boolean;
  /** λm, λv, w_min, w_max (eq. 8) */
  consistency: ConsistencyConfig;
  /** fraction of the train split RFT may see (the paper: 40%) */
  trainFraction: number;
  /** evaluate on val every this many steps (0 = only at the end) */
  evalEvery: number;
  checkpointEvery: number;
};

export const DEFAULT_GRPO: Readonly<GrpoConfig> = Object.freeze({
  steps: 200, queriesPerStep: 8, group: 8, temperature: 1.0, maxLen: 64,
  lr: 1e-4, warmup: 10, epsilon: 0.2, betaKL: 0.04,
  reward: DEFAULT_GROUNDING_REWARD,
  spatialConsistency: true,
  consistency: DEFAULT_CONSISTENCY,
  trainFraction: 0.4, evalEvery: 50, checkpointEvery: 25,
});

export function validateGrpo(c: GrpoConfig): GrpoConfig {
  for (const k of ['steps', 'queriesPerStep', 'group', 'maxLen', 'checkpointEvery'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`grpo.${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.group < 2) throw new Error(`grpo.group must be ≥ 2 (advantages are relative within a group), got ${c.group}`);
  if (!(c.temperature > 0)) throw new Error(`grpo.temperature must be > 0, got ${c.temperature}`);
  if (!(c.trainFraction > 0 && c.trainFraction <= 1)) throw new Error(`grpo.trainFraction must be in (0, 1], got ${c.trainFraction}`);
  if (!(c.epsilon > 0 && c.epsilon < 1)) throw new Error(`grpo.epsilon must be in (0, 1), got ${c.epsilon}`);
  if (!(c.betaKL >= 0)) throw new Error(`grpo.betaKL must be ≥ 0, got ${c.betaKL}`);
  if (!AUX_REWARDS.includes(c.reward.aux)) throw new Error(`grpo.reward.aux = ${JSON.stringify(c.reward.aux)} is invalid (allowed: ${AUX_REWARDS.join(', ')})`);
  if (!(c.reward.beta >= 0)) throw new Error(`grpo.reward.beta must be ≥ 0, got ${c.reward.beta}`);
  if (!(c.reward.alpha > 0)) throw new Error(`grpo.reward.alpha must be > 0, got ${c.reward.alpha}`);
  if (c.iterations !== undefined && !(Number.isInteger(c.iterations) && c.iterations >= 1)) throw new Error(`grpo.iterations must be a positive integer, got ${c.iterations}`);
  if (c.advantageScale !== undefined && !ADVANTAGE_SCALES.includes(c.advantageScale)) throw new Error(`grpo.advantageScale = ${JSON.stringify(c.advantageScale)} is invalid (allowed: ${ADVANTAGE_SCALES.join(', ')})`);
  validateConsistency(c.consistency);
  return c;
}

export type GrpoResult = { steps: number; eval?: Evaluation; last: Metrics };

/** Per-step hook for notebooks (live plots). */
export type StepHook = (m: Metrics) => void;

/**
 * Train `policy` in place with GRPO on `train` (the first trainFraction of it), evaluating on
 * `evalSet`. The reference model is a frozen copy of `policy` as it is on entry (or as it was
 * at the start of the run, when resuming). Resumes from `run`'s checkpoint.
 */
export async function trainGrpo(x: {
  policy: Policy; run: RunDir; train: readonly GroundingSample[]; evalSet?: readonly GroundingSample[];
  config: GrpoConfig; seed: number; label?: string; quiet?: boolean; onStep?: StepHook;
}): Promise<GrpoResult> {
  const { policy, run } = x;
  const cfg = validateGrpo(x.config);
  const iterations = cfg.iterations ?? 1;
  const pool = x.train.slice(0, Math.max(cfg.queriesPerStep, Math.round(x.train.length * cfg.trainFraction)));
  const opt = new AdamW(policy.params, { ...DEFAULT_OPTIM, lr: cfg.lr });
  const sampler = new Rng(deriveSeed(x.seed, 'grpo', 'rollouts'));
  const order = new Rng(deriveSeed(x.seed, 'grpo', 'data'));
  // The reference model: the starting checkpoint, frozen (only needed when β_KL > 0).
  const ref = cfg.betaKL > 0 ? policy.frozenCopy() : null;
  // Data order: shuffled epochs over the pool, drawn from `order`; both saved in checkpoints.
  let queue: number[] = [];
  let start = 0;
  if (hasCheckpoint(run.checkpointDir)) {
    const st = policy.restore(run.checkpointDir, opt);
    start = st.step;
    sampler.setState(st.extra.sampler as ReturnType<Rng['getState']>);
    order.setState(st.extra.order as ReturnType<Rng['getState']>);
    queue = [...(st.extra.queue as number[])];
    run.truncateAfter(start);
  } else {
    run.resetLogs();
  }
  const nextQueries = (): GroundingSample[] => {
    const out: GroundingSample[] = [];
    while (out.length < cfg.queriesPerStep) {
      if (queue.length === 0) queue = order.shuffle(pool.map((_, i) => i));
      out.push(pool[queue.pop()!]);
    }
    return out;
  };
  const bar = new Progress(x.label ?? 'grpo', cfg.steps, { silent: x.quiet });
  const evaluate = (step: number) => {
    if (!x.evalSet?.length) return undefined;
    const ev = evaluatePolicy(policy, x.evalSet, { maxLen: cfg.maxLen });
    run.log({ step, 'eval/acc50': ev.acc50, 'eval/acc70': ev.acc70, 'eval/miou': ev.miou, 'eval/ciou': ev.ciou, 'eval/format': ev.formatRate });
    return ev;
  };
  if (start === 0 && cfg.evalEvery > 0) evaluate(0);
  let last: Metrics = {};
  for (let step = start; step < cfg.steps; step++) {
    const t0 = Date.now();
    const queries = nextQueries();
    const B = queries.length, G = cfg.group;

    // ── 1. sample G rollouts per query ─────────────────────────────────────────────────
    const gen = policy.generate(queries, sampler, { group: G, temperature: cfg.temperature, maxLen: cfg.maxLen, greedy: false });
    const tSample = Date.now();

    // ── 2. score every rollout: R = R_format + R_IoU + β·R_aux (eq. 5) ─────────────────
    const scores = gen.texts.map((text, n) => {
      const s = queries[Math.floor(n / G)];
      return groundingReward(text, s.gt, { imageWidth: s.image.width, imageHeight: s.image.height }, cfg.reward);
    });
    const tScore = Date.now();

    // ── 3. group statistics: advantages (SPEC §4) and w (eq. 6–8) ─────────────────────
    const advantages = new Float32Array(B * G);
    const weights = new Float32Array(B * G).fill(1);
    const groups = Array.from({ length: B }, (_, b) => scores.slice(b * G, (b + 1) * G));
    const ws: number[] = [];
    groups.forEach((grp, b) => {
      groupAdvantages(grp.map((r) => r.total), cfg.advantageScale).forEach((a, g) => (advantages[b * G + g] = a));
      const w = cfg.spatialConsistency ? spatialConsistencyWeight(grp.map((r) => r.iou), cfg.consistency) : 1;
      ws.push(w);
      weights.fill(w, b * G, (b + 1) * G);
    });

    // ── 4. μ policy updates on the GRPO objective (SPEC §5, eq. 9) ────────────────────
    const lr = lrAt(step, cfg.steps, cfg.lr, cfg.warmup);
    const enc = policy.encoderInput(queries);
    const seqs = sequenceTensors(gen.ids, policy.tok.bosId, policy.tok.padId);
    const batch = { enc, group: G, ...seqs };
    const refLogProbs = ref ? logProbsNoGrad(ref.params, ref.cfg, batch) : null;
    // π_old, the policy that sampled: only needed when the rollouts are reused.
    const oldLogProbs = iterations > 1 ? logProbsNoGrad(policy.params, policy.cfg, batch) : null;
    const disposeBatch = () => {
      refLogProbs?.dispose(); oldLogProbs?.dispose();
      enc.patches.dispose(); enc.queryIds.dispose(); enc.keyMask.dispose();
      seqs.inputIds.dispose(); seqs.targets.dispose(); seqs.mask.dispose();
    };
    let loss = 0, kl = 0, clipFrac = 0, gradNorm = 0;
    for (let it = 0; it < iterations; it++) {
      let itKl = NaN, itClip = NaN;
      const { value, grads } = tf.variableGrads(() => {
        const parts = grpoLoss(policy.params, policy.cfg, batch, { advantages, weights, refLogProbs, oldLogProbs: it === 0 ? null : oldLogProbs, epsilon: cfg.epsilon, betaKL: cfg.betaKL });
        itKl = parts.kl.dataSync()[0];
        itClip = parts.clipFrac.dataSync()[0];
        return parts.loss;
      }, [...policy.params.values()]);
      const itLoss = value.dataSync()[0];
      const disposeGrads = () => { value.dispose(); Object.values(grads).forEach((g) => g.dispose()); };
      if (!Number.isFinite(itLoss)) {
        disposeGrads(); disposeBatch(); ref?.dispose();
        throw new Error(`GRPO loss is ${itLoss} at step ${step}; stopped. The last good checkpoint is ${run.checkpointDir}`);
      }
      gradNorm += opt.apply(grads, lr) / iterations;
      disposeGrads();
      loss += itLoss / iterations; kl += itKl / iterations; clipFrac += itClip / iterations;
    }
    disposeBatch();
    const tUpdate = Date.now();

    // ── 5. log: reward terms, SPEC §4 diagnostics, loss parts ───────────────────────────
    const d = groupDiagnostics(groups);
    const tot = meanStd(scores.map((r) => r.total));
    const fmt = meanStd(scores.map((r) => r.format));
    const iouS = meanStd(scores.map((r) => r.iou));
    const aux = meanStd(scores.map((r) => r.aux));
    const len = meanStd(gen.ids.map((r) => r.length));
    last = {
      step: step + 1,
      'reward/total': tot.mean, 'reward/total_std': tot.std,
      'reward/format': fmt.mean, 'reward/format_std': fmt.std,
      'reward/iou': iouS.mean, 'reward/iou_std': iouS.std,
      'reward/aux': aux.mean, 'reward/aux_std': aux.std,
      'reward/std_in_group': d.rewardStdInGroup, 'reward/iou_std_in_group': d.iouStdInGroup,
      'grpo/zero_std_frac': d.zeroStdFrac, 'grpo/iou0_aux_frac': d.iouZeroAuxPosFrac,
      'grpo/kl': kl, 'grpo/clip_frac': clipFrac, 'grpo/loss': loss, 'grpo/grad_norm': gradNorm, 'grpo/lr': lr,
      'sc/w_mean': ws.reduce((a, b) => a + b, 0) / ws.length, 'sc/w_max': Math.max(...ws),
      'rollout/len': len.mean, 'rollout/finished': gen.finished.filter(Boolean).length / gen.finished.length,
    };
    run.log(last);
    run.logTiming({ step: step + 1, sample_ms: tSample - t0, score_ms: tScore - tSample, update_ms: tUpdate - tScore });
    x.onStep?.(last);

    // ── 6. evaluate, checkpoint ─────────────────────────────────────────────────────────
    if (cfg.evalEvery > 0 && (step + 1) % cfg.evalEvery === 0 && step + 1 < cfg.steps) evaluate(step + 1);
    if ((step + 1) % cfg.checkpointEvery === 0 || step + 1 === cfg.steps) {
      policy.save(run.checkpointDir, { step: step + 1, extra: { sampler: sampler.getState(), order: order.getState(), queue } }, opt, { grpo: cfg, seed: x.seed });
    }
    bar.update(step + 1, `reward ${tot.mean.toFixed(3)} iou ${iouS.mean.toFixed(3)}`);
  }
  const ev = evaluate(cfg.steps);
  ref?.dispose();
  opt.dispose();
  return { steps: cfg.steps, eval: ev, last };
}
