/**
 * geocot — Geo-CoT / RSThinker (paper 001) on grounding: SFT only vs SFT → GRPO, with vs without
 * a chain of thought, and **KL vs no KL from the CoT-SFT checkpoint**, with the faithfulness of the
 * Planning → Evidence → Synthesis traces (structure, evidence boxes that point at an object of the
 * named class, a synthesis that agrees with its evidence, repetition) on the test split, and the
 * collapse curves (format, structure, repetition, trace length per step) of the two GRPO runs.
 *
 * Not here yet: paper 001's multi-task GRPO (counting, detection, VQA in mixed batches).
 */
import { collect, comparisonTable, curveOverSeeds, percent, type Row, type Rows, beats } from './results';
import { dataRef, specsOf, variantSpec } from './specs';
import { V } from './variants';
import { groundingSplit } from '../lib/data/splits';
import { faithfulness, repetitionRate, traceStructure } from '../lib/faithfulness';
import { thinkBlock } from '../lib/answer';
import { formatCI, meanCI } from '../lib/stats';
import { lineFigure } from '../lib/report/plots';
import { judgePaired } from '../lib/report/verdicts';
import type { Table } from '../lib/report/tables';
import type { Box } from '../lib/boxes';
import { sectionMarkdown, tableMarkdown } from './markdown';
import { overBudget } from '../lib/data/budget';
import { worldTokenizer } from '../lib/model/tokenizer';
import type { Experiment } from './types';

const VARIANTS = [V.sft, V.sftGrpo, V.cotsftGeocot, V.geocotKl, V.geocotNoKl];
const TRACED = ['cotsft-geocot', 'geocot-kl', 'geocot-nokl'];
/** completion budget (tokens) of this experiment's policies */
const BUDGET = 128;

type Objects = Map<string, { cls: string; box: Box }[]>;

/** Per seed: structure rate, evidence match, synthesis agreement and repetition of a row's test traces. */
function traceQuality(row: Row, objects: Objects): Record<string, number[]> {
  const out: Record<string, number[]> = { structure: [], evidence: [], agrees: [], repetition: [] };
  for (const ev of row.evals) {
    const f = ev.results.map((r) => faithfulness(r.text, objects.get(r.id)!));
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    out.structure.push(mean(ev.results.map((r) => (traceStructure(r.text).ok ? 1 : 0))));
    out.evidence.push(mean(f.map((x) => x.evidenceMatch).filter(Number.isFinite)));
    out.agrees.push(mean(f.filter((x) => x.synthesisAgrees !== null).map((x) => (x.synthesisAgrees ? 1 : 0))));
    out.repetition.push(mean(ev.results.map((r) => repetitionRate(thinkBlock(r.text) ?? ''))));
  }
  return out;
}

function faithfulnessTable(rows: Rows, objects: Objects, n: number): Table {
  const f = (xs: number[]) => (xs.length && xs.every(Number.isFinite) ? formatCI(meanCI(xs)) : '–');
  return {
    title: `Geo-CoT traces on the test split (${n} samples): structure and faithfulness`,
    header: ['method', 'structure', 'evidence → object', 'synthesis agrees', 'repetition (4-grams)', 'format'],
    rows: TRACED.map((id) => {
      const r = rows.get(id);
      const q = traceQuality(r, objects);
      return [
        r.variant.label,
        f(q.structure),
        f(q.evidence),
        f(q.agrees),
        f(q.repetition),
        f(r.evals.map((e) => e.formatRate)),
      ];
    }),
    note:
      'Mean ± 95% CI over seeds, in %. Structure: plan, evidence and synthesis in order with readable evidence. ' +
      'Evidence → object: evidence boxes with IoU ≥ 0.5 to an object of the class they name. Synthesis agrees: ' +
      'its box is one of the evidence boxes. Repetition: share of the trace’s 4-grams seen earlier in it.',
  };
}

