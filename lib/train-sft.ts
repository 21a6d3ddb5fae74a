/**
 * Supervised fine-tuning (paper eq. 1) — one loop for the three supervised stages:
 * - base: the generic corpus with the short, reasoning-free completion (a stand-in for an
 *   instruction-tuned VLM that grounds objects but does not reason about positions);
 * - SFT baseline: answer-only (short completion) on the RSVG train split;
 * - CoT-SFT: the RSVG train split with CoT traces (`rsground` or `geocot`);
 * - region SFT (RemoteReasoner's comparison): region queries answered with every target box.
 */
import * as tf from '@tensorflow/tfjs';
import { sftLoss, sequenceTensors } from './loss';
import { AdamW, DEFAULT_OPTIM, lrAt } from './model/optimizer';
import { type CotStyle, COT_STYLES } from './data/cot';
import type { Evaluation } from './evaluate';
import { disposeEncoderInput } from './model/network';
import type { Policy } from './model/policy';
import type { RunDir } from './runs';
import { isRegionSample, type TaskSample } from './data/samples';
import { formatBox } from './boxes';
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
  steps: 1000,
  batchSize: 32,
  lr: 2e-3,
  warmup: 50,
  weightDecay: 0.01,
  clipNorm: 1,
  target: 'short',
  evalEvery: 0,
  checkpointEvery: 200,
});

export const SFT_SCHEMA = z.strictObject({
  steps: num.int(1),
  batchSize: num.int(1),
  lr: num.positive(),
  warmup: num.int(0),
  weightDecay: num.nonNegative(),
  clipNorm: num.nonNegative(),
  target: oneOf(COT_STYLES),
  evalEvery: num.int(0),
  checkpointEvery: num.int(1),
}) satisfies z.ZodType<SftConfig>;

export function validateSft(c: SftConfig, where = 'sft'): SftConfig {
  return validate(SFT_SCHEMA, c, where);
}

export type SftResult = {
  finalLoss: number;
  /** steps trained (fewer than configured when selection stopped early) */
  steps: number;
  eval?: Evaluation;
  /** with selection: the kept step and its eval Acc@0.5 */
  selected?: { step: number; acc50: number; trained: number };
};

/** One phase of a curriculum: its samples are used until `until` (a fraction of the steps). */
export type CurriculumPhase = { until: number; samples: readonly TaskSample[] };

function isCurriculum(t: readonly TaskSample[] | readonly CurriculumPhase[]): t is readonly CurriculumPhase[] {
  return t.length > 0 && 'until' in t[0];
}

/**
 * The supervised completion of a sample in a given style. A region or detection query's `short`
 * completion restates the query and lists every target box, left to right (SPEC §3.7's answer);
 * counting and VQA restate the question and answer it.
 */
export function targetText(s: TaskSample, style: CotStyle): string {
  if (style === 'short' && 'boxes' in s && !('count' in s)) {
    // regions ("all ships") and detection ("find every ship") list every target box
    const boxes = [...s.boxes].sort((a, b) => a.x1 - b.x1 || a.y1 - b.y1).map(formatBox);
    const think = `${isRegionSample(s) ? 'find ' : ''}${s.query} .`;
    return `<think>${think}</think><answer>[${boxes.join(', ')}]</answer>`;
  }
  if (style === 'short' && 'task' in s && s.task === 'counting')
    return (
      `<think>counting ${s.query.replace(/^how many (.*) are there \?$/, '$1')} ` +
      `.</think><answer>${s.count}</answer>`
    );
  if (style === 'short' && 'task' in s && s.task === 'vqa')
    return `<think>${s.query.replace(/ \?$/, '')} .</think><answer>${s.answer}</answer>`;
  const cot = s.meta?.cot as Record<string, string> | undefined;
  const t = cot?.[style];
  if (!t)
    throw new Error(
      `sample ${s.id} has no "${style}" completion (real samples carry short and rsground traces only: geocot needs ` +
        `the mini world's scene facts)`,
    );
  return t;
}

/**
 * Train `policy` in place. Resumes from `run`'s checkpoint when there is one. Logs
 * `sft/loss`, `sft/lr`, `sft/grad_norm` every step and `eval/*` when evaluating.
 */
