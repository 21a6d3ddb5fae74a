/**
 * What a stage costs on this machine, from the stages this runs directory has finished: its cost
 * class (kind, training target or parent, data, steps), whose median wall time prices it when that
 * class has finished stages here, else its steps times the median seconds per optimizer step of the
 * closest stages timed here (`rateKeys`). `--plan` (experiments/plan.ts) prices a whole suite with
 * it; the scheduler weighs its progress and ETA by it.
 */
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { type StageSpec, type StageSummary, baseOf, storeDir } from '../lib/pipeline';
import { readJson } from '../lib/files';

/**
 * The group a stage's cost is measured by. A stage selected on val (lib/training.ts) is its own group:
 * with a patience it stops when val stops improving, priced by what such stages took, not by its
 * budget; without one it trains its budget with evaluations between the steps.
 */
export function costClass(s: StageSpec): string {
  if (s.kind === 'base') return `base, ${s.sft.steps} steps`;
  const from = s.from.kind === 'base' ? 'base' : `${s.from.kind} (${s.from.sft.target})`;
  const steps = !s.select
    ? `${stageSteps(s)} steps`
    : s.select.patience !== undefined
      ? `≤ ${stageSteps(s)} steps (stops early on val)`
      : `${stageSteps(s)} steps (selected on val)`;
  if (s.kind === 'sft') return `SFT (${s.sft.target}) on ${s.data.split} ${s.data.count}, ${steps}`;
  return `GRPO from ${from} on ${s.data.split}, ${steps}, ≤ ${s.grpo.maxLen} tokens`;
}

/** A stage's completion budget in tokens: what its rollouts may reach (GRPO) or its targets fill (SFT, base). */
export function budgetOf(s: StageSpec): number {
  if (s.kind === 'base') return s.arch.maxCompletionLen;
  if (s.kind === 'grpo') return s.grpo.maxLen;
  return s.maxCompletionLen ?? baseOf(s).arch.maxCompletionLen;
}

/**
 * What a stage's seconds per step are borrowed from when its own group has not run here, closest
 * first: the same kind, parent (or SFT target) and completion budget on the same split (a few-shot
 * subset of train costs per step what train does), then on any split, then the same kind, then
 * (SFT) the base. The budget matters most: a 128-token Geo-CoT rollout costs ~2.5× a 64-token answer,
 * so the kind and the base, keys that name no budget, are scaled by it (`stagePricer`).
 */
export function rateKeys(s: StageSpec): string[] {
  if (s.kind === 'base') return ['base'];
  const from = s.from.kind === 'base' ? 'base' : `${s.from.kind} (${s.from.sft.target})`;
  const family =
    s.kind === 'sft'
      ? `SFT (${s.sft.target}) from ${from}, budget ${s.maxCompletionLen ?? baseOf(s).arch.maxCompletionLen}`
      : `GRPO from ${from}, ${s.grpo.queriesPerStep}×${s.grpo.group} rollouts ≤ ${s.grpo.maxLen} tokens`;
  // An SFT stage with no SFT timed here steps like the base's pretraining (the same trainer, batch
  // and policy; only the target texts' lengths differ): an estimate, named as such in the basis.
  return [`${family} on ${s.data.split}`, family, s.kind, ...(s.kind === 'sft' ? ['base'] : [])];
}

export type Timed = {
  cls: string;
  kind: string;
  steps: number;
  seconds: number;
  keys?: string[];
  /** completion budget (tokens), for borrowing across budgets */
  budget?: number;
};

/** Finished stages of this runs directory with their recorded wall time. */
export function timedStages(): Timed[] {
  const store = storeDir();
  if (!existsSync(store)) return [];
  const out: Timed[] = [];
  for (const name of readdirSync(store)) {
    try {
      const rec = readJson<{ spec: StageSpec }>(join(store, name, 'config.json'));
      const sum = readJson<StageSummary>(join(store, name, 'summary.json'));
      if (rec.spec && Number.isFinite(sum.seconds) && sum.steps > 0)
        out.push({
          cls: costClass(rec.spec),
          kind: rec.spec.kind,
          keys: rateKeys(rec.spec),
          budget: budgetOf(rec.spec),
          steps: sum.steps,
          seconds: sum.seconds,
        });
    } catch {
      /* unfinished or unreadable: not a measurement */
    }
  }
  return out;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A stage's price here: its seconds, and what they were found from. */
export type Price = { seconds: number | null; basis: string };

/** Optimizer steps of a stage. */
export function stageSteps(s: StageSpec): number {
  return s.kind === 'grpo' ? s.grpo.steps : s.sft.steps;
}

/**
 * Prices stages from `timed` (by default this runs directory's finished stages): the median wall
 * time of the stage's cost class when it has finished stages here, else its steps times the median
 * seconds per step of the closest key of `rateKeys` timed here, else unknown (`seconds` null).
 * Borrowed by kind alone (no budget in the key), a measurement's seconds per step are scaled by
 * the ratio of the budgets, a step's cost growing about linearly with its tokens: on the Zen 3 (medians
 * of the five-seed suite's stages) a GRPO step from CoT-SFT took 0.58 s at 128 tokens and 0.34 s at 64,
 * an SFT step 0.35 and 0.20 s.
 */
export function stagePricer(timed: Timed[] = timedStages()): (s: StageSpec) => Price {
  const byClass = new Map<string, Timed[]>();
  for (const t of timed) byClass.set(t.cls, [...(byClass.get(t.cls) ?? []), t]);
  // seconds per step by the closest key timed here (a measurement without keys counts for its kind only)
  const perStep = (s: StageSpec): { rate: number; key: string } | null => {
    const keys = rateKeys(s);
    const budget = budgetOf(s);
    for (const key of keys) {
      const named = key !== s.kind && key !== 'base'; // the kind and the base name no budget
      const ratio = (t: Timed) => (!named && t.budget ? budget / t.budget : 1);
      const matching = timed.filter((t) => (t.keys ?? [t.kind]).includes(key));
      if (!matching.length) continue;
      const rate = median(matching.map((t) => (t.seconds / t.steps) * ratio(t)));
      return { rate, key: matching.some((t) => ratio(t) !== 1) ? `${key}, scaled to ${budget} tokens` : key };
    }
    return null;
  };
  const memo = new Map<string, Price>();
  return (s) => {
    const cls = costClass(s);
    let price = memo.get(cls);
    if (!price) {
      const same = byClass.get(cls) ?? [];
      const r = same.length ? null : perStep(s);
      price = same.length
        ? { seconds: median(same.map((x) => x.seconds)), basis: `median of ${same.length}` }
        : r !== null
          ? { seconds: r.rate * stageSteps(s), basis: `s/step of ${r.key}` }
          : { seconds: null, basis: 'not timed here' };
      memo.set(cls, price);
    }
    return price;
  };
}
