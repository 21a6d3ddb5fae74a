/**
 * RSGround-R1's published numbers (papers/000, Tables 1–5, DIOR-RSVG columns unless noted), so
 * reports can set ours beside them. These are the paper's results, quoted; ours always come
 * from runs.
 */
export type PaperRow = { label: string; acc50: number; acc70: number; miou: number };

export const PAPER = {
  table1: {
    caption: 'Table 1, DIOR-RSVG (in-domain test)',
    rows: {
      base: { label: 'Qwen2.5-VL-3B (zero-shot)', acc50: 37.5, acc70: 26.25, miou: 37.31 },
      sft: { label: 'Qwen2.5-VL-3B w/ SFT', acc50: 62.6, acc70: 47.6, miou: 55.71 },
      grpo: { label: 'Qwen2.5-VL-3B w/ GRPO', acc50: 66.65, acc70: 56.15, miou: 60.18 },
      full: { label: 'RSGround-R1', acc50: 71.81, acc70: 58.71, miou: 63.38 },
    } as Record<string, PaperRow>,
  },
  table2: {
    caption: 'Table 2, trained on DIOR-RSVG, tested out of domain (FAST-T | SOTA-T)',
    rows: {
      sft: [
        { label: 'FAST-T', acc50: 27.78, acc70: 10.92, miou: 29.8 },
        { label: 'SOTA-T', acc50: 27.58, acc70: 9.11, miou: 27.78 },
      ],
      grpo: [
        { label: 'FAST-T', acc50: 36.55, acc70: 18.44, miou: 35.66 },
        { label: 'SOTA-T', acc50: 34.58, acc70: 17.58, miou: 31.27 },
      ],
      full: [
        { label: 'FAST-T', acc50: 38.59, acc70: 19.21, miou: 35.96 },
        { label: 'SOTA-T', acc50: 38.0, acc70: 19.69, miou: 33.25 },
      ],
    } as Record<string, PaperRow[]>,
  },
  table3: {
    caption: 'Table 3, components (DIOR-RSVG)',
    rows: {
      grpo: { label: '× × ×', acc50: 66.65, acc70: 56.15, miou: 60.18 },
      cot: { label: '✓ × ×', acc50: 68.45, acc70: 56.7, miou: 60.43 },
      pos: { label: '× ✓ ×', acc50: 68.1, acc70: 56.85, miou: 61.12 },
      sc: { label: '× × ✓', acc50: 69.95, acc70: 57.65, miou: 62.44 },
      full: { label: '✓ ✓ ✓', acc50: 71.81, acc70: 58.71, miou: 63.38 },
    } as Record<string, PaperRow>,
  },
  table4: {
    caption: 'Table 4, reward alternatives (DIOR-RSVG)',
    rows: {
      none: { label: 'IoU [baseline]', acc50: 66.65, acc70: 56.15, miou: 60.18 },
      giou: { label: '+GIoU', acc50: 65.1, acc70: 54.05, miou: 58.87 },
      diou: { label: '+DIoU', acc50: 63.6, acc70: 53.45, miou: 57.43 },
      center: { label: '+Center distance', acc50: 67.4, acc70: 56.33, miou: 60.81 },
      pos: { label: '+R_pos [ours]', acc50: 68.1, acc70: 56.85, miou: 61.12 },
    } as Record<string, PaperRow>,
  },
  table5: {
    caption: 'Table 5, m(IoU) and Var(IoU) terms (DIOR-RSVG)',
    rows: {
      none: { label: '× ×', acc50: 66.65, acc70: 56.15, miou: 60.18 },
      m: { label: '✓ ×', acc50: 68.68, acc70: 56.55, miou: 61.11 },
      v: { label: '× ✓', acc50: 67.8, acc70: 56.47, miou: 60.88 },
      both: { label: '✓ ✓', acc50: 69.95, acc70: 57.65, miou: 62.44 },
    } as Record<string, PaperRow>,
  },
} as const;

/**
 * Geo-CoT / RSThinker's ablation (papers/001, GLM-4.1V-9B-Base; its metrics, quoted): grounding
 * mIoU, counting MAE (lower is better), detection mAP@0.5 and VQA accuracy. `ours` names the
 * `geocot` row that plays the same part. The paper gives no number for the KL ablation, only that
 * removing KL makes the reasoning format collapse. Strings: the numbers as the paper prints them.
 */
export const PAPER_GEOCOT = {
  caption: 'paper 001, ablation (GLM-4.1V-9B-Base; VG mIoU, counting MAE ↓, detection mAP@0.5, VQA Acc)',
  rows: [
    { label: 'Base', ours: 'base', vgMiou: '56.26', ocMae: '10.81', detMap50: '3.56', vqa: '8.16' },
    { label: '+ SFT (w/o CoT)', ours: 'sft', vgMiou: '81.80', ocMae: '3.272', detMap50: '49.36', vqa: '63.57' },
    {
      label: '+ SFT (w/ CoT)',
      ours: 'cotsft-geocot',
      vgMiou: '87.70',
      ocMae: '2.932',
      detMap50: '74.03',
      vqa: '74.20',
    },
    {
      label: '+ SFT (w/o CoT) + GRPO',
      ours: 'sft-grpo',
      vgMiou: '86.47',
      ocMae: '4.510',
      detMap50: '56.77',
      vqa: '74.09',
    },
    {
      label: '+ SFT (w/ CoT) + GRPO (full)',
      ours: 'geocot-kl',
      vgMiou: '89.02',
      ocMae: '2.728',
      detMap50: '77.06',
      vqa: '77.24',
    },
  ],
} as const;
