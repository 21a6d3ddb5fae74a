/**
 * geocot — Geo-CoT / RSThinker (paper 001) on grounding: SFT only vs SFT → GRPO, with vs without
 * a chain of thought, and **KL vs no KL from the CoT-SFT checkpoint**, with the faithfulness of the
 * Planning → Evidence → Synthesis traces (structure, evidence boxes that point at an object of the
 * named class, a synthesis that agrees with its evidence, repetition) on the test split, and the
 * collapse curves (format, structure, repetition, trace length per step) of the two GRPO runs.
 *
 * And paper 001's multi-task RFT: CoT-SFT on the task mix (grounding, counting, detection, VQA in
 * turn; `multi-*` splits), then GRPO on mixed batches with each task's reward from the registry
 * (lib/tasks.ts), evaluated per task on `multi-test`, with the per-task reward curves of training.
 */
import { collect, comparisonTable, curveOverSeeds, percent, type Row, type Rows, beats } from './results';
import { dataRef, mergeGrpo, sftSpec, specsOf, variantSpec } from './specs';
import type { CommonConfig } from './scales';
import { evaluateStage, linkRun, type DataRef, type GrpoSpec, type StageSpec } from '../lib/pipeline';
import { runEvaluations } from './scheduler';
import type { Evaluation, TaskMetrics } from '../lib/evaluate';
import { MIXED_TASKS } from '../lib/data/splits';
import type { ReportContext } from './types';
import { GEOCOT_BUDGET, V } from './variants';
import { groundingSplit } from '../lib/data/splits';
import { faithfulness, repetitionRate, traceStructure } from '../lib/faithfulness';
import { thinkBlock } from '../lib/answer';
import { formatCI, meanCI } from '../lib/stats';
import { lineFigure } from '../lib/report/plots';
import { PAPER_GEOCOT } from '../lib/report/paper';
import { judgePaired } from '../lib/report/verdicts';
import type { Table } from '../lib/report/tables';
import type { Box } from '../lib/boxes';
import { sectionMarkdown, tableMarkdown } from './markdown';
import { overBudget } from '../lib/data/budget';
import { worldTokenizer } from '../lib/model/tokenizer';
import type { Experiment } from './types';

const VARIANTS = [V.base, V.sft, V.sftGrpo, V.cotsftGeocot, V.geocotKl, V.geocotNoKl];
const TRACED = ['cotsft-geocot', 'geocot-kl', 'geocot-nokl'];

type Objects = Map<string, { cls: string; box: Box }[]>;

// ── Multi-task RFT (paper 001): the task mix through one trainer ─────────────────────────

/** The task-mix splits, sized as the scale sizes the grounding ones. */
function multiRef(c: CommonConfig, split: 'train' | 'val' | 'test'): DataRef {
  return { split: `multi-${split}`, count: c.data[split] };
}

export const MULTI_ROWS = [
  { id: 'multi-cotsft', label: 'CoT-SFT on the task mix (Geo-CoT traces)', grpo: false },
  { id: 'multi-cotsft-grpo', label: 'CoT-SFT → multi-task GRPO', grpo: true },
] as const;
type MultiRow = (typeof MULTI_ROWS)[number];

/** CoT-SFT on the task mix; then GRPO on mixed batches, R = R_format + each task's score (no R_pos, no w). */
export function multiSpec(c: CommonConfig, row: MultiRow, seed: number): StageSpec {
  const on = { data: multiRef(c, 'train'), eval: multiRef(c, 'val') };
  const sft = sftSpec(c, 'geocot', seed, on, GEOCOT_BUDGET);
  if (!row.grpo) return sft;
  const spec: GrpoSpec = {
    kind: 'grpo',
    from: sft,
    seed,
    grpo: mergeGrpo(c.grpo, {
      reward: { aux: 'none' },
      spatialConsistency: false,
      traceDiagnostics: true,
      maxLen: Math.max(GEOCOT_BUDGET, c.grpo.maxLen),
    }),
    data: multiRef(c, 'train'),
    eval: multiRef(c, 'val'),
  };
  return spec;
}

async function collectMulti(ctx: ReportContext, ref: DataRef): Promise<Map<string, Evaluation[]>> {
  const c = ctx.config;
  await runEvaluations(
    MULTI_ROWS.flatMap((r) => c.seeds.map((seed) => ({ spec: multiSpec(c, r, seed), ref }))),
    ctx.pool,
  );
  const out = new Map<string, Evaluation[]>();
  for (const r of MULTI_ROWS) {
    const evals: Evaluation[] = [];
    for (const seed of c.seeds) {
      const spec = multiSpec(c, r, seed);
      linkRun('geocot', `${r.id}-s${seed}`, spec);
      evals.push(await evaluateStage(spec, ref));
    }
    out.set(r.id, evals);
  }
  return out;
}

