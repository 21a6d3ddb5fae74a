/**
 * npm run score -- --dataset <name> [--data-root DIR] --split <split> --predictions <file.jsonl>
 *                  --boxes <convention> [--json out.json] [--out DIR] [--compare other.jsonl] [--lenient]
 *
 * A real model's predictions against a benchmark: Acc@0.5/0.7, mIoU, cIoU with 95% bootstrap CIs,
 * breakdowns by class, object size and expression type, format failures, the reward terms the
 * predictions would have earned, the paper's Table 1 beside them, a paired comparison with another
 * model, an IoU histogram and the worst cases drawn over their images. Markdown + CSV + JSON, with
 * provenance.
 */
import { Command, InvalidArgumentError } from 'commander';
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import { DATASETS, type DatasetName, loadDataset } from '../lib/data/datasets';
import { BOX_CONVENTIONS, type BoxConvention } from '../lib/data/conventions';
import {
  type Comparison,
  type SampleScore,
  type Summary,
  breakdown,
  compareScores,
  readPredictions,
  rewardTerms,
  scorePredictions,
  summarize,
  SIZE_THRESHOLDS,
} from '../lib/score';
import { PAPER } from '../lib/report/paper';
import { markdownTable } from '../lib/report/tables';
import { gitCommit, sha256, writeFileAtomic, writeJsonAtomic } from '../lib/files';
import { readFileSync } from 'node:fs';
import { imageRgb } from '../lib/data/images';
import { renderImage, hstack } from '../lib/data/render';
import type { GroundingSample } from '../lib/data/samples';