export const experiment: Experiment = {
  name: 'geocot',
  family: 'Geo-CoT / RSThinker (paper 001)',
  paper: 'Geo-CoT / RSThinker (paper 001): SFT vs SFT → GRPO, CoT, KL',
  description:
    'Geo-CoT traces: SFT only vs SFT → GRPO, with vs without CoT, KL vs no KL (collapse curves, faithfulness)',
  syntheticOnly: 'faithfulness checks each evidence box against the scene objects only the mini world records',
  // Geo-CoT traces run to ~80 tokens (p90 ~100): at the default 64-token budget most SFT targets lose their answer.
  // Every row here (answer-only ones too, so that they share bases) gets a 128-token budget.
  configure: (c) => ({
    ...c,
    arch: { ...c.arch, maxCompletionLen: BUDGET },
    grpo: { ...c.grpo, maxLen: BUDGET },
  }),
  specs: (c) => specsOf(c, VARIANTS),
  report: async (ctx) => {
    const c = ctx.config;
    const ref = dataRef(c, 'test', c.data.test);
    const rows = await collect('geocot', c, VARIANTS, ref, ctx.pool);
    const objects: Objects = new Map(
      groundingSplit('test', { count: c.data.test }).map((s) => [s.id, s.meta!.objects as { cls: string; box: Box }[]]),
    );
    const main = comparisonTable(`Geo-CoT (paper 001) on grounding: test split, ${c.data.test} samples`, rows.list);
    const faith = faithfulnessTable(rows, objects, c.data.test);
    // the collapse curves: per step, mean ± CI over seeds, with and without KL
    const kl = c.seeds.map((s) => variantSpec(c, V.geocotKl, s)),
      nokl = c.seeds.map((s) => variantSpec(c, V.geocotNoKl, s));
    // [metric, y-axis title, what it is]
    const panels = [
      ['reward/format', 'format reward (%)', 'the format reward'],
      ['trace/structure', 'structured traces (%)', 'the share of rollouts with plan, evidence and synthesis'],
      ['trace/repetition', 'repeated 4-grams (%)', 'the repetition rate of the traces'],
      ['grpo/kl', 'KL', 'the KL to the CoT-SFT model'],
      ['trace/evidence_match', 'evidence on target (%)', 'the share of evidence boxes on an object of the named class'],
    ] as const;
    const figures = panels.flatMap(([key, yTitle, what]) => {
      const curve = (specs: typeof kl) =>
        key === 'grpo/kl' ? curveOverSeeds(specs, key, 10) : percent(curveOverSeeds(specs, key, 10));
      const series = [
        { name: 'with KL (β 0.04)', ...curve(kl) },
        { name: 'no KL', ...curve(nokl) },
      ].filter((x) => x.x.length > 0); // e.g. no evidence at all when no rollout writes a structured trace
      if (series.length === 0) return [];
      return [
        {
          name: `geocot-${key.replace('/', '-')}`,
          figure: lineFigure(`Geo-CoT → GRPO, with and without KL: ${yTitle}`, 'GRPO step', yTitle, series),
          description: `${what} per GRPO step (10-step mean), with and without the KL term, mean and 95% CI over seeds`,
          specs: [...kl, ...nokl],
        },
      ];
    });
    const claims = [
      judgePaired(
        {
          id: 'g-kl',
          text: 'without the KL term, GRPO from the CoT-SFT checkpoint collapses the output format',
          source: 'paper 001, ablation (KL)',
        },
        rows.get('geocot-kl').evals.map((e) => e.formatRate),
        rows.get('geocot-nokl').evals.map((e) => e.formatRate),
        {
          what: 'test format rate, with KL − without KL',
          samplesA: rows.get('geocot-kl').evals.map((e) => e.results.map((r) => r.format)),
          samplesB: rows.get('geocot-nokl').evals.map((e) => e.results.map((r) => r.format)),
        },
      ),
      beats(
        rows,
        'geocot-kl',
        'cotsft-geocot',
        {
          id: 'g-rft',
          text: 'GRPO after CoT-SFT improves over CoT-SFT alone',
          source: 'paper 001, Table (SFT vs SFT + GRPO)',
        },
        'Acc@0.5, CoT-SFT → GRPO − CoT-SFT',
      ),
      beats(
        rows,
        'cotsft-geocot',
        'sft',
        {
          id: 'g-cot',
          text: 'SFT with Geo-CoT traces beats SFT without CoT',
          source: 'paper 001, ablation (w/ vs w/o CoT)',
        },
        'Acc@0.5, CoT-SFT (Geo-CoT) − answer-only SFT',
      ),
    ];
    const over = overBudget(
      groundingSplit('train', { count: Math.min(c.data.train, 2000) }),
      'geocot',
      worldTokenizer(c.arch.imageSize),
      c.arch.maxCompletionLen,
    );
    const budgetNote =
      `Completion budget ${c.arch.maxCompletionLen} tokens (the other experiments: 64); ` +
      `${(100 * over).toFixed(1)}% of Geo-CoT train targets are longer and lose their answer in SFT.`;
    const specs = specsOf(c, VARIANTS);
    return {
      tables: [
        { name: 'geocot', table: main, description: 'Geo-CoT rows on the test split', specs },
        { name: 'geocot-faithfulness', table: faith, description: 'structure and faithfulness of the traces', specs },
      ],
      figures,
      claims,
      markdown: sectionMarkdown(
        'Geo-CoT (paper 001): CoT, GRPO after SFT, and the KL term',
        main,
        claims,
        [tableMarkdown(faith), '', `_${faith.note}_`, '', budgetNote].join('\n'),
      ),
    };
  },
};
