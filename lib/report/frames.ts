/**
 * Runs as data frames (danfojs): every logged metrics record of every run an experiment links,
 * one row each, with the run's identity beside it — so a notebook can group, filter and plot
 * training curves without re-reading files by hand.
 */
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJson, readJsonl, runsDir } from '../files';
import type { StageRecord } from '../pipeline';

type DanfoModule = typeof import('danfojs-node');
let danfo: DanfoModule | null = null;

/** danfojs, imported once (it prints tfjs banners on import, silenced here). */
export async function loadDanfo(): Promise<DanfoModule> {
  if (!danfo) {
    const warn = console.warn,
      log = console.log;
    console.warn = () => {};
    console.log = () => {};
    try {
      danfo = await import('danfojs-node');
    } finally {
      console.warn = warn;
      console.log = log;
    }
  }
  return danfo;
}

export type RunRow = Record<string, string | number | null>;

/**
 * One row per metrics record: `experiment`, `run` (the link name, e.g. `grpo-s1`), `stage`
 * (kind-hash), `kind`, `seed`, `step`, then every metric (null where a record lacks it).
 */
export function runRows(opts: { experiment?: string; root?: string } = {}): RunRow[] {
  const root = opts.root ?? runsDir();
  if (!existsSync(root)) return [];
  const rows: RunRow[] = [];
  const exps = opts.experiment
    ? [opts.experiment]
    : readdirSync(root)
        .filter((d) => d !== '_store')
        .sort();
  for (const exp of exps) {
    const d = join(root, exp);
    if (!existsSync(d)) continue;
    for (const run of readdirSync(d).sort()) {
      let dir: string;
      try {
        dir = resolve(d, readlinkSync(join(d, run)));
      } catch {
        continue;
      } // not a link
      const cfg = existsSync(join(dir, 'config.json')) ? readJson<StageRecord>(join(dir, 'config.json')) : null;
      const file = join(dir, 'metrics.jsonl');
      if (!existsSync(file)) continue;
      const stage = dir.split('/').pop()!;
      for (const m of readJsonl<Record<string, number | string | null>>(file)) {
        rows.push({
          experiment: exp,
          run,
          stage,
          kind: cfg?.spec.kind ?? stage.split('-')[0],
          seed: cfg?.spec.seed ?? null,
          ...m,
        });
      }
    }
  }
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k] ?? null])));
}

/** `runRows` as a danfojs DataFrame (empty when there are no runs). */
export async function runsFrame(opts: { experiment?: string; root?: string } = {}) {
  const d = await loadDanfo();
  const rows = runRows(opts);
  return rows.length ? new d.DataFrame(rows) : new d.DataFrame([]);
}
