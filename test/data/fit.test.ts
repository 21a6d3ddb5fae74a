/** Real images into the policy's square input, and metrics back in the original pixels. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { loadDataset } from '../../lib/data/datasets';
import { fitSample, fitToPolicy, rsgroundTarget, shortTarget } from '../../lib/data/fit';
import { evaluatePolicy } from '../../lib/evaluate';
import { targetText } from '../../lib/train-sft';
import type { Policy } from '../../lib/model/policy';
import { close, rejects } from '../helpers';

const FIX = join(import.meta.dirname, '..', 'fixtures');

test('fitToPolicy: a 40×30 DIOR-RSVG image letterboxed to 64×64, its box mapped and snapped', async () => {
  const [raw] = await loadDataset({ dataset: 'dior-rsvg', split: 'test', root: join(FIX, 'dior-rsvg') });
  const [s] = await fitToPolicy([raw], 64);
  // scale 64/40 = 1.6 → 64×48, centred: 8 black rows above and below.
  assert.equal(s.original!.letterbox, { sx: 1.6, sy: 1.6, dx: 0, dy: 8, size: 64, width: 40, height: 30 });
  assert.equal(s.image.width, 64);
  assert.is(s.image.rgb!.length, 64 * 64 * 3);
  const row = (y: number) => [...s.image.rgb!.slice(y * 64 * 3, (y + 1) * 64 * 3)];
  assert.ok(row(0).every((v) => v === 0) && row(7).every((v) => v === 0) && row(56).every((v) => v === 0));
  assert.ok(row(8).some((v) => v > 0) && row(55).some((v) => v > 0), 'the image fills rows 8–55');
  // gt [10, 12, 25, 27] → [16, 27.2, 40, 51.2] → snapped [16, 27, 40, 51]
  assert.equal(s.gt, { x1: 16, y1: 27, x2: 40, y2: 51 });
  assert.equal(s.original!.gt, raw.gt);
  assert.is(raw.image.rgb, undefined, 'the full-size bytes are not kept on the source sample');
  assert.is(targetText(s, 'short'), '<think>find the airplane .</think><answer>[16, 27, 40, 51]</answer>');
  assert.match(
    targetText(s, 'rsground'),
    /^<think>the airplane is in the center \. so the target is in the center \.<\/think>/,
  );
  assert.throws(() => targetText(s, 'geocot'), /has no "geocot" completion/);
  await rejects(() => fitSample(s, 64), /fitted already/);
});

test('shortTarget / rsgroundTarget: a class the policy has no word for is "the target"', () => {
  assert.is(
    shortTarget('storagetank', { x1: 1, y1: 2, x2: 3, y2: 4 }),
    '<think>find the target .</think><answer>[1, 2, 3, 4]</answer>',
  );
  assert.match(rsgroundTarget('vehicle', { x1: 0, y1: 0, x2: 4, y2: 4 }, 64), /the vehicle is at the top left/);
});

test('evaluatePolicy scores a letterboxed sample in the original pixels', async () => {
  const [raw] = await loadDataset({ dataset: 'dior-rsvg', split: 'test', root: join(FIX, 'dior-rsvg') });
  const [s] = await fitToPolicy([raw], 64);
  // A stand-in policy that answers the snapped box [16, 27, 40, 51] in the 64×64 input.
  const policy = {
    cfg: { maxCompletionLen: 40 },
    generate: () => ({ texts: ['<think>x</think><answer>[16, 27, 40, 51]</answer>'], ids: [[1, 2, 3]] }),
  } as unknown as Policy;
  const ev = evaluatePolicy(policy, [s]);
  // Back in 40×30 pixels: [10, 11.875, 25, 26.875] against [10, 12, 25, 27].
  const inter = 15 * (26.875 - 12),
    union = 2 * 225 - inter;
  close(ev.results[0].iou, inter / union, 1e-12);
  close(ev.ciou, inter / union, 1e-12);
  assert.is(ev.acc50, 1);
});

test('fitSample: a portrait image centred across; boxes at the edge or thinner than a pixel stay valid', async () => {
  const portrait = {
    id: 'p',
    image: { width: 30, height: 40, rgb: new Uint8Array(30 * 40 * 3).fill(200) },
    query: 'the airplane',
    gt: { x1: 29.9, y1: 10, x2: 30, y2: 20 }, // a sliver at the right edge
    category: 'airplane',
    unique: true,
  };
  const s = await fitSample(portrait, 64);
  // scale 64/40 = 1.6 → 48×64, columns 8–55
  assert.equal([s.original!.letterbox.dx, s.original!.letterbox.dy], [8, 0]);
  assert.is(s.image.rgb!.length, 64 * 64 * 3);
  const px = (x: number, y: number) => s.image.rgb![(y * 64 + x) * 3];
  assert.equal([px(7, 30), px(8, 30), px(55, 30), px(56, 30)], [0, 200, 200, 0]);
  // x: 8 + 1.6·29.9 = 55.84 → 56, 8 + 48 = 56: one pixel wide, [56, 57]; y: [16, 32]
  assert.equal(s.gt, { x1: 56, y1: 16, x2: 57, y2: 32 });
  // at the image's last column: x1 stays inside the square
  const wide = { width: 40, height: 30, rgb: new Uint8Array(40 * 30 * 3).fill(200) };
  const edge = await fitSample({ ...portrait, image: wide, gt: { x1: 39.9, y1: 10, x2: 40, y2: 20 } }, 64);
  assert.equal([edge.gt.x1, edge.gt.x2], [63, 64]);
  assert.match(rsgroundTarget('vehicle', { x1: 56, y1: 0, x2: 60, y2: 4 }, 64), /the vehicle is at the top right/);
});

test.run();