export async function trainSft(x: {
  policy: Policy;
  run: RunDir;
  /** the training samples, or curriculum phases: phase k covers steps up to until·steps */
  train: readonly TaskSample[] | readonly CurriculumPhase[];
  evalSet?: readonly TaskSample[];
  config: SftConfig;
  seed: number;
  label?: string;
  quiet?: boolean;
  /** keep the best evaluation's weights and stop early (lib/training.ts `Selection`) */
  select?: Selection;
}): Promise<SftResult> {
  const { policy, run } = x;
  const cfg = validateSft(x.config);
  const phases: readonly CurriculumPhase[] = isCurriculum(x.train) ? x.train : [{ until: 1, samples: x.train }];
  if (phases.some((p) => p.samples.length === 0))
    throw new Error('trainSft: a training set (or curriculum phase) is empty');
  if (phases[phases.length - 1].until < 1)
    throw new Error(`trainSft: the last curriculum phase must run until 1, not ${phases[phases.length - 1].until}`);
  const opt = new AdamW(
    policy.trainable,
    { ...DEFAULT_OPTIM, lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm },
    policy.ops,
  );
  const rng = new Rng(deriveSeed(x.seed, 'sft', 'batches'));
  const { start, extra } = resumeOrStart(run, policy, opt, cfg.steps);
  if (start > 0) rng.setState(extra.rng as ReturnType<Rng['getState']>);
  const selector = new Selector(x.select, cfg.steps, run.dir, extra.select as SelectionState | undefined);
  const state = (step: number) => ({
    step,
    extra: { rng: rng.getState(), ...(x.select ? { select: selector.state } : {}) },
  });
  const targets = phases.map((p) => p.samples.map((s) => policy.completionIds(targetText(s, cfg.target))));
  const phaseAt = (step: number) => phases.findIndex((p) => step < p.until * cfg.steps);
  const bar = new Progress(x.label ?? 'sft', cfg.steps, { silent: x.quiet });
  let loss = NaN;
  let trained = start;
  for (let step = start; step < cfg.steps && !selector.state.stopped; step++) {
    await yieldToEventLoop();
    const t0 = Date.now();
    // ── batch ─────────────────────────────────────────────
    const ph = phaseAt(step);
    const pool = phases[ph].samples;
    const idx = Array.from({ length: cfg.batchSize }, () => rng.int(0, pool.length - 1));
    const enc = policy.encoderInput(idx.map((i) => pool[i]));
    const seqs = sequenceTensors(
      idx.map((i) => targets[ph][i]),
      policy.tok.bosId,
      policy.tok.padId,
    );
    // ── update ────────────────────────────────────────────
    const lr = lrAt(step, cfg.steps, cfg.lr, cfg.warmup);
    const { value, grads } = tf.variableGrads(
      () => sftLoss(policy, { enc, group: 1, ...seqs }),
      [...policy.trainable.values()],
    );
    loss = value.dataSync()[0];
    const dispose = () => {
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
      disposeEncoderInput(enc);
      seqs.inputIds.dispose();
      seqs.targets.dispose();
      seqs.mask.dispose();
    };
    if (!Number.isFinite(loss)) {
      dispose();
      opt.dispose();
      throw new Error(`SFT loss is ${loss} at step ${step}; the last good checkpoint is ${run.checkpointDir}`);
    }
    const gradNorm = opt.apply(grads, lr);
    dispose();
    // ── log, evaluate, checkpoint ─────────────────────────
    run.log({ step: step + 1, 'sft/loss': loss, 'sft/lr': lr, 'sft/grad_norm': gradNorm });
    run.logTiming({ step: step + 1, ms: Date.now() - t0 });
    trained = step + 1;
    const ev =
      isEvalStep(trained, cfg.evalEvery, cfg.steps) || selector.due(trained)
        ? evaluateAndLog(run, policy, x.evalSet, trained)
        : undefined;
    selector.observe(trained, ev, policy);
    if (isCheckpointStep(trained, cfg.checkpointEvery, cfg.steps))
      policy.save(run.checkpointDir, state(trained), opt, { sft: cfg, seed: x.seed });
    bar.update(trained, `loss ${loss.toFixed(3)}`);
  }
  selector.finish(policy, () => policy.save(run.checkpointDir, state(trained), opt, { sft: cfg, seed: x.seed }));
  const ev = x.select
    ? selectedEval(run, policy, x.evalSet, selector, trained)
    : evaluateAndLog(run, policy, x.evalSet, cfg.steps);
  opt.dispose();
  return { finalLoss: loss, steps: trained, eval: ev, selected: selector.summary(trained) };
}
