/**
 * lib/report/reward-curves.ts: the explainer's curves are the rewards of the boxes they claim —
 * IoU and centre distance by hand for a box sliding past the target, the others against direct
 * calls on the shifted box — and the R_pos landscape peaks on the target and falls away from it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { posLandscape, slideCurves } from '../../lib/report/reward-curves';
import { diouReward, giouReward, positionalReward } from '../../lib/rewards';
import { close } from '../helpers';

const gt = { x1: 10, y1: 10, x2: 20, y2: 20 };

test('slideCurves: a 10 × 10 box shifted right by 0, 5, 10, 20 px (IoU and centre by hand)', () => {
  const c = slideCurves(gt, 64, 2.5, [0, 5, 10, 20, -5]);
  assert.equal(c.shift, [0, 5, 10, 20, -5]);
  // overlap 10·(10 − |dx|) over union 200 − overlap
  [1, 50 / 150, 0, 0, 50 / 150].forEach((want, i) => close(c.iou[i], want, 1e-12, `iou ${i}`));
  // centre distance |dx| over the diagonal 64√2
  [0, 5, 10, 20, 5].forEach((dx, i) => close(c.center[i], 1 - dx / (64 * Math.SQRT2), 1e-12, `center ${i}`));
  c.shift.forEach((dx, i) => {
    const p = { x1: 10 + dx, y1: 10, x2: 20 + dx, y2: 20 };
    close(c.giou[i], giouReward(p, gt), 1e-12);
    close(c.diou[i], diouReward(p, gt), 1e-12);
    close(c.pos[i], positionalReward(p, gt, { imageWidth: 64, imageHeight: 64, alpha: 2.5 }), 1e-12);
  });
  // past the target IoU is flat at 0 while R_pos still falls with distance (the paper's point)
  assert.ok(c.pos[2] > c.pos[3] && c.pos[3] > 0);
  assert.ok(c.pos[0] > c.pos[1] && c.pos[1] > c.pos[2]);
});

test('posLandscape: R_pos of a GT-sized box centred on each pixel; peak on the target, symmetric', () => {
  const L = posLandscape(gt, 32, 2.5);
  assert.is(L.length, 32);
  assert.is(L[0].length, 32);
  const at = (x: number, y: number) =>
    positionalReward({ x1: x + 0.5 - 5, y1: y + 0.5 - 5, x2: x + 5.5, y2: y + 5.5 }, gt, {
      imageWidth: 32,
      imageHeight: 32,
      alpha: 2.5,
    });
  for (const [x, y] of [
    [14, 14],
    [0, 31],
    [25, 3],
  ])
    close(L[y][x], at(x, y), 1e-12, `(${x}, ${y})`);
  // the target's centre (15, 15) lies between pixels 14 and 15: the peak is there, and symmetric
  const max = Math.max(...L.flat());
  close(L[14][14], max, 1e-12);
  close(L[14][15], L[14][14], 1e-12);
  close(L[15][14], L[14][14], 1e-12);
  for (let x = 15; x < 31; x++) assert.ok(L[14][x + 1] <= L[14][x], `falls along the row at x ${x}`);
});

test.run();
