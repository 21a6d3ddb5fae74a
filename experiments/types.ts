/** What an experiment file exports (STYLE 3). */
export type ExperimentContext = {
  log: (msg: string) => void;
  printTable: (header: string[], rows: string[][]) => void;
};

export type Experiment = {
  name: string;
  /** the paper table or figure it reproduces */
  paper: string;
  description: string;
  run: (ctx: ExperimentContext) => Promise<unknown>;
};
