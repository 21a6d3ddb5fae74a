/**
 * Reward kernels: the separable R_pos against the literal per-pixel loop (SPEC §3.3), and
 * rewards scored per second for a batch of 64 rollouts.
 */
import { positionalReward, groundingReward } from '../lib/rewards';
import { Rng } from '../lib/rng';
import type { Box } from '../lib/boxes';
import { positionalRewardPerPixel } from '../test/oracles';
import { timeIt, fmtMs, table } from './harness';

export async function benchRewards(): Promise<void> {
  console.log('\n## Rewards (pure JS)\n');
  const rows: (string | number)[][] = [['box', 'image', 'separable', 'per-pixel oracle', 'speedup']];
  for (const side of [8, 64, 512]) {
    const img = Math.max(64, side * 2);
    const gt: Box = { x1: img / 4, y1: img / 4, x2: img / 4 + side, y2: img / 4 + side };
    const pred: Box = {
      x1: img / 4 + side / 3,
      y1: img / 4 - side / 5,
      x2: img / 4 + side / 3 + side,
      y2: img / 4 - side / 5 + side,
    };
    const o = { alpha: 2.5, imageWidth: img, imageHeight: img };
    const fast = timeIt(() => positionalReward(pred, gt, o));
    const slow = timeIt(() => positionalRewardPerPixel(pred, gt, o), { minMs: 50, repeats: 3 });
    rows.push([
      `${side}²`,
      `${img}²`,
      fmtMs(fast.medianMs),
      fmtMs(slow.medianMs),
      `${(slow.medianMs / fast.medianMs).toFixed(0)}x`,
    ]);
  }
  console.log(table(rows));

  // A batch of 64 rollouts (8 groups × G = 8) of realistic completions on 64×64 images.
  const rng = new Rng(1);
  const batch = Array.from({ length: 64 }, () => {
    const gx = rng.int(0, 50),
      gy = rng.int(0, 50);
    const gt: Box = { x1: gx, y1: gy, x2: gx + rng.int(4, 14), y2: gy + rng.int(4, 14) };
    const p = [gx + rng.int(-6, 6), gy + rng.int(-6, 6)].map((v) => Math.max(0, v));
    const text =
      `<think>there are 3 vehicles. the target is the leftmost one, at the top ` +
      `left.</think><answer>[${p[0]}, ${p[1]}, ${p[0] + rng.int(3, 14)}, ${p[1] + rng.int(3, 14)}]</answer>`;
    return { text, gt };
  });
  const size = { imageWidth: 64, imageHeight: 64 };
  const t = timeIt(() => {
    for (const r of batch) groundingReward(r.text, r.gt, size);
  });
  console.log(
    `\ngroundingReward (format + IoU + β·R_pos), batch of 64 rollouts: ${fmtMs(t.medianMs)} per batch = ` +
      `${(64 / (t.medianMs / 1000)).toExponential(2)} rollouts/s`,
  );
}
