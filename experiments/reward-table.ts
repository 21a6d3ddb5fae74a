/**
 * reward-table — the numbers behind RSGround-R1 Figure 2(ii): as a predicted box slides past
 * the target, IoU drops to 0 while R_pos (and GIoU, DIoU, centre distance) keep a signal.
 * No training; instant.
 */
import { groundingReward, AUX_REWARDS, DEFAULT_GROUNDING_REWARD, type AuxReward } from '../lib/rewards';
import { formatBox, type Box } from '../lib/boxes';
import type { Experiment } from './types';
import { sectionMarkdown } from './markdown';
import { slideCurves, posLandscape } from '../lib/report/reward-curves';
import { lineFigure, heatmapFigure } from '../lib/report/plots';

export const LANDSCAPE_ALPHAS = [1, 2.5, 5];

export const SETUP = {
  imageSize: 64,
  target: { x1: 28, y1: 28, x2: 36, y2: 36 } as Box,
  alpha: 2.5,
  shifts: [0, 2, 4, 6, 8, 12, 16, 24],
};

export function rewardRows(): { header: string[]; rows: string[][] } {
  const { imageSize: S, target: gt, alpha } = SETUP;
  const size = { imageWidth: S, imageHeight: S };
  const aux = AUX_REWARDS.filter((a): a is Exclude<AuxReward, 'none'> => a !== 'none');
  const header = ['shift (px)', 'predicted box', 'IoU', ...aux.map((a) => `R_${a}`), 'R (β=0.1, pos)'];
  const rows = SETUP.shifts.map((dx) => {
    const p: Box = { x1: gt.x1 + dx, y1: gt.y1, x2: gt.x2 + dx, y2: gt.y2 };
    const text = `<think>shifted ${dx} px</think><answer>${formatBox(p)}</answer>`;
    const vals = aux.map((a) =>
      groundingReward(text, gt, size, { ...DEFAULT_GROUNDING_REWARD, aux: a, beta: 0.1, alpha }).aux.toFixed(3),
    );
    const full = groundingReward(text, gt, size, { ...DEFAULT_GROUNDING_REWARD, aux: 'pos', beta: 0.1, alpha });
    return [String(dx), formatBox(p), full.iou.toFixed(3), ...vals, full.total.toFixed(3)];
  });
  return { header, rows };
}

export const experiment: Experiment = {
  name: 'reward-table',
  paper: 'Figure 2(ii), as numbers',
  description: 'IoU vs R_pos, GIoU, DIoU and centre rewards as a predicted box slides past the target',
  specs: () => [],
  async report() {
    const { header, rows } = rewardRows();
    const table = {
      title:
        `Rewards for a box sliding right past the target ${formatBox(SETUP.target)} (64×64 image, α = ` +
        `${SETUP.alpha})`,
      header,
      rows,
    };
    const shifts = Array.from({ length: 57 }, (_, i) => i * 0.5);
    const c = slideCurves(SETUP.target, SETUP.imageSize, SETUP.alpha, shifts);
    const slide = lineFigure(
      `Figure 2(ii): rewards as the prediction slides right of an 8×8 target (α = ${SETUP.alpha})`,
      'horizontal shift (px)',
      'reward',
      [
        { name: 'IoU', x: shifts, y: c.iou },
        { name: 'R_pos', x: shifts, y: c.pos },
        { name: '(GIoU + 1)/2', x: shifts, y: c.giou, dash: 'dot' },
        { name: '(DIoU + 1)/2', x: shifts, y: c.diou, dash: 'dot' },
        { name: 'centre: 1 − ρ/D', x: shifts, y: c.center, dash: 'dash' },
      ],
    );
    const landscapes = LANDSCAPE_ALPHAS.map((alpha) => {
      const z = posLandscape(SETUP.target, SETUP.imageSize, alpha);
      const axis = Array.from({ length: SETUP.imageSize }, (_, i) => i);
      const fig = heatmapFigure(
        `R_pos of a target-sized box centred at each pixel, α = ${alpha}`,
        'x',
        'y',
        axis,
        axis,
        z,
        z.map((r) => r.map(() => '')),
      );
      (fig.layout.yaxis as Record<string, unknown>).autorange = 'reversed';
      return {
        name: `rpos-landscape-alpha${alpha}`,
        figure: fig,
        description: `R_pos landscape for α = ${alpha}`,
        specs: [],
      };
    });
    return {
      tables: [{ name: 'reward-table', table, description: 'reward values vs horizontal shift', specs: [] }],
      figures: [
        {
          name: 'fig2-rewards-slide',
          figure: slide,
          description: 'IoU vs R_pos and alternatives as a box slides past the target',
          specs: [],
        },
        ...landscapes,
      ],
      claims: [],
      markdown: sectionMarkdown(
        'Rewards as a box slides past the target (Figure 2(ii))',
        table,
        [],
        '![Figure 2(ii)](fig2-rewards-slide.svg)',
      ),
    };
  },
};
