import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskSplit } from '../../lib/data/splits';
import { cachedSplit, decodeSplit, encodeSplit, splitCacheFile } from '../../lib/data/split-cache';

/** Run `fn` with RSG_RUNS_DIR in a fresh folder (and RSG_SPLIT_CACHE as given), then restore both. */
function inRunsDir<T>(fn: (dir: string) => T, cache?: string): T {
  const dir = mkdtempSync(join(tmpdir(), 'rsg-split-cache-'));
  const prev = { runs: process.env.RSG_RUNS_DIR, cache: process.env.RSG_SPLIT_CACHE };
  process.env.RSG_RUNS_DIR = dir;
  if (cache === undefined) delete process.env.RSG_SPLIT_CACHE;
  else process.env.RSG_SPLIT_CACHE = cache;
  try {
    return fn(dir);
  } finally {
    for (const [k, v] of [
      ['RSG_RUNS_DIR', prev.runs],
      ['RSG_SPLIT_CACHE', prev.cache],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a cached split reads back equal to the generated one: grounding, the task mix, regions', () => {
  inRunsDir(() => {
    for (const [split, count] of [
      ['val', 40],
      ['multi-val', 40],
      ['region-val', 12],
    ] as const) {
      const generated = taskSplit(split, { count });
      const first = cachedSplit(split, count);
      assert.ok(existsSync(splitCacheFile(split, count)), `${split}: file written`);
      const second = cachedSplit(split, count);
      assert.equal(first, generated, `${split}: first call`);
      assert.equal(second, generated, `${split}: read back`);
      assert.instance(second[0].image.rgb, Uint8Array);
    }
  });
});

test('the second call reads the file (a changed pixel there shows), a damaged file is generated again', () => {
  inRunsDir(() => {
    const want = taskSplit('test', { count: 10 });
    cachedSplit('test', 10);
    const file = splitCacheFile('test', 10);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff; // the last pixel byte of the last sample
    writeFileSync(file, bytes);
    const read = cachedSplit('test', 10);
    assert.is(
      read[9].image.rgb![read[9].image.rgb!.length - 1],
      want[9].image.rgb![want[9].image.rgb!.length - 1] ^ 0xff,
    );
    assert.equal(read.slice(0, 9), want.slice(0, 9));

    const heard: string[] = [];
    truncateSync(file, bytes.length - 100);
    assert.equal(
      cachedSplit('test', 10, (m) => heard.push(m)),
      want,
    );
    assert.match(heard.join('\n'), /pixel bytes, expected/);
    assert.equal(decodeSplit(readFileSync(file), 'test', 10), want, 'the file was written whole again');

    writeFileSync(file, 'not a cache');
    assert.equal(cachedSplit('test', 10), want);
  });
});

test('a file of another split, count or format is refused with the reason', () => {
  const bytes = encodeSplit('val', taskSplit('val', { count: 3 }));
  assert.is(decodeSplit(bytes, 'test', 3), 'split is "val"');
  assert.is(decodeSplit(bytes, 'val', 4), 'count is 3');
  assert.is(decodeSplit(bytes.subarray(0, 2), 'val', 3), 'shorter than its header');
  assert.is(decodeSplit(bytes.subarray(0, 40), 'val', 3), 'header cut short');
});

test('RSG_SPLIT_CACHE=off generates without writing; a wrong value names the allowed ones', () => {
  inRunsDir(() => {
    assert.equal(cachedSplit('val', 5), taskSplit('val', { count: 5 }));
    assert.not.ok(existsSync(splitCacheFile('val', 5)));
  }, 'off');
  inRunsDir(() => {
    assert.throws(() => cachedSplit('val', 5), /RSG_SPLIT_CACHE = "sometimes": must be on or off/);
  }, 'sometimes');
});

test.run();