const oneOf = (name: string, allowed: readonly string[]) => (v: string) => {
  if (!allowed.includes(v))
    throw new InvalidArgumentError(`--${name} ${v} is invalid (allowed: ${allowed.join(', ')})`);
  return v;
};
const size = (v: string) => {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`--model-size expects WIDTHxHEIGHT, got "${v}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
};
const posInt = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`--${name} must be an integer ≥ 1, got "${v}"`);
  return Number(v);
};

const program = new Command('npm run score')
  .description(
    'Score a model\'s predictions (JSONL: one {"id", "text"} or {"id", "box"} per sample) against a benchmark split.',
  )
  .requiredOption('--predictions <file>', 'the predictions JSONL')
  .option('--dataset <name>', DATASETS.join(' | '), oneOf('dataset', DATASETS), 'synthetic')
  .option('--data-root <dir>', 'where the dataset lives ($RSG_DATA_ROOT)')
  .option('--split <split>', 'the split to score against', 'test')
  .option('--count <n>', 'only the first n samples of the split', posInt('count'))
  .option(
    '--boxes <convention>',
    `how the model writes boxes: ${BOX_CONVENTIONS.join(' | ')}`,
    oneOf('boxes', BOX_CONVENTIONS),
    'pixels',
  )
  .option(
    '--model-size <WxH>',
    'qwen25vl-resized: the input size the model saw (default: computed by smart_resize)',
    size,
  )
  .option('--min-pixels <n>', "qwen25vl-resized: the processor's min_pixels", posInt('min-pixels'))
  .option('--max-pixels <n>', "qwen25vl-resized: the processor's max_pixels", posInt('max-pixels'))
  .option(
    '--parse <mode>',
    'answer: the first <answer> block (SPEC §3.1); anywhere: also a bare [x1, y1, x2, y2]',
    oneOf('parse', ['answer', 'anywhere']),
    'answer',
  )
  .option('--compare <file>', "a second model's predictions: paired bootstrap CI of the difference and McNemar's test")
  .option(
    '--compare-boxes <convention>',
    'the coordinate convention of --compare (default: --boxes)',
    oneOf('compare-boxes', BOX_CONVENTIONS),
  )
  .option('--json <file>', 'also write the summary JSON here')
  .option('--out <dir>', 'where the report goes (default: scores/<predictions name>)')
  .option('--lenient', 'count bad or missing records as failed answers (listed) instead of stopping')
  .option('--no-figures', 'skip the IoU histogram and the worst-case images')
  .showHelpAfterError('(npm run score -- --help for the options)');

type Opts = {
  predictions: string;
  dataset: DatasetName;
  dataRoot?: string;
  split: string;
  count?: number;
  boxes: BoxConvention;
  modelSize?: { width: number; height: number };
  minPixels?: number;
  maxPixels?: number;
  parse: 'answer' | 'anywhere';
  compare?: string;
  compareBoxes?: BoxConvention;
  json?: string;
  out?: string;
  lenient?: boolean;
  figures: boolean;
};

const f2 = (x: number) => x.toFixed(2);
const metricCell = (m: { value: number; lo: number; hi: number }) => `${f2(m.value)} [${f2(m.lo)}, ${f2(m.hi)}]`;

async function worstCases(samples: GroundingSample[], scores: SampleScore[], k = 6): Promise<Buffer> {
  const byId = new Map(samples.map((s) => [s.id, s]));
  const worst = [...scores].sort((a, b) => a.iou - b.iou || a.id.localeCompare(b.id)).slice(0, k);
  const pngs: Buffer[] = [];
  for (const w of worst) {
    const s = byId.get(w.id)!;
    const rgb = await imageRgb(s.image);
    // Thumbnails of at most 256 px, the boxes scaled with them.
    const f = Math.min(1, 256 / Math.max(s.image.width, s.image.height));
    const W = Math.max(1, Math.round(s.image.width * f)),
      H = Math.max(1, Math.round(s.image.height * f));
    const small =
      f < 1
        ? await sharp(rgb, { raw: { width: s.image.width, height: s.image.height, channels: 3 } })
            .resize(W, H)
            .raw()
            .toBuffer()
        : Buffer.from(rgb);
    const sc = (b: { x1: number; y1: number; x2: number; y2: number }) => ({
      x1: b.x1 * f,
      y1: b.y1 * f,
      x2: b.x2 * f,
      y2: b.y2 * f,
    });
    const k = Math.max(1, Math.round(256 / Math.max(W, H)));
    const room = Math.floor((W * k) / 8.5) - 10; // DejaVu Sans 14 px: ~8.5 px a character
    const q = s.query.length > room ? `${s.query.slice(0, room - 1)}…` : s.query;
    const caption = `IoU ${w.iou.toFixed(2)} · ${q}`;
    const boxes = w.box ? [{ box: sc(w.box), label: 'pred' }] : [];
    pngs.push(
      await renderImage(
        { width: W, height: H, rgb: new Uint8Array(small) },
        { gt: [sc(s.gt)], boxes, caption, scale: k },
      ),
    );
  }
  return hstack(pngs);
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Opts>();
  const conv = {
    modelSize: o.modelSize,
    minPixels: o.minPixels,
    maxPixels: o.maxPixels,
    parse: o.parse,
    lenient: o.lenient,
  };
  const samples = await loadDataset({ dataset: o.dataset, root: o.dataRoot, split: o.split, count: o.count });
  const score = (file: string, boxes: BoxConvention) => {
    const r = readPredictions(file, { lenient: o.lenient });
    const s = scorePredictions(file, samples, r.preds, boxes, conv);
    return { scores: s.scores, problems: [...r.problems, ...s.problems] };
  };
  const main = score(o.predictions, o.boxes);
  const summary: Summary = summarize(main.scores);
  const formatFailures = main.scores.filter((s) => s.format === 0).length;
  const unparsed = main.scores.filter((s) => s.box === null).length;
  const byClass = breakdown(main.scores, (s) => s.category);
  const bySize = breakdown(main.scores, (s) => s.size);
  const byCue = breakdown(main.scores, (s) => s.cue);
  const rewards = rewardTerms(main.scores);
  let comparison: Comparison | null = null;
  if (o.compare) comparison = compareScores(main.scores, score(o.compare, o.compareBoxes ?? o.boxes).scores);
  const out = resolve(o.out ?? join('scores', basename(o.predictions).replace(/\.jsonl?$/, '')));
  mkdirSync(out, { recursive: true });
  const json = {
    n: summary.n,
    acc50: summary.acc50.value,
    acc70: summary.acc70.value,
    miou: summary.miou.value,
    ciou: summary.ciou.value,
    ci95: { acc50: summary.acc50, acc70: summary.acc70, miou: summary.miou, ciou: summary.ciou },
    formatFailures,
    unparsed,
    byClass,
    bySize,
    byExpression: byCue,
    rewards,
    comparison,
    problems: main.problems,
    dataset: o.dataset,
    split: o.split,
    boxes: o.boxes,
    predictions: resolve(o.predictions),
  };
  writeJsonAtomic(join(out, 'score.json'), json);
  if (o.json) writeJsonAtomic(resolve(o.json), json);
  writeFileAtomic(
    join(out, 'per-sample.csv'),
    [
      'id,iou,acc50,format,category,size,expression,x1,y1,x2,y2',
      ...main.scores.map((s) =>
        [
          JSON.stringify(s.id),
          s.iou.toFixed(6),
          s.iou >= 0.5 ? 1 : 0,
          s.format,
          JSON.stringify(s.category),
          s.size,
          s.cue ?? '',
          ...(s.box ? [s.box.x1, s.box.y1, s.box.x2, s.box.y2].map((v) => v.toFixed(2)) : ['', '', '', '']),
        ].join(','),
      ),
    ].join('\n') + '\n',
  );
  const P = PAPER.table1.rows;
  const md = [
    `# ${basename(o.predictions)} on ${o.dataset} ${o.split} (${summary.n} samples)`,
    '',
    markdownTable(
      ['metric', 'ours (95% bootstrap CI over samples)'],
      [
        ['Acc@0.5', metricCell(summary.acc50)],
        ['Acc@0.7', metricCell(summary.acc70)],
        ['mIoU', metricCell(summary.miou)],
        ['cIoU', metricCell(summary.ciou)],
        ['format failures (R_format = 0, SPEC §3.1)', `${formatFailures} of ${summary.n}`],
        ['no box could be read', `${unparsed} of ${summary.n}`],
      ],
    ),
    '',
    "**The paper's Table 1 (DIOR-RSVG test), quoted:**",
    '',
    markdownTable(
      ['model', 'Acc@0.5', 'Acc@0.7', 'mIoU'],
      Object.values(P).map((r) => [r.label, f2(r.acc50), f2(r.acc70), f2(r.miou)]),
    ),
    '',
    '**Reward terms the predictions would have earned** (SPEC §3, means over samples):',
    '',
    markdownTable(
      ['term', 'mean'],
      Object.entries(rewards).map(([k, v]) => [k, v.toFixed(4)]),
    ),
    '',
    ...(
      [
        ['class', byClass],
        [
          `object size (box area / image area: small < ${SIZE_THRESHOLDS.small}, medium < ${SIZE_THRESHOLDS.medium})`,
          bySize,
        ],
        ['expression type', byCue],
      ] as const
    )
      .filter(([, b]) => b.length)
      .flatMap(([what, b]) => [
        `**By ${what}:**`,
        '',
        markdownTable(
          [what.split(' (')[0], 'n', 'Acc@0.5', 'mIoU'],
          b.map((g) => [g.group, String(g.n), f2(g.acc50), f2(g.miou)]),
        ),
        '',
      ]),
    ...(comparison
      ? [
          `**Paired comparison with ${basename(o.compare!)}** (this − that, same ${comparison.n} samples):`,
          '',
          markdownTable(
            ['', 'difference (95% paired bootstrap CI)'],
            [
              ['Acc@0.5 (points)', metricCell(comparison.acc50)],
              ['mIoU (points)', metricCell(comparison.miou)],
              [
                'McNemar on Acc@0.5',
                `right only here ${comparison.mcnemar.b}, only there ${comparison.mcnemar.c}, ` +
                  `p = ${comparison.mcnemar.p.toPrecision(3)}`,
              ],
            ],
          ),
          '',
        ]
      : []),
    ...(main.problems.length
      ? [
          '**Problems counted as failed answers (--lenient):**',
          '',
          ...main.problems.slice(0, 50).map((p) => `- line ${p.line}: ${p.problem}`),
          '',
        ]
      : []),
    ...(o.figures
      ? [
          '![IoU distribution](iou-histogram.svg)',
          '',
          'The six worst cases (ground truth solid green, prediction dashed red):',
          '',
          '![worst cases](worst-cases.png)',
          '',
        ]
      : []),
  ].join('\n');
  writeFileAtomic(join(out, 'score.md'), md);
  if (o.figures) {
    const { FigureExporter } = await import('../lib/report/export');
    const bins = Array.from({ length: 10 }, (_, i) => i / 10);
    const counts = bins.map(
      (b, i) =>
        main.scores.filter((s) => (i === 0 ? s.iou < 0.1 : s.iou >= b && (i === 9 ? true : s.iou < b + 0.1))).length,
    );
    const fig = {
      data: [
        {
          type: 'bar',
          x: bins.map((b) => `${(100 * b).toFixed(0)}–${(100 * b + 10).toFixed(0)}`),
          y: counts.map((c) => (100 * c) / Math.max(1, main.scores.length)),
          marker: { color: '#1f77b4' },
        },
      ],
      layout: {
        title: { text: `IoU of the predictions (${summary.n} samples)`, x: 0.02, xanchor: 'left' },
        font: { family: 'DejaVu Sans', size: 12 },
        xaxis: { title: { text: 'IoU with the ground truth (%)' }, type: 'category' },
        yaxis: { title: { text: 'share of samples (%)' } },
        width: 640,
        height: 400,
        margin: { l: 70, r: 20, t: 50, b: 90 },
        showlegend: false,
      },
    };
    const ex = await FigureExporter.start();
    try {
      await ex.write(
        out,
        'iou-histogram',
        fig,
        {
          description: 'IoU distribution of the predictions',
          runs: [],
          configHashes: [],
          seeds: [],
          backend: 'none',
          generatedBy: 'npm run score',
        },
        `${o.dataset} ${o.split} · ${basename(o.predictions)} · npm run score`,
      );
    } finally {
      await ex.close();
    }
    writeFileAtomic(join(out, 'worst-cases.png'), await worstCases(samples, main.scores));
  }
  writeJsonAtomic(join(out, 'provenance.json'), {
    command: `npm run score -- ${process.argv.slice(2).join(' ')}`,
    predictionsSha256: sha256(readFileSync(o.predictions)),
    dataset: o.dataset,
    split: o.split,
    boxes: o.boxes,
    commit: gitCommit(),
  });
  console.log(
    `${o.dataset} ${o.split}: n ${summary.n}, Acc@0.5 ${metricCell(summary.acc50)}, ` +
      `Acc@0.7 ${metricCell(summary.acc70)}, mIoU ${metricCell(summary.miou)}, cIoU ${metricCell(summary.ciou)}, ` +
      `format failures ${formatFailures}`,
  );
  if (comparison)
    console.log(
      `vs ${basename(o.compare!)}: Δ Acc@0.5 ${metricCell(comparison.acc50)}, ` +
        `McNemar p = ${comparison.mcnemar.p.toPrecision(3)}`,
    );
  console.log(
    `wrote ${out}/{score.md,score.json,per-sample.csv${o.figures ? ',iou-histogram.svg,worst-cases.png' : ''}}` +
      (o.json ? ` and ${o.json}` : ''),
  );
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
});
