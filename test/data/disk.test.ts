import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { materializeSplit, loadSplitFromDisk } from '../../lib/data/disk';
import { groundingSplit } from '../../lib/data/splits';
import { rejects } from '../helpers';

test('materialising twice gives byte-identical annotations, PNGs and content hash', async () => {
  const a = mkdtempSync(join(tmpdir(), 'rsg-a-')),
    b = mkdtempSync(join(tmpdir(), 'rsg-b-'));
  try {
    const ma = await materializeSplit('val', { count: 12, root: a });
    const mb = await materializeSplit('val', { count: 12, root: b });
    assert.is(ma.contentHash, mb.contentHash);
    assert.is(
      readFileSync(join(a, 'val', 'samples.jsonl'), 'utf8'),
      readFileSync(join(b, 'val', 'samples.jsonl'), 'utf8'),
    );
    assert.is(
      readFileSync(join(a, 'val', 'manifest.json'), 'utf8'),
      readFileSync(join(b, 'val', 'manifest.json'), 'utf8'),
    );
    for (const f of readdirSync(join(a, 'val', 'images'))) {
      assert.equal(readFileSync(join(a, 'val', 'images', f)), readFileSync(join(b, 'val', 'images', f)));
    }
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('a split read back from disk equals the generated one, pixels included', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rsg-'));
  try {
    await materializeSplit('test', { count: 6, root });
    const { manifest, samples } = await loadSplitFromDisk(join(root, 'test'), { decode: true });
    assert.is(manifest.count, 6);
    const gen = groundingSplit('test', { count: 6 });
    samples.forEach((s, i) => {
      assert.equal(s.gt, gen[i].gt);
      assert.is(s.query, gen[i].query);
      assert.equal(Buffer.from(s.image.rgb!), Buffer.from(gen[i].image.rgb!));
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a failed materialisation keeps the previous split and leaves no temp folder', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rsg-'));
  try {
    await materializeSplit('val', { count: 3, root });
    const before = readFileSync(join(root, 'val', 'samples.jsonl'), 'utf8');
    await rejects(() => materializeSplit('val', { count: 0, root }), /count must be a positive integer/);
    await rejects(() => materializeSplit('vall', { count: 2, root }), /unknown split "vall"/);
    assert.is(readFileSync(join(root, 'val', 'samples.jsonl'), 'utf8'), before);
    assert.equal(
      readdirSync(root).filter((f) => f.includes('tmp')),
      [],
    );
    await rejects(() => loadSplitFromDisk(join(root, 'nothing')), /manifest\.json not found/);
    assert.ok(existsSync(join(root, 'val', 'manifest.json')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
