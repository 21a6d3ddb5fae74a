import { test } from 'uvu';
import * as assert from 'uvu/assert';
import sharp from 'sharp';
import { renderSample, hstack } from '../../lib/data/render';
import { groundingSample } from '../../lib/data/splits';
import { renderImage } from '../../lib/data/render';

test('renders a captioned, upscaled PNG with boxes drawn where they belong', async () => {
  const s = groundingSample('val', 0);
  const png = await renderSample(s, { scale: 4, boxes: [{ box: s.gt, color: '#ff0000' }] });
  const meta = await sharp(png).metadata();
  assert.is(meta.format, 'png');
  assert.equal([meta.width, meta.height], [256, 256 + 28]);
  // The predicted box's top-left corner pixel is red (stroke drawn over the image).
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): number[] =>
    Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
  const [r, g, b] = at(s.gt.x1 * 4, s.gt.y1 * 4 + 28);
  assert.ok(r > 200 && g < 80 && b < 80, `corner colour ${[r, g, b]}`);
  const two = await hstack([png, png], 10);
  assert.is((await sharp(two).metadata()).width, 256 * 2 + 10);
});

test('regions are drawn as translucent polygons where the mask is, and nowhere else', async () => {
  // a grey 16 × 16 image, one blue square region over pixels [4, 8) × [4, 8)
  const image = { width: 16, height: 16, rgb: new Uint8Array(16 * 16 * 3).fill(128) };
  const square: [number, number][] = [
    [4, 4],
    [8, 4],
    [8, 8],
    [4, 8],
    [4, 4],
  ];
  const png = await renderImage(image, { scale: 4, regions: [{ polygons: [[square]], color: '#0000ff' }] });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): number[] =>
    Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
  const [r, , b] = at(24, 24); // inside: blue tint
  assert.ok(b > 150 && r < 110, `inside ${at(24, 24)}`);
  assert.equal(at(50, 50), [128, 128, 128]); // outside: untouched
});

test.run();
