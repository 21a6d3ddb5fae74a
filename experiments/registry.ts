/** Every experiment, by name. `experiments/README.md` maps each to the paper. */
import type { Experiment } from './types';
import { experiment as rewardTable } from './reward-table';
import { experiment as quickstart } from './quickstart';

export const EXPERIMENTS: Experiment[] = [quickstart, rewardTable];

export function findExperiment(name: string): Experiment {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new Error(`unknown experiment "${name}"; choose from: ${EXPERIMENTS.map((x) => x.name).join(', ')}`);
  return e;
}
