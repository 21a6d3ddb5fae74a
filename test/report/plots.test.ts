import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { barFigure, heatmapFigure, lineFigure } from '../../lib/report/plots';

test('lineFigure: one trace per series, plus a closed band polygon when lo/hi are given', () => {
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
});

test('barFigure: bars grouped by row, missing cells null, non-finite errors drawn as 0', () => {
  const f = barFigure('t', '%', [
    { group: 'GRPO', name: 'Acc@0.5', value: 60, err: 1.5 },
    { group: 'GRPO', name: 'mIoU', value: 55, err: NaN },
    { group: 'full', name: 'Acc@0.5', value: 65 },
  ]);
  assert.is(f.data.length, 2);
  assert.equal(f.data[0].x, ['GRPO', 'full']);
  assert.equal(f.data[0].y, [60, 65]);
  assert.equal((f.data[0].error_y as { array: number[] }).array, [1.5, 0]);
  assert.equal(f.data[1].y, [55, null]);
  assert.equal((f.data[1].error_y as { array: number[] }).array, [0, 0]);
});

test('heatmapFigure: categorical axes, cell text with one decimal and a dash for missing', () => {
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
});

test.run();
