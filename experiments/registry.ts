/** Every experiment, by name. `experiments/README.md` maps each to the paper. */
import type { Experiment } from './types';
import { experiment as quickstart } from './quickstart';
import { experiment as controls } from './controls';
import { experiment as cot } from './cot';
import { experiment as rewardTable } from './reward-table';
import { experiment as table1 } from './table1';
import { experiment as table2 } from './table2-ood';
import { experiment as table3 } from './table3-components';
import { experiment as table4 } from './table4-rewards';
import { experiment as table5 } from './table5-consistency';
import { experiment as fig5 } from './fig5-reward-std';
import { experiment as fig6 } from './fig6-extended';
import { experiment as sweepAB } from './sweep-alpha-beta';
import { experiment as sweepL } from './sweep-lambda';
import { experiment as learning } from './learning';
import { experiment as learningKnobs } from './learning-knobs';
import { experiment as remotereasoner } from './remotereasoner';
import { experiment as geocot } from './geocot';
import { experiment as fewShot } from './few-shot';

/** The nine experiments that reproduce the paper's analysis, in the paper's order. */
export const PAPER_SUITE: Experiment[] = [table1, table2, table3, table4, table5, fig5, fig6, sweepAB, sweepL];
/**
 * What `npm run experiment suite` trains and REPORT.md covers: the controls first (can this scale resolve
 * an effect?), the paper's nine, the CoT diagnosis, then RemoteReasoner (paper 002), Geo-CoT (paper 001) and Geo-R1's
 * few-shot comparison (paper 003) on the same engine. `learning` and
 * `learning-knobs` diagnose an
 * earlier regime in which GRPO barely moved; they stay runnable on their own.
 */
export const SUITE: Experiment[] = [controls, ...PAPER_SUITE, cot, remotereasoner, geocot, fewShot];
export const EXPERIMENTS: Experiment[] = [
  quickstart,
  controls,
  ...PAPER_SUITE,
  cot,
  remotereasoner,
  geocot,
  fewShot,
  learning,
  learningKnobs,
  rewardTable,
];

export function findExperiment(name: string): Experiment {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new Error(`unknown experiment "${name}"; choose from: ${EXPERIMENTS.map((x) => x.name).join(', ')}`);
  return e;
}
