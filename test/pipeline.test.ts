/**
 * The content-addressed pipeline: a spec resolves (every field validated) and hashes stably; the
 * hash covers the training-code and data versions; stale runs are listed; and a golden digest of
 * a tiny run's metrics.jsonl per backend fails this file when the training arithmetic changes
 * without TRAINING_CODE_VERSION being bumped.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { hostname, tmpdir } from 'node:os';
import { selectBackend } from '../lib/backend';
import { loadNative, nativeBuildName } from '../lib/native/addon';
import {
  TRAINING_CODE_VERSION,
  type BaseSpec,
  type GrpoSpec,
  type SftSpec,
  DEFAULT_GRPO,
  DEFAULT_SFT,
  listStale,
  deleteStale,
  loadStagePolicy,
  resolveSpec,
  runLineage,
  stageDir,
  stageHash,
  stageName,
} from '../lib/pipeline';
import { sha256 } from '../lib/files';
import { processStart } from '../lib/lock';
import { GENERATOR_VERSION } from '../lib/data/splits';
import { TINY } from './helpers';

const base: BaseSpec = {
  kind: 'base',
  arch: { ...TINY, stemHidden: 0, positionReadout: true },
  seed: 3,
  sft: { ...DEFAULT_SFT, steps: 3, batchSize: 4, checkpointEvery: 2, evalEvery: 2 },
  curriculum: [
    { until: 0.5, data: { split: 'generic-easy', count: 8 } },
    { until: 1, data: { split: 'train', count: 8 } },
  ],
  eval: { split: 'val', count: 3 },
};
const grpo: GrpoSpec = {
  kind: 'grpo',
  from: base,
  seed: 4,
  grpo: { ...DEFAULT_GRPO, steps: 2, queriesPerStep: 2, group: 3, maxLen: 12, evalEvery: 1, checkpointEvery: 1 },
  data: { split: 'train', count: 10 },
  eval: { split: 'val', count: 3 },
};

/**
 * sha256 of base + GRPO metrics.jsonl of the tiny lineage above, per backend, at
 * TRAINING_CODE_VERSION. blas results depend on the OpenBLAS build and CPU kernel (sgemm rounds
 * differently per kernel), so its digest is keyed by the OpenBLAS configuration string.
 */
const GOLDEN = {
  version: 8,
  // the digests depend on the generated data too (its version is in every stage hash)
  data: 2,
  // the GRPO stage's hash (its directory name) at these versions
  grpoHash: '626a102d160a',
  wasm: '095c19d3ee7a8314ee68eb7522536a071a485c7a4642b3f0707629e00d52e7fe',
  // by OpenBLAS configuration (its kernels) and the addon's build (lib/native/addon.ts), one thread
  blas: {
    'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64 · AVX2+FMA':
      '9fcdb255bae4516d3c5f10558729ff2a84f9dbdb50ddba397eb97b378c207e0a',
    'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64 · baseline':
      '88e4d30a2566b16c17201642b2c88470ffdcec30e2983ac630b8d7a2bcb84ab4',
    // Zen (AMD without AVX-512): OpenBLAS 0.3.21 builds its sgemm from the Haswell kernel, same bits
    'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64 · AVX2+FMA':
      '9fcdb255bae4516d3c5f10558729ff2a84f9dbdb50ddba397eb97b378c207e0a',
    'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64 · baseline':
      '88e4d30a2566b16c17201642b2c88470ffdcec30e2983ac630b8d7a2bcb84ab4',
    'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64 · AVX2+FMA':
      '8b8f8fc178cae27c91337c2dbe8246d52365f996e6b2f0a1c3b1de0ad400ece7',
  } as Record<string, string>,
};

test('a spec resolves field by field: a bad value names its stage, field and range', () => {
  assert.throws(() => resolveSpec({ ...grpo, grpo: { ...grpo.grpo, lr: -1 } }), /grpo.lr = -1: must be > 0/);
  assert.throws(
    () => resolveSpec({ ...grpo, from: { ...base, arch: { ...base.arch, patchSize: 7 } } }),
    /base.arch.patchSize = 7: must divide imageSize/,
  );
  assert.throws(
    () => resolveSpec({ ...grpo, data: { split: 'trian', count: 10 } }),
    /unknown split "trian"; choose from: generic, /,
  );
  assert.throws(
    () => resolveSpec({ ...grpo, eval: { split: 'val', count: 0 } }),
    /grpo.eval.count = 0: must be an integer ≥ 1/,
  );
  assert.throws(() => resolveSpec({ ...grpo, grpo: { ...grpo.grpo, extra: 1 } as never }), /grpo.extra: unknown key/);
  assert.throws(
    () => resolveSpec({ ...grpo, grpo: { ...grpo.grpo, iterations: undefined } as never }),
    /grpo.iterations = missing/,
  );
});

