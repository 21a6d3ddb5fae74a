/**
 * `--plan`: what an experiment (or the suite) would train, and how long that takes here — before
 * committing a machine to it. Stages are grouped by what makes their cost (kind, training target
 * or parent, data, steps); each group's time per stage is the median wall time of the finished
 * stages of that group in this runs directory (their summary.json), else its steps times the
 * median seconds per optimizer step of the closest stages timed here (`rateKeys`: the same kind,
 * parent and completion budget on the same split, then on any split, then the same kind, and for
 * SFT then the base's pretraining), else unknown. The projected wall time replays the
 * local executor's schedule — tasks in graph order, each started when its parent is done and a
 * job is free — with those durations. Evaluations are not included (the reports decide them).
 */
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { type StageSpec, type StageSummary, baseOf, isDone, storeDir } from '../lib/pipeline';
import { readJson } from '../lib/files';
import { fmtDuration } from '../lib/progress';
import { trainTasks, taskParent, taskId, taskSteps } from './scheduler';

/** The group a stage's cost is measured by. */
export function costClass(s: StageSpec): string {
  if (s.kind === 'base') return `base, ${s.sft.steps} steps`;
  const from = s.from.kind === 'base' ? 'base' : `${s.from.kind} (${s.from.sft.target})`;
  if (s.kind === 'sft') return `SFT (${s.sft.target}) on ${s.data.split} ${s.data.count}, ${s.sft.steps} steps`;
  return `GRPO from ${from} on ${s.data.split}, ${s.grpo.steps} steps, ≤ ${s.grpo.maxLen} tokens`;
}

/**
 * What a stage's seconds per step are borrowed from when its own group has not run here, closest
 * first: the same kind, parent (or SFT target) and completion budget on the same split (a few-shot
 * subset of train costs per step what train does), then on any split, then the same kind, then
 * (SFT) the base. The budget matters most: a 128-token Geo-CoT rollout costs ~2.5× a 64-token answer.
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

type Timed = { cls: string; kind: string; steps: number; seconds: number; keys?: string[] };

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
          steps: sum.steps,
          seconds: sum.seconds,
        });
    } catch {
      /* unfinished or unreadable: not a measurement */
    }
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export type PlanRow = {
  cls: string;
  stages: number;
  done: number;
  /** seconds per stage, and how it was found */
  seconds: number | null;
  basis: string;
};

export type Plan = { rows: PlanRow[]; pendingSeconds: number; wallSeconds: number; untimed: number };

/** Group the stages `specs` need, time each group from `timed`, and replay the schedule on `jobs`. */
export function planStages(specs: StageSpec[], jobs: number, timed: Timed[] = timedStages()): Plan {
  const tasks = trainTasks(specs);
  const byClass = new Map<string, Timed[]>();
  for (const t of timed) byClass.set(t.cls, [...(byClass.get(t.cls) ?? []), t]);
  // seconds per step by the closest key timed here (a measurement without keys counts for its kind only)
  const perStep = (keys: string[]): { rate: number; key: string } | null => {
    for (const key of keys) {
      const xs = timed.filter((t) => (t.keys ?? [t.kind]).includes(key)).map((t) => t.seconds / t.steps);
      if (xs.length) return { rate: median(xs), key };
    }
    return null;
  };
  const rows = new Map<string, PlanRow>();
  const secondsOf = new Map<string, number | null>();
  for (const t of tasks) {
    if (t.kind !== 'train') continue;
    const cls = costClass(t.spec);
    let row = rows.get(cls);
    if (!row) {
      const same = byClass.get(cls) ?? [];
      const r = perStep(rateKeys(t.spec));
      row = same.length
        ? { cls, stages: 0, done: 0, seconds: median(same.map((x) => x.seconds)), basis: `median of ${same.length}` }
        : r !== null
          ? { cls, stages: 0, done: 0, seconds: r.rate * taskSteps(t), basis: `s/step of ${r.key}` }
          : { cls, stages: 0, done: 0, seconds: null, basis: 'not timed here' };
      rows.set(cls, row);
    }
    row.stages++;
    const done = isDone(t.spec);
    if (done) row.done++;
    secondsOf.set(taskId(t), done ? 0 : row.seconds);
  }
  // Replay the local executor: whenever a job is free, the first pending task (graph order) whose parent
  // has finished starts.
  let pendingSeconds = 0,
    untimed = 0;
  const pending = tasks
    .filter((t) => secondsOf.get(taskId(t)) !== 0)
    .map((t) => {
      const d = secondsOf.get(taskId(t)) ?? null;
      if (d === null) untimed++;
      pendingSeconds += d ?? 0;
      const p = taskParent(t);
      return { id: taskId(t), parent: p ? taskId(p) : null, seconds: d ?? 0 };
    });
  const finished = new Set(tasks.map(taskId).filter((id) => !pending.some((x) => x.id === id)));
  const running: { id: string; end: number }[] = [];
  let now = 0;
  while (pending.length || running.length) {
    for (let i = 0; i < pending.length && running.length < Math.max(1, jobs); i++) {
      const x = pending[i];
      if (x.parent && !finished.has(x.parent)) continue;
      pending.splice(i--, 1);
      running.push({ id: x.id, end: now + x.seconds });
    }
    if (!running.length) break; // a parent outside the graph: the executor refuses this graph too
    running.sort((a, b) => a.end - b.end);
    const next = running.shift()!;
    now = next.end;
    finished.add(next.id);
  }
  const wallSeconds = now;
  return { rows: [...rows.values()], pendingSeconds, wallSeconds, untimed };
}

/** The plan as lines for the terminal. */
export function planLines(p: Plan, jobs: number): string[] {
  const header = ['stages of', 'count', 'done', 'per stage', 'from'];
  const body = p.rows.map((r) => [
    r.cls,
    String(r.stages),
    String(r.done),
    r.seconds === null ? '?' : fmtDuration(r.seconds),
    r.basis,
  ]);
  const w = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((x, c) => x.padEnd(w[c])).join('  ');
  const stages = p.rows.reduce((a, r) => a + r.stages, 0),
    done = p.rows.reduce((a, r) => a + r.done, 0);
  return [
    line(header),
    w.map((n) => '─'.repeat(n)).join('  '),
    ...body.map(line),
    '',
    `${stages} stages, ${done} done; the rest: ${fmtDuration(p.pendingSeconds)} of one core, about ` +
      `${fmtDuration(p.wallSeconds)} on ${jobs} job(s)` +
      (p.untimed ? ` — plus ${p.untimed} stage(s) of a kind not timed here` : '') +
      '; evaluations not included',
  ];
}