const taskOfEval = (e: Evaluation, task: string): TaskMetrics => {
  const m = e.tasks?.[task as keyof NonNullable<Evaluation['tasks']>];
  if (!m) throw new Error(`geocot: an evaluation of the task mix without ${task} metrics (was it run on multi-test?)`);
  return m;
};

/** Per task: accuracy (and detection's mAP@0.5) of each multi-task row, mean ± CI over seeds. */
function multiTable(evals: Map<string, Evaluation[]>, n: number): Table {
  const f = (xs: number[]) => formatCI(meanCI(xs));
  const cols: [string, (e: Evaluation) => number][] = [
    ['all tasks', (e) => e.acc50],
    ...MIXED_TASKS.map((t): [string, (e: Evaluation) => number] => [t, (e) => taskOfEval(e, t).acc]),
    ['detection mAP@0.5', (e) => taskOfEval(e, 'detection').map50 ?? NaN],
    ['VQA score', (e) => taskOfEval(e, 'vqa').meanScore],
    ['format', (e) => e.formatRate],
  ];
  return {
    title: `Geo-CoT multi-task RFT: the task mix's test split (${n} samples, ${n / MIXED_TASKS.length} per task)`,
    header: ['method', ...cols.map(([h]) => h)],
    rows: MULTI_ROWS.map((r) => [r.label, ...cols.map(([, v]) => f(evals.get(r.id)!.map(v)))]),
    note:
      'Mean ± 95% CI over seeds, in %. Right answers: grounding IoU ≥ 0.5, the exact count, detection F1@0.5 ≥ 0.5, ' +
      'the exact VQA answer. mAP@0.5: VOC AP with the answer order as the ranking, averaged over classes. VQA ' +
      'score: 1 for the answer, 0.6 for a near one (a count off by one), else 0.',
  };
}

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