test('the hash is stable, key-order independent, and changes with anything upstream', () => {
  const h = stageHash(grpo);
  assert.match(h, /^[0-9a-f]{12}$/);
  const reordered = JSON.parse(
    JSON.stringify({
      seed: grpo.seed,
      eval: grpo.eval,
      data: grpo.data,
      grpo: grpo.grpo,
      from: grpo.from,
      kind: grpo.kind,
    }),
  );
  assert.is(stageHash(reordered), h);
  assert.is.not(stageHash({ ...grpo, from: { ...base, seed: 4 } }), h);
  assert.is.not(stageHash({ ...grpo, grpo: { ...grpo.grpo, reward: { ...grpo.grpo.reward, beta: 0.2 } } }), h);
  assert.is(stageName(grpo), `grpo-${h}`);
  // what the hash covers, the code and data versions among it: the tiny lineage's GRPO stage at
  // GOLDEN.version / GOLDEN.data (a bump of either must change it, and re-record it with the digests)
  if (GOLDEN.version === TRAINING_CODE_VERSION && GOLDEN.data === GENERATOR_VERSION)
    assert.is(h, GOLDEN.grpoHash, `the stage hash changed without a version bump: ${h}`);
  else assert.is.not(h, GOLDEN.grpoHash, 'a version bump must change every stage hash');
});

