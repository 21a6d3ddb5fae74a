/**
 * Greedy evaluation (SPEC §6): decode each sample once, parse the answer (unparseable → IoU 0),
 * and report Acc@0.5, Acc@0.7, mIoU, cIoU, the format rate and per-sample results.
 */
import { iou, overlap } from './boxes';
import { formatReward, parseAnswer } from './answer';
import { groundingMetrics, type GroundingMetrics } from './metrics';
import type { Policy } from './model';
import type { GroundingSample } from './sample';
import { Rng } from './rng';

export type SampleResult = { id: string; text: string; iou: number; format: number; cueFamily?: string };

export type Evaluation = GroundingMetrics & {
  /** fraction of completions with R_format = 1 */
  formatRate: number;
  /** mean completion length in tokens */
  meanLength: number;
  /** Acc@0.5 per cue family */
  byCue: Record<string, { n: number; acc50: number }>;
  results: SampleResult[];
};

export function evaluatePolicy(policy: Policy, samples: readonly GroundingSample[], opts: { batch?: number; maxLen?: number } = {}): Evaluation {
  const batch = opts.batch ?? 100;
  const rng = new Rng(0); // unused by greedy decoding, required by the API
  const results: SampleResult[] = [];
  const inters: number[] = [], unions: number[] = [];
  let len = 0;
  for (let i = 0; i < samples.length; i += batch) {
    const chunk = samples.slice(i, i + batch);
    const g = policy.generate(chunk, rng, { group: 1, temperature: 1, maxLen: opts.maxLen ?? policy.cfg.maxCompletionLen, greedy: true });
    chunk.forEach((s, k) => {
      const text = g.texts[k];
      const box = parseAnswer(text);
      const o = overlap(box, s.gt);
      inters.push(o.inter); unions.push(o.union);
      len += g.ids[k].length;
      results.push({ id: s.id, text, iou: box ? iou(box, s.gt) : 0, format: formatReward(text), cueFamily: s.meta?.cueFamily as string | undefined });
    });
  }
  const byCue: Record<string, { n: number; acc50: number }> = {};
  for (const r of results) {
    const k = r.cueFamily ?? 'unknown';
    const e = (byCue[k] ??= { n: 0, acc50: 0 });
    e.n++; if (r.iou >= 0.5) e.acc50++;
  }
  for (const e of Object.values(byCue)) e.acc50 /= e.n;
  return {
    ...groundingMetrics(results.map((r) => r.iou), inters, unions),
    formatRate: results.reduce((s, r) => s + r.format, 0) / Math.max(1, results.length),
    meanLength: len / Math.max(1, results.length),
    byCue,
    results,
  };
}
