/** lib/data/datasets.ts: every dataset by name, with errors that name the option, the folder or the allowed values. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { DATASETS, REAL_DATASETS, dataRoot, loadDataset } from '../../lib/data/datasets';
import { loadDiorRsvg, loadVrsbenchVg } from '../../lib/data/loaders';
import { groundingSplit } from '../../lib/data/splits';
import { rejects } from '../helpers';

const FIX = join(import.meta.dirname, '..', 'fixtures');

test('an unknown dataset lists the known ones; the real ones are all but the mini world', async () => {
  await rejects(
    () => loadDataset({ dataset: 'dota' as never, split: 'test' }),
    /^unknown dataset "dota"; choose from: synthetic, dior-rsvg, vrsbench-vg, rrsis-d, exported$/,
  );
  assert.equal(
    [...REAL_DATASETS],
    DATASETS.filter((d) => d !== 'synthetic'),
  );
});

test('a real dataset needs a data root that exists: the option, else $RSG_DATA_ROOT', async () => {
  const saved = process.env.RSG_DATA_ROOT;
  delete process.env.RSG_DATA_ROOT;
  try {
    assert.throws(
      () => dataRoot({ dataset: 'dior-rsvg', split: 'test' }),
      /^dataset dior-rsvg needs --data-root \(or \$RSG_DATA_ROOT\): the folder that holds it$/,
    );
    assert.throws(
      () => dataRoot({ dataset: 'rrsis-d', split: 'test', root: '/nonexistent/rsg' }),
      /^dataset rrsis-d: data root \/nonexistent\/rsg does not exist$/,
    );
    process.env.RSG_DATA_ROOT = join(FIX, 'dior-rsvg');
    assert.is(dataRoot({ dataset: 'dior-rsvg', split: 'test' }), join(FIX, 'dior-rsvg'));
    assert.is(dataRoot({ dataset: 'dior-rsvg', split: 'test', root: FIX }), FIX); // the option wins
  } finally {
    if (saved === undefined) delete process.env.RSG_DATA_ROOT;
    else process.env.RSG_DATA_ROOT = saved;
  }
});

test('splits are checked by name before any file is read', async () => {
  await rejects(
    () => loadDataset({ dataset: 'dior-rsvg', split: 'dev', root: join(FIX, 'dior-rsvg') }),
    /dior-rsvg: split "dev" is invalid \(allowed: train, val, test\)/,
  );
  await rejects(
    () => loadDataset({ dataset: 'vrsbench-vg', split: 'eval', root: join(FIX, 'vrsbench') }),
    /vrsbench-vg: split "eval" is invalid \(allowed: train, val, test\)/,
  );
});

test('each name reads through its loader (same samples), and `count` keeps the first ones', async () => {
  const dior = await loadDataset({ dataset: 'dior-rsvg', split: 'train', root: join(FIX, 'dior-rsvg') });
  assert.equal(dior, await loadDiorRsvg(join(FIX, 'dior-rsvg'), 'train'));
  assert.ok(dior.length >= 2);
  const first = await loadDataset({ dataset: 'dior-rsvg', split: 'train', root: join(FIX, 'dior-rsvg'), count: 1 });
  assert.equal(first, dior.slice(0, 1));
  // VRSBench: val and test both read the evaluation file
  const vrs = join(FIX, 'vrsbench');
  const want = await loadVrsbenchVg(join(vrs, 'VRSBench_EVAL_referring.json'), join(vrs, 'Images_val'));
  assert.equal(await loadDataset({ dataset: 'vrsbench-vg', split: 'test', root: vrs }), want);
  // the mini world: the generated split
  const syn = await loadDataset({ dataset: 'synthetic', split: 'val', count: 3 });
  assert.equal(
    syn.map((s) => s.id),
    groundingSplit('val', { count: 3 }).map((s) => s.id),
  );
});

test.run();
