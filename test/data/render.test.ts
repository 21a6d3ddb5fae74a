import { test } from 'uvu';
import * as assert from 'uvu/assert';
import sharp from 'sharp';
import { renderSample, hstack } from '../../lib/data/render';
import { groundingSample } from '../../lib/data/splits';

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

test.run();
