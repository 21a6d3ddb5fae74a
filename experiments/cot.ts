/**
 * cot — what the chain of thought does: rows for answer-only SFT and CoT-SFT alone (before any
 * GRPO) and after GRPO, with RSGround-R1's position-aware traces; and, for every CoT row, how often
 * the trace states the right count of look-alikes and the right region, and the accuracy given a
 * right vs a wrong trace. Geo-CoT's plan → evidence → synthesis traces do not fit this scale's
 * 64-token completion budget; they have their own experiment with a 128-token budget (geocot.ts).
 */
import { collect, comparisonTable, type Row } from './results';
import { specsOf } from './specs';
import { V } from './variants';
import { groundingSplit } from '../lib/data/splits';
import { type CotStyle, checkTrace, factsOf } from '../lib/data/cot';
import { formatCI, meanCI } from '../lib/stats';
import type { Experiment } from './types';
import type { Table } from '../lib/report/tables';
import { sectionMarkdown, tableMarkdown } from './markdown';
import { overBudget } from '../lib/data/budget';
import { worldTokenizer } from '../lib/model/tokenizer';

const VARIANTS = [V.base, V.sft, V.cotsft, V.grpo, V.grpoCot];
/** The CoT rows and the trace style each writes. */
const TRACED: [string, CotStyle][] = [
  ['cotsft', 'rsground'],
  ['grpo-cot', 'rsground'],
];

/** Per seed: share of traces whose statement is right, and Acc@0.5 among right and among wrong ones. */
function traceStats(
  row: Row,
  style: CotStyle,
  facts: Map<string, ReturnType<typeof factsOf>>,
  key: 'countRight' | 'regionRight',
) {
  const share: number[] = [],
    accRight: number[] = [],
    accWrong: number[] = [];
  for (const ev of row.evals) {
    const checks = ev.results.map((r) => ({ ok: checkTrace(r.text, facts.get(r.id)!, style)[key], hit: r.iou >= 0.5 }));
    const stated = checks.filter((c) => c.ok !== null);
    const right = stated.filter((c) => c.ok),
      wrong = stated.filter((c) => !c.ok);
    share.push(stated.length ? right.length / stated.length : NaN);
    if (right.length) accRight.push(right.filter((c) => c.hit).length / right.length);
    if (wrong.length) accWrong.push(wrong.filter((c) => c.hit).length / wrong.length);
  }
  const f = (xs: number[]) => (xs.length && xs.every(Number.isFinite) ? formatCI(meanCI(xs)) : '–');
  return [f(share), f(accRight), f(accWrong)];
}

export const experiment: Experiment = {
  name: 'cot',
  syntheticOnly: 'it checks each trace against the scene facts only the mini world records',
  paper: 'Table 3 (CoT-SFT row), diagnosed',
  description: 'answer-only SFT vs CoT-SFT (RSGround traces), before and after GRPO; are the traces right?',
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx) {
    const c = ctx.config;
    const ref = { split: 'test', count: c.data.test };
    const rows = await collect('cot', c, VARIANTS, ref, ctx.pool);
    const main = comparisonTable(
      `CoT: answer-only SFT vs CoT-SFT, before and after GRPO (test split, ${c.data.test} samples)`,
      rows.list,
      [],
      'Mean ± 95% CI (Student t) over seeds, in %. Every row starts from the same base model per seed.',
    );
    const facts = new Map(groundingSplit('test', { count: c.data.test }).map((s) => [s.id, factsOf(s)]));
    const traceRows: string[][] = [];
    for (const [id, style] of TRACED) {
      const row = rows.get(id);
      traceRows.push([row.variant.label, 'count of look-alikes', ...traceStats(row, style, facts, 'countRight')]);
      if (style === 'rsground')
        traceRows.push([row.variant.label, 'region of the target', ...traceStats(row, style, facts, 'regionRight')]);
    }
    const traces: Table = {
      title: 'Are the traces right? (test split)',
      header: ['method', 'statement', 'share right', 'Acc@0.5 when right', 'Acc@0.5 when wrong'],
      rows: traceRows,
      note:
        'RSGround traces state how many objects of the queried class there are and which region the target is in. ' +
        'Shares are over the traces that make the statement. Mean ± 95% CI over seeds, in %.',
    };
    // A target cut at the completion budget loses its answer: say how often that happens per style.
    const train = groundingSplit('train', { count: Math.min(c.data.train, 2000) });
    const tok = worldTokenizer(c.arch.imageSize);
    const budget = (['rsground', 'geocot'] as const)
      .map((st) => `${st} ${(100 * overBudget(train, st, tok, c.arch.maxCompletionLen)).toFixed(1)}%`)
      .join(', ');
    const budgetNote =
      `Completion budget: ${c.arch.maxCompletionLen} tokens. Share of train targets longer than that (cut before ` +
      `</answer> in SFT): ${budget}. Geo-CoT traces do not fit, so they are not trained here: the geocot experiment ` +
      'gives them a 128-token budget.';
    const specs = specsOf(c, VARIANTS);
    return {
      tables: [
        { name: 'cot', table: main, description: 'answer-only SFT vs CoT-SFT, before and after GRPO', specs },
        {
          name: 'cot-traces',
          table: traces,
          description: 'trace correctness and accuracy given a right or wrong trace',
          specs,
        },
      ],
      figures: [],
      claims: [],
      markdown: sectionMarkdown(
        'CoT — does the reasoning help, and is it right?',
        main,
        [],
        [tableMarkdown(traces), '', `_${traces.note}_`, '', budgetNote].join('\n'),
      ),
    };
  },
};
