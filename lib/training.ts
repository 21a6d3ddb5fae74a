/**
 * What the SFT and GRPO loops share: resuming from a run's checkpoint, evaluating on the held-out
 * split while training, and when to checkpoint. Each loop stays one readable function
 * (lib/train-sft.ts, lib/train-grpo.ts); these are its common phases.
 */
import { evaluatePolicy, type Evaluation } from './evaluate';
import { goodCheckpoint, hasCheckpoint } from './model/checkpoint';
import type { AdamW } from './model/optimizer';
import type { Policy } from './model/policy';
import type { TaskSample } from './data/samples';
import type { Metrics, RunDir } from './runs';

/**
 * Resume `policy` and `opt` from the run's checkpoint (dropping metrics logged after it), or
 * start fresh (clearing metrics of an earlier, checkpoint-less attempt). Returns the step to
 * start from and the trainer state saved with the checkpoint (`{}` when starting fresh).
 */
export function resumeOrStart(
  run: RunDir,
  policy: Policy,
  opt: AdamW,
  totalSteps: number,
): { start: number; extra: Record<string, unknown> } {
  // The newest checkpoint that verifies (falling back to the previous one with a warning; an
  // error when none does): damaged weights are never trained on.
  const dir = hasCheckpoint(run.checkpointDir) ? goodCheckpoint(run.checkpointDir) : null;
  if (!dir) {
    run.resetLogs();
    return { start: 0, extra: {} };
  }
  const st = policy.restore(dir, opt);
  run.truncateAfter(st.step, st.step === totalSteps);
  return { start: st.step, extra: st.extra };
}

/** Per-task evaluation metrics (`eval/<task>/acc`, …) of an evaluation that has them (Geo-CoT tasks, mixes). */
function taskEvalMetrics(ev: Evaluation): Metrics {
  const out: Metrics = {};
  for (const [task, m] of Object.entries(ev.tasks ?? {})) {
    out[`eval/${task}/acc`] = m.acc;
    out[`eval/${task}/score`] = m.meanScore;
    out[`eval/${task}/format`] = m.formatRate;
    if (m.map50 !== undefined) out[`eval/${task}/map50`] = m.map50;
  }
  return out;
}

/** Greedy evaluation on `evalSet` at `step`, logged as `eval/*`; undefined without an eval set. */
export function evaluateAndLog(
  run: RunDir,
  policy: Policy,
  evalSet: readonly TaskSample[] | undefined,
  step: number,
  maxLen?: number,
): Evaluation | undefined {
  if (!evalSet?.length) return undefined;
  const ev = evaluatePolicy(policy, evalSet, { maxLen });
  run.log({
    step,
    'eval/acc50': ev.acc50,
    'eval/acc70': ev.acc70,
    'eval/miou': ev.miou,
    'eval/ciou': ev.ciou,
    'eval/format': ev.formatRate,
    ...(ev.region ? { 'eval/count_acc': ev.region.countAcc, 'eval/giou': ev.region.gIoU } : {}),
    ...taskEvalMetrics(ev),
  });
  return ev;
}

/**
 * Let the event loop run between steps: a step is synchronous compute, and without this a worker
 * would never see its parent go away (IPC disconnect) nor refresh its lock's heartbeat.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Evaluate after `done` steps (not at the end: the loop's final evaluation covers that). */
export function isEvalStep(done: number, every: number, total: number): boolean {
  return every > 0 && done % every === 0 && done < total;
}

/** Checkpoint after `done` steps: every `every` steps and at the end. */
export function isCheckpointStep(done: number, every: number, total: number): boolean {
  return done % every === 0 || done === total;
}
