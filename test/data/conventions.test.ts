import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  fromImagePixels,
  fromLetterbox,
  letterbox,
  smartResize,
  toImagePixels,
  toLetterbox,
  BOX_CONVENTIONS,
} from '../../lib/data/conventions';
import { close } from '../helpers';

test('smartResize: sides to multiples of 28, Python rounding, pixel bounds (hand-computed)', () => {
  // 800×800: 800/28 = 28.57 → 29·28 = 812; 812² = 659,344 within [3136, 1,003,520].
  assert.equal(smartResize(800, 800), { height: 812, width: 812 });
  // 1080×1920: 1092×1932 = 2,109,744 > max → β = √(1080·1920/1,003,520) = 1.43746;
  // floor(1080/β/28)·28 = 26·28 = 728, floor(1920/β/28)·28 = 47·28 = 1316.
  assert.equal(smartResize(1080, 1920), { height: 728, width: 1316 });
  // round(1.5) = 2 and round(2.5) = 2 in Python (half to even): 42 → 56, 70 → 56.
  assert.equal(smartResize(42, 70, { minPixels: 1 }), { height: 56, width: 56 });
  // Below min_pixels: 28×28 = 784 < 3136 → β = √(3136/(20·20)) = 2.8, ceil(20·2.8/28)·28 = 56.
  assert.equal(smartResize(20, 20), { height: 56, width: 56 });
  assert.throws(() => smartResize(10, 3000), /aspect ratio/);
  // Checked against transformers' smart_resize, transcribed to Python: exactly at max_pixels stays
  // (896·1120 = 1,003,520); the min branch rounds up (20×50 → 56×112, where rounding would give 28);
  // a side never goes below one factor (10 → 28 with min_pixels 0).
  assert.equal(smartResize(900, 1115), { height: 896, width: 1120 });
  assert.equal(smartResize(20, 50), { height: 56, width: 112 });
  assert.equal(smartResize(10, 1000, { minPixels: 0 }), { height: 28, width: 1008 });
});

test('toImagePixels: each convention maps to the original pixels; fromImagePixels inverts it', () => {
  const image = { width: 800, height: 600 };
  const b = { x1: 100, y1: 200, x2: 500, y2: 400 };
  assert.equal(toImagePixels(b, 'pixels', image), b);
  assert.equal(toImagePixels(b, 'normalized-1000', image), { x1: 80, y1: 120, x2: 400, y2: 240 });
  assert.equal(toImagePixels({ x1: 0.5, y1: 0.25, x2: 1, y2: 1 }, 'normalized-1', image), {
    x1: 400,
    y1: 150,
    x2: 800,
    y2: 600,
  });
  // 800×600 → smart_resize 812×588 (600/28 = 21.43 → 21·28 = 588): x·800/812, y·600/588.
  const q = toImagePixels({ x1: 812, y1: 588, x2: 812, y2: 588 }, 'qwen25vl-resized', image);
  close(q.x1, 800, 1e-9);
  close(q.y2, 600, 1e-9);
  const m = toImagePixels({ x1: 10, y1: 10, x2: 20, y2: 20 }, 'qwen25vl-resized', image, {
    modelSize: { width: 400, height: 300 },
  });
  assert.equal(m, { x1: 20, y1: 20, x2: 40, y2: 40 });
  for (const c of BOX_CONVENTIONS) {
    const back = toImagePixels(fromImagePixels(b, c, image), c, image);
    for (const k of ['x1', 'y1', 'x2', 'y2'] as const) close(back[k], b[k], 1e-9, `${c} ${k}`);
  }
});

test('letterbox: an image scaled uniformly into the square, centred; boxes map there and back', () => {
  const l = letterbox(800, 400, 64);
  assert.equal(l, { sx: 0.08, sy: 0.08, dx: 0, dy: 16, size: 64, width: 800, height: 400 });
  // 300×200 in 64: 64×43 (42.67 rounded), offset floor(21/2) = 10.
  const odd = letterbox(300, 200, 64);
  assert.equal([odd.sx * 300, odd.sy * 200, odd.dx, odd.dy], [64, 43, 0, 10]);
  const portrait = letterbox(200, 300, 64); // the same, standing: 43×64 at x offset 10
  assert.equal([portrait.sx * 200, portrait.sy * 300, portrait.dx, portrait.dy], [43, 64, 10, 0]);
  const b = { x1: 100, y1: 50, x2: 300, y2: 350 };
  const inside = toLetterbox(b, l);
  assert.equal(inside, { x1: 8, y1: 20, x2: 24, y2: 44 });
  const back = fromLetterbox(inside, l);
  for (const k of ['x1', 'y1', 'x2', 'y2'] as const) close(back[k], b[k], 1e-9);
  // A prediction in the padding is clipped to the image.
  assert.equal(fromLetterbox({ x1: 0, y1: 0, x2: 64, y2: 10 }, l), { x1: 0, y1: 0, x2: 800, y2: 0 });
});

test.run();
