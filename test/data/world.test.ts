import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  generateScene,
  DEFAULT_WORLD,
  validateWorld,
  fullMask,
  maskToRle,
  rleToMask,
  OBJECT_CLASSES,
} from '../../lib/data/world';
import { Rng } from '../../lib/rng';
import { GENERATOR_VERSION, taskSplit } from '../../lib/data/splits';

test('same config and seed → identical scene; different seed → different scene', () => {
  const a = generateScene(DEFAULT_WORLD, new Rng(5));
  const b = generateScene(DEFAULT_WORLD, new Rng(5));
  const c = generateScene(DEFAULT_WORLD, new Rng(6));
  assert.equal(Buffer.from(a.rgb), Buffer.from(b.rgb));
  assert.equal(
    a.objects.map((o) => o.box),
    b.objects.map((o) => o.box),
  );
  assert.not.equal(Buffer.from(a.rgb), Buffer.from(c.rgb));
});

test('every box is exactly the bounding box of its mask, recomputed pixel by pixel', () => {
  for (let s = 0; s < 60; s++) {
    const scene = generateScene(DEFAULT_WORLD, new Rng(100 + s));
    for (const o of scene.objects) {
      const m = fullMask(o, scene.width, scene.height);
      let x1 = Infinity,
        y1 = Infinity,
        x2 = -1,
        y2 = -1,
        n = 0;
      for (let y = 0; y < scene.height; y++)
        for (let x = 0; x < scene.width; x++) {
          if (!m[y * scene.width + x]) continue;
          n++;
          x1 = Math.min(x1, x);
          y1 = Math.min(y1, y);
          x2 = Math.max(x2, x + 1);
          y2 = Math.max(y2, y + 1);
        }
      assert.equal(o.box, { x1, y1, x2, y2 });
      assert.is(o.area, n);
      assert.ok(o.box.x1 >= 0 && o.box.y1 >= 0 && o.box.x2 <= scene.width && o.box.y2 <= scene.height);
    }
  }
});

test('objects never overlap, counts stay within the configured range, classes are known', () => {
  for (let s = 0; s < 100; s++) {
    const scene = generateScene(DEFAULT_WORLD, new Rng(s));
    assert.ok(scene.objects.length >= 1 && scene.objects.length <= DEFAULT_WORLD.maxObjects);
    const m = new Uint8Array(scene.width * scene.height);
    for (const o of scene.objects) {
      assert.ok(OBJECT_CLASSES.includes(o.cls));
      const f = fullMask(o, scene.width, scene.height);
      for (let i = 0; i < f.length; i++) {
        if (f[i]) {
          assert.is(m[i], 0, 'two objects share a pixel');
          m[i] = 1;
        }
      }
    }
  }
});

test('dense look-alikes are common: most scenes hold ≥ 2 objects of one class', () => {
  let dense = 0;
  for (let s = 0; s < 200; s++) {
    const objs = generateScene(DEFAULT_WORLD, new Rng(s)).objects;
    const counts = new Map<string, number>();
    for (const o of objs) counts.set(o.cls, (counts.get(o.cls) ?? 0) + 1);
    if (Math.max(...counts.values()) >= 2) dense++;
  }
  assert.ok(dense / 200 > 0.8, `${dense}/200`);
});

test('any image size works; the object scale follows it', () => {
  const big = generateScene({ ...DEFAULT_WORLD, imageSize: 256 }, new Rng(1));
  assert.is(big.rgb.length, 256 * 256 * 3);
  const side = (sc: typeof big) => sc.objects.reduce((s, o) => s + Math.sqrt(o.area), 0) / sc.objects.length;
  let small = 0,
    large = 0;
  for (let s = 0; s < 30; s++) {
    small += side(generateScene(DEFAULT_WORLD, new Rng(s)));
    large += side(generateScene({ ...DEFAULT_WORLD, imageSize: 256 }, new Rng(s)));
  }
  assert.ok(large / small > 3 && large / small < 5, `ratio ${large / small}`);
});

test('mask RLE round-trips', () => {
  const scene = generateScene(DEFAULT_WORLD, new Rng(3));
  for (const o of scene.objects) assert.equal(rleToMask(maskToRle(o.mask), o.mask.length), o.mask);
  assert.throws(() => rleToMask([1, 2], 5), /sum to 3, expected 5/);
});

test('bad world configs are rejected with the field and the allowed values', () => {
  assert.throws(
    () => validateWorld({ ...DEFAULT_WORLD, imageSize: 8 }),
    /imageSize = 8 is invalid \(allowed: integer in \[16, 4096\]\)/,
  );
  assert.throws(
    () => validateWorld({ ...DEFAULT_WORLD, palette: 'mars' }),
    /palette = "mars" is invalid \(allowed: temperate, arid, volcanic\)/,
  );
  assert.throws(() => validateWorld({ ...DEFAULT_WORLD, maxObjects: 1 }), /maxObjects/);
  assert.throws(() => validateWorld({ ...DEFAULT_WORLD, classes: ['boat' as never] }), /classes = "boat"/);
});

test('golden: the generator draws the same samples, byte for byte, at GENERATOR_VERSION', () => {
  // sha256 over 40 samples of four splits (annotations as JSON, then the pixels); a change that
  // alters any sample must bump GENERATOR_VERSION (every stage hash includes it) and set this
  const h = createHash('sha256');
  for (const split of ['train', 'generic', 'val', 'multi-val'])
    for (const s of taskSplit(split, { count: 40 })) {
      h.update(JSON.stringify({ ...s, image: undefined }));
      h.update(s.image.rgb!);
    }
  assert.is(GENERATOR_VERSION, 2, 'the digest below is for data version 2');
  assert.is(h.digest('hex'), 'a63ca3a9a64f67c819159ac48bf8b6599cec85dc4dee17bcf5dc76bc80f7393d');
});

test.run();
