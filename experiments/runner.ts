/**
 * Running an experiment: resolve its config, train what it needs (worker pool), build its
 * report from the runs and export it to figures/. Used by the CLI and by the notebooks.
 */
import { SCALES, SCALE_NAMES, type Scale, type CommonConfig } from './scales';
import { applySet, validateCommon } from './config';
import { type Executor, type RunOptions, defaultJobs, runStages } from './scheduler';
import { findExperiment } from './registry';
import { exportReport } from './export';
import { selectBackend } from '../lib/backend';
import { isDone, lineage, stageName } from '../lib/pipeline';
import { ensureWritableDir, runsDir } from '../lib/files';
import type { Report } from './types';

export type RunExperimentOptions = {
  scale?: Scale;
  seeds?: number[];
  /** the dataset SFT, GRPO and evaluation read (default: the mini world) */
  dataset?: CommonConfig['dataset'];
  /** dotted-path overrides, e.g. ['grpo.steps=300'] */
  set?: string[];
  jobs?: number;
  backend?: string;
  /** who runs the stages and evaluations (default: local worker processes) */
  executor?: Executor;
  /** build the report from existing runs only (fail if a stage is missing) */
  noTrain?: boolean;
  /** write the report's tables and figures to figures/ (default true) */
  export?: boolean;
  log?: (m: string) => void;
};

/** The scale's preset, the experiment's differences, then --seeds and --set; validated as a whole. */
export function resolveConfig(name: string, o: RunExperimentOptions = {}): { scale: Scale; config: CommonConfig } {
  const exp = findExperiment(name);
  const scale = o.scale ?? 'default';
  if (!SCALE_NAMES.includes(scale)) throw new Error(`scale "${scale}" is invalid (allowed: ${SCALE_NAMES.join(', ')})`);
  let config = structuredClone(SCALES[scale]);
  if (exp.configure) config = exp.configure(config, scale);
  if (o.seeds) config = { ...config, seeds: o.seeds };
  if (o.dataset) config = { ...config, dataset: o.dataset };
  for (const s of o.set ?? []) config = applySet(config, s);
  const valid = validateCommon(config);
  if (exp.syntheticOnly && valid.dataset.name !== 'synthetic')
    throw new Error(`${name} runs on the mini world only: ${exp.syntheticOnly} (drop --dataset ${valid.dataset.name})`);
  return { scale, config: valid };
}

export async function runExperiment(
  name: string,
  o: RunExperimentOptions = {},
): Promise<{ report: Report; written: string[]; config: CommonConfig; scale: Scale }> {
  const exp = findExperiment(name);
  const { scale, config } = resolveConfig(name, o);
  ensureWritableDir(runsDir(), 'runs directory', 'RSG_RUNS_DIR');
  const log = o.log ?? ((m: string) => console.log(m));
  const pool: RunOptions = { jobs: o.jobs ?? defaultJobs(), backend: o.backend, log, executor: o.executor };
  const backend = await selectBackend(o.backend ?? process.env.RSG_BACKEND ?? 'auto');
  const specs = exp.specs(config);
  if (o.noTrain) {
    const missing = [
      ...new Set(
        specs
          .flatMap(lineage)
          .filter((s) => !isDone(s))
          .map(stageName),
      ),
    ];
    if (missing.length) {
      const cmd = `npm run experiment ${name}${scale === 'default' ? '' : ` -- --scale ${scale}`}`;
      throw new Error(
        `${name} at ${scale} scale has no finished runs for ` +
          `${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} (run \`${cmd}\` first)`,
      );
    }
  } else {
    await runStages(specs, pool);
  }
  const report = await exp.report({ scale, config, log, pool });
  const exporting = o.export !== false && (report.tables.length > 0 || report.figures.length > 0);
  const written = exporting
    ? await exportReport(exp.name, scale, report, backend.name, { dataset: config.dataset.name })
    : [];
  return { report, written, config, scale };
}
