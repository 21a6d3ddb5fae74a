/** lib/data/images.ts: PNG bytes reproducible and lossless, decoding errors that name the file, lazy image bytes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, encodePng, imageRgb } from '../../lib/data/images';
import { rejects } from '../helpers';

const dir = mkdtempSync(join(tmpdir(), 'rsg-img-'));
const W = 5,
  H = 3;
const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256);

test('encodePng: the same bytes every time, and decoding gives the pixels back exactly', async () => {
  const a = await encodePng(rgb, W, H),
    b = await encodePng(rgb, W, H);
  assert.ok(a.equals(b));
  assert.equal([...a.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  const p = join(dir, 'x.png');
  writeFileSync(p, a);
  const d = await decodeImage(p);
  assert.equal([d.width, d.height], [W, H]);
  assert.equal([...d.rgb], [...rgb]);
});

test('decodeImage drops an alpha channel; a file that is not an image is an error naming it', async () => {
  const rgba = Uint8Array.from({ length: W * H * 4 }, (_, i) =>
    i % 4 === 3 ? 128 : rgb[Math.floor(i / 4) * 3 + (i % 4)],
  );
  const p = join(dir, 'alpha.png');
  await sharp(rgba, { raw: { width: W, height: H, channels: 4 } })
    .png()
    .toFile(p);
  assert.equal([...(await decodeImage(p)).rgb], [...rgb]);
  const bad = join(dir, 'bad.png');
  writeFileSync(bad, 'not an image');
  await rejects(() => decodeImage(bad), new RegExp(`^cannot decode image ${bad}: `));
});

test('imageRgb: bytes in memory as they are; a file decoded once, checked against its annotated size', async () => {
  const inMemory = { width: W, height: H, rgb };
  assert.is(await imageRgb(inMemory), rgb);
  const p = join(dir, 'lazy.png');
  writeFileSync(p, await encodePng(rgb, W, H));
  const lazy: { width: number; height: number; path: string; rgb?: Uint8Array } = { width: W, height: H, path: p };
  const first = await imageRgb(lazy);
  assert.equal([...first], [...rgb]);
  assert.is(lazy.rgb, first); // cached
  assert.is(await imageRgb(lazy), first);
  await rejects(
    () => imageRgb({ width: 4, height: 3, path: p }),
    new RegExp(`^image ${p} is 5×3, but its annotation says 4×3$`),
  );
  await rejects(() => imageRgb({ width: 1, height: 1 }), /^image has neither rgb bytes nor a path$/);
});

test.run();