export function faithfulnessTable(rows: Rows, objects: Objects, n: number, seeds: readonly number[]): Table {
  const f = (xs: number[]) => (xs.length && xs.every(Number.isFinite) ? formatCI(meanCI(xs)) : '–');
  const traced = TRACED.map((id) => ({ r: rows.get(id), q: traceQuality(rows.get(id), objects) }));
  // a mean over seeds hides a row whose seeds split (some keep the structure, some lose it): say each
  const pct = (xs: number[]) => xs.map((x) => (100 * x).toFixed(1)).join(', ');
  const perSeed = traced.map(({ r, q }) => `${r.variant.label} ${pct(q.structure)}`);
  return {
    title: `Geo-CoT traces on the test split (${n} samples): structure and faithfulness`,
    header: ['method', 'structure', 'evidence → object', 'synthesis agrees', 'repetition (4-grams)', 'format'],
    rows: traced.map(({ r, q }) => [
      r.variant.label,
      f(q.structure),
      f(q.evidence),
      f(q.agrees),
      f(q.repetition),
      f(r.evals.map((e) => e.formatRate)),
    ]),
    note:
      'Mean ± 95% CI over seeds, in %. Structure: plan, evidence and synthesis in order with readable evidence. ' +
      'Evidence → object: evidence boxes with IoU ≥ 0.5 to an object of the class they name. Synthesis agrees: ' +
      'its box is one of the evidence boxes. Repetition: share of the trace’s 4-grams seen earlier in it. ' +
      `Structure per seed (seeds ${seeds.join(', ')}): ${perSeed.join('; ')}.`,
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
  // The CoT rows (and the task mix's) get GEOCOT_BUDGET tokens from their SFT stage on; every row starts from the
  // scale's base of its seed, and the answer-only rows are the other experiments' own (their targets are ~20
  // tokens, so a budget they never reach changes nothing).
  // The KL chain first (the workers take stages in this order): a run cut short has trained the stages of the
  // collapse verdict, and a rerun reuses them. (The report still needs every stage.)
  specs: (c) => [
    ...specsOf(c, [V.cotsftGeocot, V.geocotKl, V.geocotNoKl, V.sft, V.sftGrpo]),
    ...MULTI_ROWS.flatMap((r) => c.seeds.map((s) => multiSpec(c, r, s))),
  ],
  report: async (ctx) => {
    const c = ctx.config;
    const ref = dataRef(c, 'test', c.data.test);
    const rows = await collect('geocot', c, VARIANTS, ref, ctx.pool);
    const objects: Objects = new Map(
      groundingSplit('test', { count: c.data.test }).map((s) => [s.id, s.meta!.objects as { cls: string; box: Box }[]]),
    );
    const main = comparisonTable(`Geo-CoT (paper 001) on grounding: test split, ${c.data.test} samples`, rows.list);
    const faith = faithfulnessTable(rows, objects, c.data.test, c.seeds);
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
    const figures: { name: string; figure: ReturnType<typeof lineFigure>; description: string; specs: StageSpec[] }[] =
      panels.flatMap(([key, yTitle, what]) => {
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
            description:
              `${what} per GRPO step (10-step mean), with and without the KL term, mean and 95% CI over ` + `seeds`,
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
        'geocot-kl',
        'sft-grpo',
        {
          id: 'g-cot-grpo',
          text: 'after GRPO, the model CoT-SFT’d on Geo-CoT traces beats the answer-only one',
          source: 'paper 001, ablation (SFT w/ vs w/o CoT, + GRPO)',
        },
        'Acc@0.5, CoT-SFT → GRPO − SFT → GRPO',
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
    // the task mix: per-task table, per-task reward curves of multi-task GRPO, one verdict
    const multi = await collectMulti(ctx, multiRef(c, 'test'));
    const mtable = multiTable(multi, c.data.test);
    const mgrpo = c.seeds.map((s) => multiSpec(c, MULTI_ROWS[1], s));
    const taskSeries = MIXED_TASKS.map((t) => ({ name: t, ...percent(curveOverSeeds(mgrpo, `task/${t}/score`, 10)) }));
    if (taskSeries.some((x) => x.x.length > 0))
      figures.push({
        name: 'geocot-multitask-scores',
        figure: lineFigure(
          'Multi-task GRPO: each task’s reward term per step',
          'GRPO step',
          'task score (%)',
          taskSeries.filter((x) => x.x.length > 0),
        ),
        description:
          'mean reward term of each task in the mixed batches (IoU, R_count, F1@0.5, VQA score) per GRPO step ' +
          '(10-step mean), mean and 95% CI over seeds',
        specs: mgrpo,
      });
    const perMix = (id: string) => multi.get(id)!.map((e) => e.results.map((r) => (r.iou >= 0.5 ? 1 : 0)));
    claims.push(
      judgePaired(
        {
          id: 'g-multi',
          text: 'multi-task GRPO after CoT-SFT improves over CoT-SFT on the task mix',
          source: 'paper 001, multi-task RFT',
        },
        multi.get('multi-cotsft-grpo')!.map((e) => e.acc50),
        multi.get('multi-cotsft')!.map((e) => e.acc50),
        {
          what: 'share of the task mix answered right, CoT-SFT → GRPO − CoT-SFT',
          samplesA: perMix('multi-cotsft-grpo'),
          samplesB: perMix('multi-cotsft'),
        },
      ),
    );
    const budget = Math.max(GEOCOT_BUDGET, c.arch.maxCompletionLen);
    const over = overBudget(
      groundingSplit('train', { count: Math.min(c.data.train, 2000) }),
      'geocot',
      worldTokenizer(c.arch.imageSize),
      budget,
    );
    const budgetNote =
      `Completion budget of the Geo-CoT rows: ${budget} tokens (the answer-only rows: ${c.arch.maxCompletionLen}, ` +
      `from the same bases); ${(100 * over).toFixed(1)}% of Geo-CoT train targets are longer and lose their answer ` +
      'in SFT.';
    const specs = specsOf(c, VARIANTS);
    return {
      tables: [
        { name: 'geocot', table: main, description: 'Geo-CoT rows on the test split', specs },
        { name: 'geocot-faithfulness', table: faith, description: 'structure and faithfulness of the traces', specs },
        {
          name: 'geocot-multitask',
          table: mtable,
          description: 'multi-task RFT on the task mix, per task',
          specs: MULTI_ROWS.flatMap((r) => c.seeds.map((s) => multiSpec(c, r, s))),
        },
      ],
      figures,
      claims,
      markdown: sectionMarkdown(
        'Geo-CoT (paper 001): CoT, GRPO after SFT, and the KL term',
        main,
        claims,
        [
          `The paper's numbers, quoted (${PAPER_GEOCOT.caption}; ours above are Acc@0.5 on the mini world, so ` +
            'compare the order of the rows, not the values):',
          '',
          tableMarkdown({
            title: PAPER_GEOCOT.caption,
            header: ['paper 001 row', 'our row', 'VG mIoU', 'counting MAE', 'detection mAP@0.5', 'VQA Acc'],
            rows: PAPER_GEOCOT.rows.map((r) => [r.label, r.ours, r.vgMiou, r.ocMae, r.detMap50, r.vqa]),
          }),
          '',
          tableMarkdown(faith),
          '',
          `_${faith.note}_`,
          '',
          budgetNote,
          '',
          tableMarkdown(mtable),
          '',
          `_${mtable.note}_`,
        ].join('\n'),
      ),
    };
  },
};
