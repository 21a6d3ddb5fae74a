/**
 * Running an experiment: resolve its config, train what it needs (worker pool), build its
 * report from the runs and export it to figures/. Used by the CLI and by the notebooks.
 */
import { SCALES, SCALE_NAMES, type Scale, type CommonConfig, defaultJobs, runStages, type RunOptions } from './framework';
import { findExperiment, PAPER_SUITE } from './registry';
import { exportReport } from './export';
import { selectBackend } from '../lib/backend';
import { isDone, lineage, stageName } from '../lib/pipeline';
import type { Report } from './types';

export type RunExperimentOptions = {
  scale?: Scale;
  seeds?: number[];
  /** dotted-path overrides, e.g. ['grpo.steps=300'] */
  set?: string[];
  jobs?: number;
  backend?: string;
  /** build the report from existing runs only (fail if a stage is missing) */
  noTrain?: boolean;
  log?: (m: string) => void;
};

/** Set a dotted path in a config; the path must exist (so typos fail loudly). */
export function applySet(cfg: CommonConfig, assignment: string): CommonConfig {
  const eq = assignment.indexOf('=');
  if (eq < 1) throw new Error(`--set expects key=value, got "${assignment}"`);
  const path = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try { value = JSON.parse(raw); } catch { value = raw; }
  const out = structuredClone(cfg) as Record<string, unknown>;
  let node = out;
  for (let i = 0; i < path.length - 1; i++) {
    const next = node[path[i]];
    if (next === undefined || next === null || typeof next !== 'object') {
      throw new Error(`--set ${assignment}: "${path.slice(0, i + 1).join('.')}" is not a config section (sections here: ${Object.keys(node).join(', ')})`);
    }
    node = next as Record<string, unknown>;
  }
  const leaf = path[path.length - 1];
  const open = ['grpo', 'arch'].includes(path[0]); // partial sections: new keys are allowed and validated when training starts
  if (!(leaf in node) && !open) throw new Error(`--set ${assignment}: unknown key "${leaf}" (allowed here: ${Object.keys(node).join(', ')})`);
  if (leaf in node && node[leaf] !== null && typeof node[leaf] !== typeof value) {
    throw new Error(`--set ${assignment}: ${path.join('.')} is a ${typeof node[leaf]}, got ${typeof value} ${JSON.stringify(value)}`);
  }
  node[leaf] = value;
  return out as unknown as CommonConfig;
}

export function resolveConfig(name: string, o: RunExperimentOptions = {}): { scale: Scale; config: CommonConfig } {
  const exp = findExperiment(name);
  const scale = o.scale ?? 'default';
  if (!SCALE_NAMES.includes(scale)) throw new Error(`scale "${scale}" is invalid (allowed: ${SCALE_NAMES.join(', ')})`);
  let config = exp.configure ? exp.configure(structuredClone(SCALES[scale]), scale) : structuredClone(SCALES[scale]);
  if (o.seeds) config = { ...config, seeds: o.seeds };
  for (const s of o.set ?? []) config = applySet(config, s);
  return { scale, config };
}

export async function runExperiment(name: string, o: RunExperimentOptions = {}): Promise<{ report: Report; written: string[]; config: CommonConfig; scale: Scale }> {
  const exp = findExperiment(name);
  const { scale, config } = resolveConfig(name, o);
  const log = o.log ?? ((m: string) => console.log(m));
  const pool: RunOptions = { jobs: o.jobs ?? defaultJobs(), backend: o.backend, log };
  const backend = await selectBackend(o.backend ?? process.env.RSG_BACKEND ?? 'auto');
  const specs = exp.specs(config);
  if (o.noTrain) {
    const missing = specs.flatMap(lineage).filter((s) => !isDone(s)).map(stageName);
    if (missing.length) throw new Error(`${name} at ${scale} scale has no finished runs for ${[...new Set(missing)].slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} (run \`npm run experiment ${name}${scale === 'default' ? '' : ` -- --scale ${scale}`}\` first)`);
  } else {
    await runStages(specs, pool);
  }
  const report = await exp.report({ scale, config, log, pool });
  const written = report.tables.length || report.figures.length ? await exportReport(exp.name, scale, report, backend.name) : [];
  return { report, written, config, scale };
}

export { PAPER_SUITE };