async function goldenDigest(backend: string): Promise<string> {
  await selectBackend(backend);
  const dir = mkdtempSync(join(tmpdir(), 'rsg-golden-'));
  const prev = process.env.RSG_RUNS_DIR;
  process.env.RSG_RUNS_DIR = dir;
  try {
    await runLineage(grpo, { quiet: true, log: () => {} });
    return sha256(
      readFileSync(join(stageDir(base), 'metrics.jsonl')),
      readFileSync(join(stageDir(grpo), 'metrics.jsonl')),
    );
  } finally {
    process.env.RSG_RUNS_DIR = prev;
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkGolden(backend: string, digest: string, want: string | undefined, where: string): void {
  if (GOLDEN.data !== GENERATOR_VERSION) {
    assert.unreachable(
      `GENERATOR_VERSION is ${GENERATOR_VERSION} but the golden digests are for data version ${GOLDEN.data}: set ` +
        `GOLDEN.data and the ${backend} digest (${where}) to ${digest}`,
    );
  }
  if (GOLDEN.version !== TRAINING_CODE_VERSION) {
    assert.unreachable(
      `TRAINING_CODE_VERSION is ${TRAINING_CODE_VERSION} but the golden digests are for ${GOLDEN.version}: set ` +
        `GOLDEN.version and the ${backend} digest (${where}) to ${digest}`,
    );
  }
  assert.ok(want !== undefined, `no golden ${backend} digest for ${where}: this run's is ${digest}`);
  assert.is(
    digest,
    want,
    `the tiny run's metrics changed on ${backend} (${where}) without a TRAINING_CODE_VERSION bump: bump it (old runs ` +
      `become stale) and set the digest to ${digest}`,
  );
}

test('golden: the training arithmetic matches TRAINING_CODE_VERSION on wasm', async () => {
  checkGolden('wasm', await goldenDigest('wasm'), GOLDEN.wasm, 'wasm');
});

const blasConfig = loadNative() ? `${loadNative()!.config().config.trim()} · ${nativeBuildName()}` : undefined;
(blasConfig && GOLDEN.blas[blasConfig] ? test : test.skip)(
  `golden: the same on blas (${blasConfig ?? 'not built'})`,
  async () => {
    process.env.RSG_BLAS_THREADS = '1';
    checkGolden('blas', await goldenDigest('blas'), GOLDEN.blas[blasConfig!], blasConfig!);
  },
);

(blasConfig ? test : test.skip)('on blas with two threads, the same run twice writes the same metrics', async () => {
  process.env.RSG_BLAS_THREADS = '2';
  try {
    const a = await goldenDigest('blas'),
      b = await goldenDigest('blas');
    assert.is(b, a);
  } finally {
    process.env.RSG_BLAS_THREADS = '1';
    await selectBackend('blas');
  }
});

/** A lock record of the process `pid` on this host. */
const owner = (pid: number) => ({ host: hostname(), pid, start: processStart(pid), since: new Date().toISOString() });
/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

test('--list-stale, --delete-stale: stages of another code version, of a changed config, or unreadable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsg-stale-'));
  const prev = process.env.RSG_RUNS_DIR;
  process.env.RSG_RUNS_DIR = dir;
  try {
    const store = join(dir, '_store');
    const put = (name: string, rec: unknown) => {
      mkdirSync(join(store, name), { recursive: true });
      writeFileSync(join(store, name, 'config.json'), JSON.stringify(rec));
    };
    const rec = { spec: grpo, hash: stageHash(grpo), code: TRAINING_CODE_VERSION, data: GENERATOR_VERSION };
    put(stageName(grpo), rec); // current: not stale
    put('grpo-aaaaaaaaaaaa', { ...rec, code: TRAINING_CODE_VERSION - 1 });
    put('grpo-bbbbbbbbbbbb', { ...rec, spec: { ...grpo, grpo: { ...grpo.grpo, lr: 2e-4 } } });
    put('sft-cccccccccccc', { kind: 'sft', hash: 'cccccccccccc' });
    mkdirSync(join(dir, 'table1'), { recursive: true });
    symlinkSync('../_store/grpo-aaaaaaaaaaaa', join(dir, 'table1', 'grpo-s1'));
    const stale = listStale();
    assert.equal(
      stale.map((s) => s.dir.split('/').pop()),
      ['grpo-aaaaaaaaaaaa', 'grpo-bbbbbbbbbbbb', 'sft-cccccccccccc'],
    );
    assert.match(stale[0].reason, `training code version ${TRAINING_CODE_VERSION - 1} (now ${TRAINING_CODE_VERSION})`);
    assert.equal(stale[0].linkedFrom, ['table1/grpo-s1']);
    assert.match(stale[1].reason, 'its config now hashes to');
    assert.match(stale[2].reason, 'made before stage records named their code version');

    // --delete-stale: a stage another live process has locked stays; the rest go with their links
    writeFileSync(join(store, 'grpo-aaaaaaaaaaaa', 'weights.bin'), Buffer.alloc(4096));
    writeFileSync(join(store, 'grpo-bbbbbbbbbbbb', 'lock'), JSON.stringify(owner(process.pid)));
    const first = deleteStale();
    assert.equal(
      first.deleted.map((s) => [s.dir.split('/').pop(), s.bytes > 4096]),
      [
        ['grpo-aaaaaaaaaaaa', true],
        ['sft-cccccccccccc', false],
      ],
    );
    assert.equal(
      first.kept.map((s) => s.dir.split('/').pop()),
      ['grpo-bbbbbbbbbbbb'],
    );
    assert.match(first.kept[0].why, `pid ${process.pid}`);
    assert.equal(readdirSync(join(dir, 'table1')), [], 'the link to it went too (not left dangling)');
    // the lock's owner gone (a dead pid), and a half-deleted stage from an interrupted call
    writeFileSync(join(store, 'grpo-bbbbbbbbbbbb', 'lock'), JSON.stringify(owner(deadPid())));
    mkdirSync(join(store, '.deleting-sft-dddddddddddd'));
    const second = deleteStale();
    assert.equal(
      second.deleted.map((s) => s.dir.split('/').pop()),
      ['.deleting-sft-dddddddddddd', 'grpo-bbbbbbbbbbbb'],
    );
    assert.equal(readdirSync(store), [stageName(grpo)], 'only the current stage is left');
    assert.equal(deleteStale(), { deleted: [], kept: [] });
  } finally {
    process.env.RSG_RUNS_DIR = prev;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an SFT stage with a longer budget starts from the base and trains a longer-budget policy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsg-budget-'));
  const prev = process.env.RSG_RUNS_DIR;
  process.env.RSG_RUNS_DIR = dir;
  try {
    const { ops } = await selectBackend('wasm');
    const sft: SftSpec = {
      kind: 'sft',
      from: base,
      seed: 5,
      sft: { ...DEFAULT_SFT, steps: 2, batchSize: 4, checkpointEvery: 2, evalEvery: 2 },
      data: { split: 'train', count: 8 },
      eval: { split: 'val', count: 3 },
    };
    const longer: SftSpec = { ...sft, maxCompletionLen: TINY.maxCompletionLen + 8 };
    assert.is.not(stageHash(longer), stageHash(sft));
    assert.is(stageHash({ ...sft, maxCompletionLen: undefined }), stageHash(sft), 'absent: the hash of before');
    await runLineage(longer, { quiet: true, log: () => {} });
    const b = await loadStagePolicy(base, ops),
      l = await loadStagePolicy(longer, ops);
    assert.is(b.cfg.maxCompletionLen, TINY.maxCompletionLen);
    assert.is(l.cfg.maxCompletionLen, TINY.maxCompletionLen + 8);
    assert.equal(l.params.get('dec_pos')!.shape, [TINY.maxCompletionLen + 9, TINY.dModel]);
    b.dispose();
    l.dispose();
  } finally {
    process.env.RSG_RUNS_DIR = prev;
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
