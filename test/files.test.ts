/** lib/files.ts: atomic writes that leave nothing behind, JSON(L) errors that name the file and line, stable hashes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureWritableDir,
  hashConfig,
  readJson,
  readJsonl,
  stableStringify,
  swapDirectory,
  writeFileAtomic,
  writeJsonAtomic,
} from '../lib/files';

const tmp = () => mkdtempSync(join(tmpdir(), 'rsg-files-'));

test('writeFileAtomic creates parent folders, replaces the file whole and leaves no temp file', () => {
  const d = tmp();
  const p = join(d, 'a', 'b', 'x.json');
  writeJsonAtomic(p, { k: 1 });
  assert.is(readFileSync(p, 'utf8'), '{\n  "k": 1\n}\n');
  writeFileAtomic(p, 'second');
  assert.is(readFileSync(p, 'utf8'), 'second');
  assert.equal(readdirSync(join(d, 'a', 'b')), ['x.json']);
});

test('writeFileAtomic: a failed rename throws, removes its temp file and leaves the target as it was', () => {
  const d = tmp();
  const target = join(d, 'taken');
  mkdirSync(target);
  writeFileSync(join(target, 'inside'), 'kept');
  assert.throws(() => writeFileAtomic(target, 'data'));
  assert.equal(readdirSync(d), ['taken']);
  assert.is(readFileSync(join(target, 'inside'), 'utf8'), 'kept');
});

test('readJson names the file of invalid JSON', () => {
  const p = join(tmp(), 'bad.json');
  writeFileSync(p, '{"a": 1');
  assert.throws(
    () => readJson(p),
    (e: Error) => e.message.startsWith(`${p}: invalid JSON (`),
  );
});

test('readJsonl: blank lines skipped, a bad line names file:line, a torn last line dropped with a warning', () => {
  const d = tmp();
  const ok = join(d, 'ok.jsonl');
  writeFileSync(ok, '{"a":1}\n\n{"a":2}\n');
  assert.equal(readJsonl(ok), [{ a: 1 }, { a: 2 }]);

  const mid = join(d, 'mid.jsonl');
  writeFileSync(mid, '{"a":1}\n{"a":\n{"a":3}\n');
  assert.throws(
    () => readJsonl(mid),
    (e: Error) => e.message.startsWith(`${mid}:2: invalid JSON line`),
  );

  const torn = join(d, 'torn.jsonl');
  writeFileSync(torn, '{"a":1}\n{"a":2}\n{"a"');
  const warnings: string[] = [];
  assert.equal(readJsonl(torn, { warn: (m) => warnings.push(m) }), [{ a: 1 }, { a: 2 }]);
  assert.equal(warnings, [`${torn}:3: dropping a torn last line (4 bytes, no newline: an interrupted write)`]);
  assert.throws(
    () => readJsonl(torn, { strict: true }),
    (e: Error) => e.message.startsWith(`${torn}:3: invalid`),
  );

  // a bad last line that did end with a newline was written whole: an error, not a torn write
  const whole = join(d, 'whole.jsonl');
  writeFileSync(whole, '{"a":1}\n{"a"\n');
  assert.throws(
    () => readJsonl(whole),
    (e: Error) => e.message.startsWith(`${whole}:2: invalid JSON line`),
  );
});

test('stableStringify / hashConfig: key order does not matter, undefined keys drop, arrays keep order', () => {
  assert.is(stableStringify({ b: 1, a: [2, { d: null, c: 'x' }] }), '{"a":[2,{"c":"x","d":null}],"b":1}');
  assert.is(stableStringify({ a: 1, z: undefined }), '{"a":1}');
  assert.is(hashConfig({ x: 1, y: 2 }), hashConfig({ y: 2, x: 1 }));
  assert.is.not(hashConfig([1, 2]), hashConfig([2, 1]));
  // against node's sha256 of the hand-written canonical text
  const want = createHash('sha256').update('{"lr":0.001,"steps":400}').digest('hex');
  assert.is(hashConfig({ steps: 400, lr: 0.001 }), want.slice(0, 12));
  assert.is(hashConfig({ steps: 400, lr: 0.001 }, 64), want);
});

test('swapDirectory replaces a folder; when the new one cannot move in, the old one is put back', () => {
  const d = tmp();
  const dest = join(d, 'dest'),
    src = join(d, 'src');
  mkdirSync(dest);
  writeFileSync(join(dest, 'old'), '1');
  mkdirSync(src);
  writeFileSync(join(src, 'new'), '2');
  swapDirectory(src, dest);
  assert.equal(readdirSync(dest), ['new']);
  assert.equal(readdirSync(d), ['dest']);
  assert.throws(() => swapDirectory(join(d, 'missing'), dest));
  assert.equal(readdirSync(dest), ['new']);
  assert.equal(readdirSync(d), ['dest']);
});

test('ensureWritableDir creates the folder, or fails naming it and the variable that moves it', () => {
  const d = tmp();
  ensureWritableDir(join(d, 'runs', 'deep'), 'runs directory', 'RSG_RUNS_DIR');
  assert.ok(existsSync(join(d, 'runs', 'deep')));
  assert.equal(readdirSync(join(d, 'runs', 'deep')), []); // the probe file is gone
  writeFileSync(join(d, 'file'), '');
  const bad = join(d, 'file', 'sub');
  assert.throws(
    () => ensureWritableDir(bad, 'runs directory', 'RSG_RUNS_DIR'),
    (e: Error) =>
      e.message.startsWith(`the runs directory ${bad} is not writable (`) &&
      e.message.endsWith('$RSG_RUNS_DIR to a writable folder'),
  );
});

test.run();
