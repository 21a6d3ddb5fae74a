/** Figure export through headless Chromium: byte-identical output for the same spec. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FigureExporter } from '../../lib/report/export';
import { lineFigure } from '../../lib/report/plots';

test('the same figure renders to identical SVG and PNG bytes twice, and a different one differs', async () => {
  const fig = lineFigure('R_pos vs IoU', 'offset (px)', 'reward', [
    { name: 'IoU', x: [0, 1, 2, 3], y: [1, 0.6, 0.2, 0], lo: [0.9, 0.5, 0.1, 0], hi: [1, 0.7, 0.3, 0.1] },
  ]);
  const ex = await FigureExporter.start();
  try {
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
  } finally {
    await ex.close();
  }
});

test.run();
