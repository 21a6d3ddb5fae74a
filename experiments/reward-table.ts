/**
 * reward-table — the numbers behind RSGround-R1 Figure 2(ii): as a predicted box slides past
 * the target, IoU drops to 0 while R_pos (and GIoU, DIoU, centre distance) keep a signal.
 * No training; instant.
 */
import { groundingReward, AUX_REWARDS, type AuxReward } from '../lib/rewards';
import { formatBox, type Box } from '../lib/boxes';
import type { Experiment } from './types';

export const config = { imageSize: 64, target: { x1: 28, y1: 28, x2: 36, y2: 36 } as Box, alpha: 2.5, shifts: [0, 2, 4, 6, 8, 12, 16, 24] };

export const experiment: Experiment = {
  name: 'reward-table',
  paper: 'Figure 2(ii) (as numbers)',
  description: 'IoU vs R_pos, GIoU, DIoU and centre rewards as a predicted box slides past the target',
  async run(ctx) {
    void ctx.config; // no training: the config does not matter here
    const { imageSize: S, target: gt, alpha } = config;
    const size = { imageWidth: S, imageHeight: S };
    const aux = AUX_REWARDS.filter((a): a is Exclude<AuxReward, 'none'> => a !== 'none');
    const header = ['shift (px)', 'predicted box', 'IoU', ...aux.map((a) => `R_${a}`), 'R (β=0.1, pos)'];
    const rows = config.shifts.map((dx) => {
      const p: Box = { x1: gt.x1 + dx, y1: gt.y1, x2: gt.x2 + dx, y2: gt.y2 };
      const text = `<think>shifted ${dx} px</think><answer>${formatBox(p)}</answer>`;
      const vals = aux.map((a) => groundingReward(text, gt, size, { aux: a, beta: 0.1, alpha }).aux.toFixed(3));
      const full = groundingReward(text, gt, size, { aux: 'pos', beta: 0.1, alpha });
      return [String(dx), formatBox(p), full.iou.toFixed(3), ...vals, full.total.toFixed(3)];
    });
    ctx.log(`target ${formatBox(gt)} in a ${S}×${S} image, α = ${alpha}`);
    ctx.printTable(header, rows);
    return { header, rows };
  },
};
