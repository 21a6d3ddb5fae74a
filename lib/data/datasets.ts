/**
 * Every data source by name, for the commands that take `--dataset` and `--data-root` (or
 * $RSG_DATA_ROOT): the mini world's splits, the real benchmarks through their loaders, and the
 * mini world as exported for real VLMs (lib/data/export.ts). All give the same GroundingSample.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GroundingSample } from './samples';
import { groundingSplit } from './splits';
import { loadDiorRsvg, loadRrsisD, loadVrsbenchVg } from './loaders';
import { loadExported } from './export';

export const DATASETS = ['synthetic', 'dior-rsvg', 'vrsbench-vg', 'rrsis-d', 'exported'] as const;
export type DatasetName = (typeof DATASETS)[number];
/** The datasets read from a folder (all but the generated mini world). */
export const REAL_DATASETS = [
  'dior-rsvg',
  'vrsbench-vg',
  'rrsis-d',
  'exported',
] as const satisfies readonly DatasetName[];
export type RealDataset = (typeof REAL_DATASETS)[number];

export type DatasetRef = { dataset: DatasetName; split: string; root?: string; count?: number };

/** The data root: the option, else $RSG_DATA_ROOT; an error naming both when a real dataset has neither. */
export function dataRoot(ref: DatasetRef): string {
  const root = ref.root ?? process.env.RSG_DATA_ROOT;
  if (!root) throw new Error(`dataset ${ref.dataset} needs --data-root (or $RSG_DATA_ROOT): the folder that holds it`);
  if (!existsSync(root)) throw new Error(`dataset ${ref.dataset}: data root ${root} does not exist`);
  return root;
}

/**
 * The samples of a dataset split. VRSBench-VG's layout: `VRSBench_EVAL_referring.json` with
 * `Images_val/` for val and test, `VRSBench_train.json` with `Images_train/` for train.
 */
export async function loadDataset(ref: DatasetRef): Promise<GroundingSample[]> {
  if (!(DATASETS as readonly string[]).includes(ref.dataset)) {
    throw new Error(`unknown dataset "${ref.dataset}"; choose from: ${DATASETS.join(', ')}`);
  }
  let samples: GroundingSample[];
  switch (ref.dataset) {
    case 'synthetic':
      samples = groundingSplit(ref.split, { count: ref.count });
      break;
    case 'dior-rsvg': {
      if (!['train', 'val', 'test'].includes(ref.split))
        throw new Error(`dior-rsvg: split "${ref.split}" is invalid (allowed: train, val, test)`);
      samples = await loadDiorRsvg(dataRoot(ref), ref.split as 'train' | 'val' | 'test');
      break;
    }
    case 'vrsbench-vg': {
      const root = dataRoot(ref);
      const train = ref.split === 'train';
      if (!['train', 'val', 'test'].includes(ref.split))
        throw new Error(`vrsbench-vg: split "${ref.split}" is invalid (allowed: train, val, test)`);
      samples = await loadVrsbenchVg(
        join(root, train ? 'VRSBench_train.json' : 'VRSBench_EVAL_referring.json'),
        join(root, train ? 'Images_train' : 'Images_val'),
      );
      break;
    }
    case 'rrsis-d':
      samples = await loadRrsisD(dataRoot(ref), ref.split);
      break;
    case 'exported':
      samples = loadExported(dataRoot(ref), ref.split);
      break;
  }
  return ref.count !== undefined && ref.dataset !== 'synthetic' ? samples.slice(0, ref.count) : samples;
}
