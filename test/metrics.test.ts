import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accuracyAt, groundingMetrics, evaluateBoxes, cumulativeIoU, pct } from '../lib/metrics';
import { iou, overlap, type Box } from '../lib/boxes';
import { Rng } from '../lib/rng';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

test('Acc@τ uses ≥ (ties count), mIoU, cIoU hand-computed', () => {
  const ious = [0.5, 0.7, 0.69, 0.2];
  close(accuracyAt(ious, 0.5), 3 / 4);
  close(accuracyAt(ious, 0.7), 1 / 4);
  // inters/unions: (1/2 + 7/10 + 0 + 2/10) → Σ∩ = 1 + 7 + 0 + 2 = 10, Σ∪ = 2 + 10 + 5 + 10 = 27.
  const m = groundingMetrics(ious, [1, 7, 0, 2], [2, 10, 5, 10]);
  close(m.miou, 2.09 / 4);
  close(m.ciou, 10 / 27);
  assert.is(m.n, 4);
  assert.is(pct(0.63251), '63.25');
  assert.is(cumulativeIoU([], []), 0);
});

test('evaluateBoxes: unparseable answers count as IoU 0 and add their GT area to the union', () => {
  const gts: Box[] = [
    { x1: 0, y1: 0, x2: 2, y2: 2 },
    { x1: 0, y1: 0, x2: 4, y2: 4 },
  ];
  const m = evaluateBoxes([{ x1: 0, y1: 0, x2: 2, y2: 2 }, null], gts);
  close(m.acc50, 0.5);
  close(m.miou, 0.5);
  close(m.ciou, 4 / (4 + 16));
  assert.throws(() => evaluateBoxes([null], gts), /1 predictions for 2 targets/);
});

test('metrics agree with a per-element recomputation on random boxes', () => {
  const rng = new Rng(31);
  const preds: (Box | null)[] = [],
    gts: Box[] = [];
  for (let i = 0; i < 400; i++) {
    const g = { x1: rng.int(0, 50), y1: rng.int(0, 50), x2: 0, y2: 0 };
    g.x2 = g.x1 + rng.int(2, 14);
    g.y2 = g.y1 + rng.int(2, 14);
    gts.push(g);
    preds.push(
      rng.bool(0.1)
        ? null
        : {
            x1: g.x1 + rng.int(-4, 4),
            y1: g.y1 + rng.int(-4, 4),
            x2: g.x2 + rng.int(-4, 4),
            y2: g.y2 + rng.int(-4, 4),
          },
    );
  }
  const m = evaluateBoxes(preds, gts);
  let hit5 = 0,
    hit7 = 0,
    s = 0,
    si = 0,
    su = 0;
  preds.forEach((p, i) => {
    const v = p ? iou(p, gts[i]) : 0;
    if (v >= 0.5) hit5++;
    if (v >= 0.7) hit7++;
    s += v;
    const o = overlap(p, gts[i]);
    si += o.inter;
    su += o.union;
  });
  close(m.acc50, hit5 / 400);
  close(m.acc70, hit7 / 400);
  close(m.miou, s / 400, 1e-12);
  close(m.ciou, si / su);
});

test.run();
