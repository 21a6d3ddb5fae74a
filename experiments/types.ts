/** What an experiment file exports (STYLE 3): what to train, and how to report it from runs. */
import type { CommonConfig, Scale } from './scales';
import type { RunOptions } from './scheduler';
import type { StageSpec } from '../lib/pipeline';
import type { Figure } from '../lib/report/plots';
import type { Table } from '../lib/report/tables';
import type { ClaimResult } from '../lib/report/verdicts';

export type ReportContext = {
  scale: Scale;
  /** the scale preset with this experiment's and the command line's overrides applied */
  config: CommonConfig;
  log: (msg: string) => void;
  /** worker pool for evaluations */
  pool: RunOptions;
};

export type NamedFigure = { name: string; figure: Figure; description: string; specs: StageSpec[] };
export type NamedTable = { name: string; table: Table; description: string; specs: StageSpec[] };

export type Report = {
  tables: NamedTable[];
  figures: NamedFigure[];
  /** the paper's claims this experiment can judge */
  claims: ClaimResult[];
  /** paper-vs-ours text for REPORT.md (Markdown) */
  markdown: string;
  /** the testbed's controls (experiments/controls.ts), shown first in REPORT.md */
  controls?: ControlResult[];
};

export type Experiment = {
  name: string;
  /** the paper table or figure it reproduces */
  paper: string;
  description: string;
  /**
   * the paper whose claims it judges: REPORT.md adjusts p-values (Holm) within one paper's family of
   * claims; absent: RSGround-R1's
   */
  family?: string;
  /** why it runs on the mini world only (e.g. it needs scene facts or generated shifts); absent: any dataset */
  syntheticOnly?: string;
  /** this experiment's differences from a scale preset */
  configure?: (c: CommonConfig, scale: Scale) => CommonConfig;
  /** every stage whose results the report reads (upstream stages are added automatically) */
  specs: (c: CommonConfig) => StageSpec[];
  report: (ctx: ReportContext) => Promise<Report>;
};

/** A control's row: what it compares, what must hold, and whether it did. */
export type ControlResult = { control: string; expected: string; difference: string; passes: boolean };
