/** Figure export through headless Chromium: byte-identical output, a caption line, and the figure lint. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FigureExporter, captioned } from '../../lib/report/export';
import { diffHeatmapFigure, lineFigure, rowsFigure } from '../../lib/report/plots';

const ex = await FigureExporter.start();

test('the same figure renders to identical SVG and PNG bytes twice, and a different one differs', async () => {
  const fig = lineFigure('R_pos vs IoU', 'offset (px)', 'reward', [
    { name: 'IoU', x: [0, 1, 2, 3], y: [1, 0.6, 0.2, 0], lo: [0.9, 0.5, 0.1, 0], hi: [1, 0.7, 0.3, 0.1] },
  ]);
  const a = await ex.render(fig);
  const b = await ex.render(fig);
  assert.ok(a.svg.startsWith('<svg'), a.svg.slice(0, 40));
  assert.ok(a.png.subarray(1, 4).toString() === 'PNG');
  assert.is(a.svg, b.svg);
  assert.ok(a.png.equals(b.png), 'PNG bytes differ between renders');
  const c = await ex.render(
    lineFigure('R_pos vs IoU', 'offset (px)', 'reward', [{ name: 'IoU', x: [0, 1, 2, 3], y: [1, 0.5, 0.2, 0] }]),
  );
  assert.is.not(c.svg, a.svg);
});

test('the lint finds text that leaves the canvas and text that overlaps text', async () => {
  const W = 200,
    H = 100;
  const svg = (body: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${body}</svg>`;
  assert.equal(await ex.lint(svg('<text x="10" y="20" font-size="12">fine</text>')), []);
  const out = await ex.lint(svg('<text x="150" y="20" font-size="12">a label that runs off</text>'));
  assert.is(out.length, 1);
  assert.match(out[0], 'leaves the 200×100 canvas');
  const both = await ex.lint(
    svg('<text x="10" y="50" font-size="12">first words</text><text x="20" y="52" font-size="12">second</text>'),
  );
  assert.equal(both, ['text "first words" overlaps "second"']);
});

test('a curve of one point (one logged step) shows the point and passes the lint', async () => {
  // Geo-CoT's evidence-match curve at the quick scale: one rollout batch had evidence, at step 7.
  const f = lineFigure('Geo-CoT → GRPO: evidence on target (%)', 'GRPO step', 'evidence on target (%)', [
    { name: 'no KL', x: [7], y: [50], lo: [50], hi: [50] },
  ]);
  assert.equal((f.layout.xaxis as { range: number[] }).range, [5.92, 8.08]);
  assert.is((f.data[1] as { mode: string }).mode, 'lines+markers');
  const { svg } = await ex.render(f);
  assert.equal(await ex.lint(svg), []);
});

test('figures with long labels, many series, captions and heatmaps pass the lint', async () => {
  const rows = [
    'base model (no RFT)',
    'SFT (answer-only)',
    'GRPO (R_format + R_IoU)',
    'RSGround-R1 (CoT-SFT → GRPO + R_pos + L_SC)',
  ].map((label, i) => ({
    label,
    values: ['Acc@0.5', 'mIoU'].map((metric) => ({
      metric,
      mean: 20 + 10 * i,
      err: 2,
      seeds: [19 + 10 * i, 21 + 10 * i],
      paper: i ? 60 + i : undefined,
    })),
  }));
  const caption = 'default scale · seeds 1–5 · blas · trained at 0123456789ab · npm run experiment table1';
  const figs = [
    rowsFigure('Table 1: in-domain test split, a title long enough that it has to wrap onto a second line', rows),
    lineFigure(
      'GRPO knobs: val Acc@0.5 during training',
      'GRPO step',
      'val Acc@0.5 (%)',
      Array.from({ length: 7 }, (_, i) => ({
        name: `GRPO, a knob with a long description number ${i}`,
        x: [0, 50, 100],
        y: [20, 22 + i, 25],
        lo: [19, 20, 21],
        hi: [21, 24, 27],
      })),
    ),
    diffHeatmapFigure(
      'L_SC sweep (λm × λv): validation Acc@0.5, difference from the baseline (points; * = paired 95% CI excludes 0)',
      'λv',
      'λm',
      [0, 1, 3],
      [0, 1.2, 2.4],
      [
        [0, 1.5, -2.25],
        [0.5, 3.25, -1],
        [2, -4.5, 0.1],
      ],
      [
        [0, 1, 1],
        [1, 1, 1],
        [1, 1, 1],
      ],
      [
        [false, true, true],
        [false, true, false],
        [true, true, false],
      ],
      [0, 0],
      5,
    ),
  ];
  for (const f of figs) {
    const { svg } = await ex.render(captioned(f, caption));
    assert.equal(await ex.lint(svg), [], String((f.layout.title as { text: string }).text));
    assert.match(svg, 'trained at 0123456789ab');
  }
});

test.after(() => ex.close());
test.run();
