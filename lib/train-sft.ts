/**
 * Supervised fine-tuning (paper eq. 1) — one loop for the three supervised stages:
 * - base: the generic corpus with the short, reasoning-free completion (a stand-in for an
 *   instruction-tuned VLM that grounds objects but does not reason about positions);
 * - SFT baseline: answer-only (short completion) on the RSVG train split;
 * - CoT-SFT: the RSVG train split with CoT traces (`rsground` or `geocot`).
 */
import * as tf from '@tensorflow/tfjs';
import { sftLoss, sequenceTensors } from './loss';
import { AdamW, DEFAULT_OPTIM, lrAt } from './model/optimizer';
import { type CotStyle, COT_STYLES } from './data/cot';
import { evaluatePolicy, type Evaluation } from './evaluate';
import type { Policy } from './model/policy';
import type { RunDir } from './runs';
import type { GroundingSample } from './data/samples';
import { Rng, deriveSeed } from './rng';
import { Progress } from './progress';
import { hasCheckpoint } from './model/checkpoint';

export type SftConfig = {
  /** optimizer steps */
  steps: number;
  batchSize: number;
  lr: number;
  /** linear warm-up steps, then cosine decay to 10% */
  warmup: number;
  weightDecay: number;
  clipNorm: number;
  /** which completion to imitate (short = answer only, no reasoning) */
  target: CotStyle;
  /** evaluate on the eval set every this many steps (0 = only at the end) */
  evalEvery: number;
  /** checkpoint every this many steps */
  checkpointEvery: number;
};

export const DEFAULT_SFT: Readonly<SftConfig> = Object.freeze({
  steps: 1000, batchSize: 32, lr: 2e-3, warmup: 50, weightDecay: 0.01, clipNorm: 1,
  target: 'short', evalEvery: 0, checkpointEvery: 200,
});

export function validateSft(c: SftConfig): SftConfig {
  for (const k of ['steps', 'batchSize', 'checkpointEvery'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`sft.${k} must be a positive integer, got ${c[k]}`);
  }
  if (!(c.lr > 0)) throw new Error(`sft.lr must be > 0, got ${c.lr}`);
  if (!COT_STYLES.includes(c.target)) throw new Error(`sft.target = ${JSON.stringify(c.target)} is invalid (allowed: ${COT_STYLES.join(', ')})`);
  return c;
}

export type SftResult = { finalLoss: number; steps: number; eval?: Evaluation };

/** One phase of a curriculum: its samples are used until `until` (a fraction of the steps). */
export type CurriculumPhase = { until: number; samples: readonly GroundingSample[] };

function isCurriculum(t: readonly GroundingSample[] | readonly CurriculumPhase[]): t is readonly CurriculumPhase[] {
  return t.length > 0 && 'until' in t[0];
}

/** The supervised completion of a sample in a given style. */
export function targetText(s: GroundingSample, style: CotStyle): string {
  const cot = s.meta?.cot as Record<string, string> | undefined;
  const t = cot?.[style];
  if (!t) throw new Error(`sample ${s.id} has no "${style}" completion (only synthetic samples carry CoT traces)`);
  return t;
}

/**
 * Train `policy` in place. Resumes from `run`'s checkpoint when there is one. Logs
 * `sft/loss`, `sft/lr`, `sft/grad_norm` every step and `eval/*` when evaluating.
 */
export async function trainSft(x: {
  policy: Policy; run: RunDir;
  /** the training samples, or curriculum phases: phase k covers steps up to until·steps */
  train: readonly GroundingSample[] | readonly CurriculumPhase[];
  evalSet?: readonly GroundingSample[];
  config: SftConfig; seed: number; label?: string; quiet?: boolean;
}): Promise<SftResult> {
  const { policy, run } = x;
  const cfg = validateSft(x.config);
  const phases: readonly CurriculumPhase[] = isCurriculum(x.train) ? x.train : [{ until: 1, samples: x.train }];
  if (phases.some((p) => p.samples.length === 0)) throw new Error('trainSft: a training set (or curriculum phase) is empty');
  if (phases[phases.length - 1].until < 1) throw new Error(`trainSft: the last curriculum phase must run until 1, not ${phases[phases.length - 1].until}`);
  const opt = new AdamW(policy.params, { ...DEFAULT_OPTIM, lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm });
  const rng = new Rng(deriveSeed(x.seed, 'sft', 'batches'));
  let start = 0;
  if (hasCheckpoint(run.checkpointDir)) {
    const st = policy.restore(run.checkpointDir, opt);
    start = st.step;
    rng.setState(st.extra.rng as ReturnType<Rng['getState']>);
    run.truncateAfter(start);
  } else {
    run.resetLogs();
  }
  const targets = phases.map((p) => p.samples.map((s) => policy.completionIds(targetText(s, cfg.target))));
  const phaseAt = (step: number) => phases.findIndex((p) => step < p.until * cfg.steps);
  const bar = new Progress(x.label ?? 'sft', cfg.steps, { silent: x.quiet });
  let loss = NaN;
  const evaluate = (step: number) => {
    if (!x.evalSet?.length) return undefined;
    const ev = evaluatePolicy(policy, x.evalSet);
    run.log({ step, 'eval/acc50': ev.acc50, 'eval/acc70': ev.acc70, 'eval/miou': ev.miou, 'eval/ciou': ev.ciou, 'eval/format': ev.formatRate });
    return ev;
  };
  for (let step = start; step < cfg.steps; step++) {
    const t0 = Date.now();
    // ── batch ─────────────────────────────────────────────
    const ph = phaseAt(step);
    const pool = phases[ph].samples;
    const idx = Array.from({ length: cfg.batchSize }, () => rng.int(0, pool.length - 1));
    const batch = idx.map((i) => pool[i]);
    const enc = policy.encoderInput(batch);
    const seqs = sequenceTensors(idx.map((i) => targets[ph][i]), policy.tok.bosId, policy.tok.padId);
    // ── update ────────────────────────────────────────────
    const lr = lrAt(step, cfg.steps, cfg.lr, cfg.warmup);
    const { value, grads } = tf.variableGrads(() => sftLoss(policy.params, policy.cfg, { enc, group: 1, ...seqs }), [...policy.params.values()]);
    loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) {
      value.dispose(); Object.values(grads).forEach((g) => g.dispose());
      throw new Error(`SFT loss is ${loss} at step ${step}; the last good checkpoint is ${run.checkpointDir}`);
    }
    const gradNorm = opt.apply(grads, lr);
    value.dispose(); Object.values(grads).forEach((g) => g.dispose());
    enc.patches.dispose(); enc.queryIds.dispose(); enc.keyMask.dispose();
    seqs.inputIds.dispose(); seqs.targets.dispose(); seqs.mask.dispose();
    // ── log, evaluate, checkpoint ─────────────────────────
    run.log({ step: step + 1, 'sft/loss': loss, 'sft/lr': lr, 'sft/grad_norm': gradNorm });
    run.logTiming({ step: step + 1, ms: Date.now() - t0 });
    if (cfg.evalEvery > 0 && (step + 1) % cfg.evalEvery === 0 && step + 1 < cfg.steps) evaluate(step + 1);
    if ((step + 1) % cfg.checkpointEvery === 0 || step + 1 === cfg.steps) {
      policy.save(run.checkpointDir, { step: step + 1, extra: { rng: rng.getState() } }, opt, { sft: cfg, seed: x.seed });
    }
    bar.update(step + 1, `loss ${loss.toFixed(3)}`);
  }
  const ev = evaluate(cfg.steps);
  opt.dispose();
  return { finalLoss: loss, steps: cfg.steps, eval: ev };
}
