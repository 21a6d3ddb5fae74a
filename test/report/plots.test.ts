import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  color,
  diffHeatmapFigure,
  heatmapFigure,
  lineFigure,
  rowsFigure,
  textWidth,
  wrap,
} from '../../lib/report/plots';

test('lineFigure: a trace per series, a closed band polygon for lo/hi, the legend right of the plot', () => {
  const f = lineFigure('t', 'step', 'acc', [
    { name: 'a', x: [0, 1, 2], y: [1, 2, 3], lo: [0, 1, 2], hi: [2, 3, 4] },
    { name: 'b', x: [0, 1], y: [5, 6] },
  ]);
  assert.is(f.data.length, 3);
  // band: hi left→right then lo right→left
  assert.equal(f.data[0].x, [0, 1, 2, 2, 1, 0]);
  assert.equal(f.data[0].y, [2, 3, 4, 2, 1, 0]);
  assert.is(f.data[0].showlegend, false);
  assert.equal(f.data[1].y, [1, 2, 3]);
  assert.is(f.data[2].name, 'b');
  assert.is((f.layout.font as { family: string }).family, 'DejaVu Sans');
  assert.is((f.layout.legend as { x: number }).x, 1.02);
});

test("lineFigure: a series takes its hue's colour when given one, else its place's; its band the same", () => {
  const f = lineFigure('t', 'step', 'acc', [
    { name: 'a', x: [0, 1], y: [1, 2] },
    { name: 'b', x: [0, 1], y: [1, 2], lo: [0, 1], hi: [2, 3], hue: 0, dash: 'dash' },
    { name: 'c', x: [0, 1], y: [3, 4] },
  ]);
  const line = (i: number) => (f.data[i].line as { color: string; dash: string }).color;
  assert.is(line(0), color(0));
  assert.is(f.data[1].fillcolor, 'rgba(31, 119, 180, 0.15)', 'the band: the hue (#1f77b4) at 15% opacity');
  assert.equal([line(2), (f.data[2].line as { dash: string }).dash], [color(0), 'dash']);
  assert.is(line(3), color(2), 'without a hue: its place');
});

test('rowsFigure: horizontal bars per metric, a left margin that fits every label, seeds and paper as points', () => {
  const long = 'RSGround-R1 (CoT-SFT → GRPO + R_pos + L_SC)';
  const f = rowsFigure('Table 1', [
    { label: 'GRPO', values: [{ metric: 'Acc@0.5', mean: 60, err: 1.5, seeds: [59, 60, 61], paper: 66.65 }] },
    { label: long, values: [{ metric: 'Acc@0.5', mean: 65, err: NaN, seeds: [65] }] },
  ]);
  const bars = f.data.filter((d) => d.type === 'bar');
  assert.is(bars.length, 1);
  assert.is(bars[0].orientation, 'h');
  assert.equal(bars[0].y, ['GRPO', long]);
  assert.equal((bars[0].error_x as { array: number[] }).array, [1.5, 0]);
  assert.ok((f.layout.margin as { l: number }).l >= textWidth(long), 'room for the longest label');
  const seeds = f.data.find((d) => d.name === 'one seed')!;
  assert.equal(seeds.x, [59, 60, 61, 65]);
  const paper = f.data.find((d) => String(d.name).startsWith('paper'))!;
  assert.equal([paper.x, paper.y], [[66.65], ['GRPO']]);
  assert.match(String((f.layout.xaxis as { title: { text: string } }).title.text), '(%)');
});

test('diffHeatmapFigure: diverging scale centred on 0 over a fixed range; significant cells starred', () => {
  const f = diffHeatmapFigure(
    't',
    'β',
    'α',
    [0.1, 0.3],
    [1, 2.5],
    [
      [0, 1.234],
      [-2, NaN],
    ],
    [
      [0, 0.5],
      [1, NaN],
    ],
    [
      [false, true],
      [true, false],
    ],
    [0, 0],
    5,
  );
  const h = f.data[0] as Record<string, unknown>;
  assert.equal([h.colorscale, h.zmid, h.zmin, h.zmax], ['RdBu', 0, -5, 5]);
  assert.equal(h.text, [
    ['baseline', '+1.2 ± 0.5 *'],
    ['−2.0 ± 1.0 *', '–'],
  ]);
});

test('heatmapFigure and wrap: categorical axes, cell text, titles broken into lines', () => {
  const f = heatmapFigure(
    't',
    'α',
    'β',
    [1, 2.5],
    [0, 0.1],
    [
      [1.234, NaN],
      [3, 4],
    ],
  );
  assert.equal(f.data[0].x, ['1', '2.5']);
  assert.equal(f.data[0].text, [
    ['1.2', '–'],
    ['3.0', '4.0'],
  ]);
  assert.is(wrap('a bb ccc dddd', 6), 'a bb<br>ccc<br>dddd');
});

test.run();
