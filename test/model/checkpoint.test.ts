/** Checkpoints: two kept, checksums verified, damage detected and named, never trained on. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { selectBackend } from '../../lib/backend';
import { Policy } from '../../lib/model/policy';
import { checkpointProblem, decodeSafetensors, encodeSafetensors, goodCheckpoint } from '../../lib/model/checkpoint';
import { TINY, rejects } from '../helpers';

const { ops } = await selectBackend('wasm');

function twoCheckpoints(): { root: string; dir: string; p: Policy } {
  const root = mkdtempSync(join(tmpdir(), 'rsg-ckpt-'));
  const dir = join(root, 'checkpoint');
  const p = Policy.create(TINY, 1, ops);
  p.save(dir, { step: 1, extra: {} });
  for (const v of p.params.values()) v.assign(tf.tidy(() => tf.add(v, 1)));
  p.save(dir, { step: 2, extra: {} });
  return { root, dir, p };
}

test('saving keeps the previous checkpoint; both verify', () => {
  const { root, dir, p } = twoCheckpoints();
  assert.ok(existsSync(`${dir}.prev`));
  assert.is(checkpointProblem(dir), null);
  assert.is(checkpointProblem(`${dir}.prev`), null);
  assert.is(goodCheckpoint(dir), dir);
  p.dispose();
  rmSync(root, { recursive: true, force: true });
});

for (const damage of [
  'truncate the data section',
  'flip a byte',
  'garble the header',
  'drop checksums.json',
] as const) {
  test(`damage (${damage}) is detected, named, and the previous checkpoint is used`, async () => {
    const { root, dir, p } = twoCheckpoints();
    const file = join(dir, 'model.safetensors');
    const buf = readFileSync(file);
    if (damage === 'truncate the data section') truncateSync(file, buf.length - 100);
    if (damage === 'flip a byte') {
      buf[buf.length - 7] ^= 0x5a;
      writeFileSync(file, buf);
    }
    if (damage === 'garble the header') {
      buf[12] = 0x01;
      writeFileSync(file, buf);
    }
    if (damage === 'drop checksums.json') rmSync(join(dir, 'checksums.json'));
    const problem = checkpointProblem(dir);
    assert.ok(
      problem && (problem.includes('model.safetensors') || problem.includes('checksums.json')),
      problem ?? 'no problem found',
    );
    const warnings: string[] = [];
    assert.is(
      goodCheckpoint(dir, (m) => warnings.push(m)),
      `${dir}.prev`,
    );
    assert.match(warnings[0], 'falling back to');
    // Loading the damaged one as a finished policy is an error naming the file, not zeros.
    await rejects(() => Policy.load(dir, ops), /cannot load the policy at .*checkpoint/);
    // The previous one still loads and holds the step-1 weights.
    const prev = await Policy.load(`${dir}.prev`, ops);
    const q = Policy.create(TINY, 1, ops);
    const [a, b] = [prev.params.get('tok_emb')!.dataSync(), q.params.get('tok_emb')!.dataSync()];
    assert.ok(a.every((x, i) => x === b[i]));
    prev.dispose();
    q.dispose();
    p.dispose();
    rmSync(root, { recursive: true, force: true });
  });
}

test('a checksum list that leaves out a required file does not verify (its bytes would go unchecked)', () => {
  const { root, dir, p } = twoCheckpoints();
  const sums = join(dir, 'checksums.json');
  const listed = JSON.parse(readFileSync(sums, 'utf8')) as { sha256: Record<string, string> };
  delete listed.sha256['model.safetensors'];
  writeFileSync(sums, JSON.stringify(listed));
  assert.is(checkpointProblem(dir), `${sums} does not list model.safetensors`);
  assert.is(
    goodCheckpoint(dir, () => {}),
    `${dir}.prev`,
  );
  p.dispose();
  rmSync(root, { recursive: true, force: true });
});

test('with both checkpoints damaged, resuming fails clearly instead of starting from damaged weights', () => {
  const { root, dir, p } = twoCheckpoints();
  for (const d of [dir, `${dir}.prev`]) truncateSync(join(d, 'model.safetensors'), 50);
  assert.throws(
    () => goodCheckpoint(dir),
    /no usable checkpoint: .*model\.safetensors does not match its checksum.*Delete .* to train this stage/,
  );
  p.dispose();
  rmSync(root, { recursive: true, force: true });
});

test('safetensors decoding checks the header and every offset against the file, naming it', () => {
  const buf = encodeSafetensors([{ name: 'w', shape: [2, 3], data: new Float32Array(6).fill(1.5) }]);
  assert.equal([...decodeSafetensors(buf, 'x.safetensors').get('w')!.data], [1.5, 1.5, 1.5, 1.5, 1.5, 1.5]);
  assert.throws(
    () => decodeSafetensors(buf.subarray(0, buf.length - 4), 'x.safetensors'),
    /x\.safetensors: tensor w has data offsets \[0, 24\] that do not fit/,
  );
  const bad = Buffer.from(buf);
  bad[10] = 0x00;
  assert.throws(() => decodeSafetensors(bad, 'x.safetensors'), /x\.safetensors: damaged safetensors header/);
  assert.throws(() => decodeSafetensors(Buffer.alloc(4), 'x.safetensors'), /x\.safetensors: too short/);
  const huge = Buffer.from(buf);
  huge.writeBigUInt64LE(10n ** 12n, 0);
  assert.throws(() => decodeSafetensors(huge, 'x.safetensors'), /header length .* exceeds the file/);
});

test.run();
