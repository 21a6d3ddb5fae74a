/**
 * `--plan`: what an experiment (or the suite) would train, and how long that takes here — before
 * committing a machine to it. Stages are grouped by what makes their cost (kind, training target
 * or parent, data, steps), each group priced from the finished stages of this runs directory
 * (experiments/cost.ts: the group's median wall time, else its steps times the seconds per step of
 * the closest stages timed here — the same kind, parent and completion budget on the same split,
 * then on any split, then the same kind, and for SFT then the base's pretraining — else unknown).
 * The projected wall time replays the local executor's schedule — tasks in graph order, each
 * started when its parent is done and a job is free — with those durations. Evaluations are not
 * included (the reports decide them).
 */
import { type StageSpec, isDone } from '../lib/pipeline';
import { fmtDuration } from '../lib/progress';
import { type Timed, costClass, stagePricer, timedStages } from './cost';
import { trainTasks, taskParent, taskId } from './scheduler';

export { costClass, rateKeys, timedStages } from './cost';

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
  const price = stagePricer(timed);
  const rows = new Map<string, PlanRow>();
  const secondsOf = new Map<string, number | null>();
  for (const t of tasks) {
    if (t.kind !== 'train') continue;
    const cls = costClass(t.spec);
    let row = rows.get(cls);
    if (!row) {
      const { seconds, basis } = price(t.spec);
      row = { cls, stages: 0, done: 0, seconds, basis };
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
