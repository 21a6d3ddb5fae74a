/** What an experiment file exports (STYLE 3). */
import type { CommonConfig, RunOptions, Scale } from './framework';
import type { StageSpec } from '../lib/pipeline';

export type ExperimentContext = {
  scale: Scale;
  /** the scale preset with this experiment's and the command line's overrides applied */
  config: CommonConfig;
  log: (msg: string) => void;
  printTable: (header: string[], rows: string[][]) => void;
  /** train the stages (and their upstream), in worker processes per --jobs */
  train: (specs: StageSpec[]) => Promise<void>;
  /** worker-pool options for evaluations (collect) */
  pool: RunOptions;
};

export type Experiment = {
  name: string;
  /** the paper table or figure it reproduces */
  paper: string;
  description: string;
  /** this experiment's differences from a scale preset */
  configure?: (c: CommonConfig, scale: Scale) => CommonConfig;
  run: (ctx: ExperimentContext) => Promise<unknown>;
};
