import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { iou, giou, diou, isValidBox, assertValidGt, clipBox, overlap, formatBox, type Box } from '../lib/boxes';
import { Rng } from '../lib/rng';
import { iouByCells } from './oracles';

const B = (x1: number, y1: number, x2: number, y2: number): Box => ({ x1, y1, x2, y2 });
const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

test('hand-computed: two unit-offset 2×2 boxes', () => {
  // a = [0,0,2,2], b = [1,1,3,3]: ∩ = 1, ∪ = 4 + 4 − 1 = 7 → IoU = 1/7.
  // enclosing [0,0,3,3] has area 9 → GIoU = 1/7 − (9 − 7)/9 = −5/63.
  // centres (1,1), (2,2): ρ² = 2; enclosing diagonal² = 9 + 9 = 18 → DIoU = 1/7 − 2/18 = 2/63.
  const a = B(0, 0, 2, 2),
    b = B(1, 1, 3, 3);
  close(iou(a, b), 1 / 7);
  close(giou(a, b), -5 / 63);
  close(diou(a, b), 2 / 63);
});

test('hand-computed: disjoint boxes', () => {
  // a = [0,0,1,1], b = [2,0,3,1]: IoU 0; C = [0,0,3,1] = 3, U = 2 → GIoU = −1/3.
  // centres (0.5,0.5), (2.5,0.5): ρ² = 4; c² = 3² + 1² = 10 → DIoU = −0.4.
  const a = B(0, 0, 1, 1),
    b = B(2, 0, 3, 1);
  close(iou(a, b), 0);
  close(giou(a, b), -1 / 3);
  close(diou(a, b), -0.4);
});

test('hand-computed: nested boxes share a centre', () => {
  // a = [0,0,4,4] ⊃ b = [1,1,3,3]: ∩ = 4, ∪ = 16 → 0.25; C = a → GIoU = IoU; ρ = 0 → DIoU = IoU.
  const a = B(0, 0, 4, 4),
    b = B(1, 1, 3, 3);
  close(iou(a, b), 0.25);
  close(giou(a, b), 0.25);
  close(diou(a, b), 0.25);
});

test('identical boxes score 1; touching boxes score 0 IoU', () => {
  const a = B(3, 4, 10, 12);
  close(iou(a, a), 1);
  close(giou(a, a), 1);
  close(diou(a, a), 1);
  close(iou(B(0, 0, 1, 1), B(1, 0, 2, 1)), 0);
});

test('invalid input: IoU 0, GIoU and DIoU −1', () => {
  const good = B(0, 0, 2, 2);
  for (const bad of [B(2, 0, 1, 1), B(0, 0, 0, 1), B(NaN, 0, 1, 1), B(0, 0, Infinity, 1)]) {
    assert.is(isValidBox(bad), false);
    assert.is(iou(bad, good), 0);
    assert.is(iou(good, bad), 0);
    assert.is(giou(bad, good), -1);
    assert.is(diou(good, bad), -1);
  }
});

test('an invalid ground truth is an error naming the sample and the box', () => {
  assert.throws(() => assertValidGt(B(5, 5, 1, 9), 'dior/00042'), /dior\/00042.*"x1":5/);
  assertValidGt(B(0, 0, 1, 1), 'ok');
});

test('properties on 2,000 random pairs: symmetry, bounds, GIoU ≤ IoU, DIoU ≤ IoU, translation invariance', () => {
  const rng = new Rng(11);
  const rb = () => {
    const x = rng.uniform(0, 50),
      y = rng.uniform(0, 50);
    return B(x, y, x + rng.uniform(0.1, 30), y + rng.uniform(0.1, 30));
  };
  for (let k = 0; k < 2000; k++) {
    const a = rb(),
      b = rb();
    const i = iou(a, b),
      g = giou(a, b),
      d = diou(a, b);
    close(i, iou(b, a));
    close(g, giou(b, a));
    close(d, diou(b, a));
    assert.ok(i >= 0 && i <= 1);
    assert.ok(g >= -1 && g <= 1 && g <= i + 1e-12);
    assert.ok(d > -1 && d <= 1 && d <= i + 1e-12);
    const dx = rng.uniform(-20, 20),
      dy = rng.uniform(-20, 20);
    const t = (q: Box) => B(q.x1 + dx, q.y1 + dy, q.x2 + dx, q.y2 + dy);
    close(iou(t(a), t(b)), i, 1e-9);
    close(giou(t(a), t(b)), g, 1e-9);
    close(diou(t(a), t(b)), d, 1e-9);
  }
});

test('IoU agrees with an independent cell-counting oracle on half-integer boxes', () => {
  const rng = new Rng(12);
  const rb = () => {
    const x = rng.int(0, 40) / 2,
      y = rng.int(0, 40) / 2;
    return B(x, y, x + rng.int(1, 24) / 2, y + rng.int(1, 24) / 2);
  };
  for (let k = 0; k < 300; k++) {
    const a = rb(),
      b = rb();
    close(iou(a, b), iouByCells(a, b, 2), 1e-12);
  }
});

test('clipBox, overlap and formatBox', () => {
  assert.equal(clipBox(B(-3, 2, 70, 80), 64, 64), B(0, 2, 64, 64));
  assert.equal(overlap(B(0, 0, 2, 2), B(1, 1, 3, 3)), { inter: 1, union: 7 });
  assert.equal(overlap(null, B(1, 1, 3, 3)), { inter: 0, union: 4 });
  assert.is(formatBox(B(1.4, 2.6, 3, 4)), '[1, 3, 3, 4]');
});

test.run();
