/**
 * controls — can this scale resolve a reward's effect at all? Three controls on the test split,
 * paired by seed, each with the same inits, seeds and steps as the GRPO baseline:
 * - positive: GRPO with R_format + R_IoU vs GRPO with R_format alone — must be significantly
 *   better (an IoU reward that teaches nothing would make every reward comparison moot);
 * - negative: GRPO whose IoU reward scores another query's box vs the real one — must be
 *   significantly worse (a testbed in which a wrong reward does no harm cannot see harm);
 * - A/A: the baseline under a second, disjoint set of GRPO seeds vs the first — the interval of
 *   the difference must cover 0 (the intervals are not too narrow).
 * REPORT.md shows them first; when one fails, every verdict at that scale is marked
 * uninterpretable.
 */
import { collect, comparisonTable, perSample, perSeed, rowsFigure, type Rows } from './results';
import { dataRef, specsOf } from './specs';
import { V } from './variants';
import { judgePaired } from '../lib/report/verdicts';
import { formatInterval } from '../lib/stats';
import type { Experiment, Report } from './types';
import type { ControlResult } from './types';
import { markdownTable } from '../lib/report/tables';
import { sectionMarkdown } from './markdown';

const VARIANTS = [V.grpo, V.grpoFormatOnly, V.grpoWrongBox, V.grpoAA];

/** The three controls from rows of the four variants. */
export function controlResults(rows: Rows): ControlResult[] {
  const judge = (a: string, b: string) =>
    judgePaired({ id: 'control', text: '', source: '' }, perSeed(rows.get(a), 'acc50'), perSeed(rows.get(b), 'acc50'), {
      what: `${a} − ${b}`,
      samplesA: perSample(rows.get(a), 'acc50'),
      samplesB: perSample(rows.get(b), 'acc50'),
    }).diff!;

  const pos = judge('grpo', 'grpo-format-only');
  const neg = judge('grpo-wrong-box', 'grpo');
  const aa = judge('grpo-aa', 'grpo');
  return [
    {
      control: 'positive: GRPO (R_format + R_IoU) − GRPO (R_format only)',
      expected: 'significantly better: CI above 0',
      difference: formatInterval(pos),
      passes: pos.lo > 0,
    },
    {
      control: "negative: GRPO (R_IoU against another query's box) − GRPO (R_IoU)",
      expected: 'significantly worse: CI below 0',
      difference: formatInterval(neg),
      passes: neg.hi < 0,
    },
    {
      control: 'A/A: GRPO (second seed set) − GRPO (first seed set)',
      expected: 'CI covers 0',
      difference: formatInterval(aa),
      passes: aa.lo <= 0 && aa.hi >= 0,
    },
  ];
}

export const experiment: Experiment = {
  name: 'controls',
  paper: 'none (a check of the testbed)',
  description: 'positive, negative and A/A controls: can this scale resolve a reward effect?',
  specs: (c) => specsOf(c, VARIANTS),
  async report(ctx): Promise<Report> {
    const c = ctx.config;
    const rows = await collect('controls', c, VARIANTS, dataRef(c, 'test', c.data.test), ctx.pool);
    const controls = controlResults(rows);
    const table = comparisonTable(
      `Controls: the rows they compare (test split, ${c.data.test} samples)`,
      rows.list,
      [],
      'Mean ± 95% CI (Student t) over seeds, in %. The A/A row trains with GRPO seeds offset by 1000 from the same ' +
        'base models. Differences are paired by seed (Acc@0.5, points).',
    );
    const specs = specsOf(c, VARIANTS);
    return {
      tables: [
        { name: 'controls', table, description: 'the rows the controls compare', specs },
        {
          name: 'controls-verdicts',
          table: {
            title: 'Controls (test Acc@0.5, paired by seed, points)',
            header: ['control', 'expected', 'difference (95% CI)', 'passes'],
            rows: controls.map((r) => [r.control, r.expected, r.difference, r.passes ? 'yes' : 'no']),
          },
          description: 'positive, negative and A/A controls',
          specs,
        },
      ],
      figures: [
        {
          name: 'controls',
          figure: rowsFigure('Controls', rows.list),
          description: 'the control rows with 95% CIs',
          specs,
        },
      ],
      claims: [],
      controls,
      markdown: sectionMarkdown('Controls — the rows', table, [], controlsMarkdown(controls)),
    };
  },
};

/** The controls table as Markdown (the columns REPORT.md promises). */
export function controlsMarkdown(rows: ControlResult[]): string {
  return markdownTable(
    ['control', 'expected', 'difference (95% CI)', 'passes'],
    rows.map((r) => [r.control, r.expected, r.difference, r.passes ? 'yes' : 'no']),
  );
}
