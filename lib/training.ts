/**
 * What the SFT and GRPO loops share: resuming from a run's checkpoint, evaluating on the held-out
 * split while training, and when to checkpoint. Each loop stays one readable function
 * (lib/train-sft.ts, lib/train-grpo.ts); these are its common phases.
 */
import { join } from 'node:path';
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

/**
 * Model selection on the eval split: evaluate greedy Acc@0.5 at steps spaced evenly in log —
 * `first`, then each `growth` times the last (rounded; `selectionSteps`) and at the end — keep the
 * weights of the best evaluation (the earliest on a tie) and, with a `patience`, stop after that
 * many evaluations in a row without a better one (without one, train the whole budget). Log spacing
 * looks as closely at a stage's first steps, where a few labels are learned or forgotten, as at its
 * last, with a handful of evaluations. The stage's model is then the kept weights, not the last
 * step's. The starting model (step 0) is not a candidate: what is selected has trained.
 */
export type Selection = {
  /** the first step evaluated */
  first: number;
  /** the ratio of one evaluated step to the one before (> 1) */
  growth: number;
  /** evaluations in a row without a better one before stopping; absent: never stop early */
  patience?: number;
};

/** What selection has seen so far; saved with every checkpoint, so that a resumed stage selects the same. */
export type SelectionState = { best: number; bestStep: number; since: number; stopped: boolean };

/** `sel` checked at the boundary: `first` and `patience` (when given) whole numbers ≥ 1, `growth` > 1. */
export function checkSelection(sel: Selection, where: string): Selection {
  const whole = (k: 'first' | 'patience', v: number | undefined) => {
    if (!Number.isInteger(v) || v! < 1) throw new Error(`${where}.${k} = ${v}: must be an integer ≥ 1`);
  };
  whole('first', sel.first);
  if (sel.patience !== undefined) whole('patience', sel.patience);
  if (!(sel.growth > 1)) throw new Error(`${where}.growth = ${sel.growth}: must be a number > 1`);
  return sel;
}

/** The steps selection evaluates in `total` steps: round(first·growthⁱ) below `total`, each once, then `total`. */
export function selectionSteps(sel: Selection, total: number): number[] {
  const out: number[] = [];
  for (let x = sel.first; Math.round(x) < total; x *= sel.growth)
    if (Math.round(x) !== out[out.length - 1]) out.push(Math.round(x));
  return [...out, total];
}

export class Selector {
  readonly dir: string;
  state: SelectionState;
  private readonly steps: Set<number>;
  constructor(
    readonly sel: Selection | undefined,
    total: number,
    runDir: string,
    saved?: SelectionState,
  ) {
    this.steps = new Set(sel ? selectionSteps(sel, total) : []);
    this.dir = join(runDir, 'best');
    this.state = saved ? { ...saved } : { best: -1, bestStep: 0, since: 0, stopped: false };
  }

  /** Whether to evaluate for selection after `done` steps. */
  due(done: number): boolean {
    return this.steps.has(done);
  }

  /** Record the evaluation after `step` steps; true when training should stop. */
  observe(step: number, ev: Evaluation | undefined, policy: Policy): boolean {
    if (!this.sel || !ev) return false;
    const st = this.state;
    if (ev.acc50 > st.best) {
      policy.save(this.dir, { step, extra: {} });
      Object.assign(st, { best: ev.acc50, bestStep: step, since: 0 });
    } else st.since++;
    st.stopped = st.since >= (this.sel.patience ?? Infinity);
    return st.stopped;
  }

  /**
   * At the end of the loop: the kept weights back into `policy`, written as the run's checkpoint by
   * `save` (so the stage's model is the selected one). Nothing without selection.
   */
  finish(policy: Policy, save: () => void): void {
    if (!this.sel || this.state.bestStep === 0) return;
    this.state.stopped = true;
    policy.restore(this.dir);
    save();
  }

  /** What the stage's summary records, or undefined without selection. */
  summary(trained: number): { step: number; acc50: number; trained: number } | undefined {
    return this.sel && this.state.bestStep > 0
      ? { step: this.state.bestStep, acc50: this.state.best, trained }
      : undefined;
  }
}

/**
 * The final evaluation of a loop that selected: the kept weights (already in `policy`) on the eval
 * set, logged as `select/step` and `select/acc50` at the last step trained (its `eval/*` row is the
 * one logged when the step was evaluated). Without anything selected, the usual final evaluation.
 */
export function selectedEval(
  run: RunDir,
  policy: Policy,
  evalSet: readonly TaskSample[] | undefined,
  selector: Selector,
  trained: number,
  maxLen?: number,
): Evaluation | undefined {
  if (selector.state.bestStep === 0 || !evalSet?.length) return evaluateAndLog(run, policy, evalSet, trained, maxLen);
  const ev = evaluatePolicy(policy, evalSet, { maxLen });
  run.log({ step: trained, 'select/step': selector.state.bestStep, 'select/acc50': ev.acc50 });
  return ev;
}
