/**
 * The products bench (bench/products.ts) times the default GRPO step's products by shape: the
 * shapes, hand-computed from the default scale (B 8 × G 8 × 64 tokens = 4096 rows, d 96, FFN 288,
 * heads of 24, 8×8 patches + 16 query tokens = 80 memory positions).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { policyProducts } from '../../bench/products';

test('the default step: linear layers over 4096 rows, heads of 64 × 24, 80 memory positions', () => {
  const shapes = policyProducts().map((p) => [p.batch, p.M, p.N, p.K, p.tA, p.tB]);
  assert.equal(shapes, [
    [1, 4096, 288, 96, false, false],
    [1, 4096, 96, 288, false, false],
    [1, 4096, 96, 96, false, false],
    [1, 4096, 96, 288, false, true],
    [1, 96, 288, 4096, true, false],
    [256, 64, 64, 24, false, true],
    [256, 64, 24, 64, false, false],
    [256, 64, 24, 64, true, false],
    [256, 64, 80, 24, false, true],
  ]);
});

test('each name states its shape', () => {
  for (const p of policyProducts()) assert.ok(p.name.includes(`${p.M}×${p.N}×${p.K}`), p.name);
});

test.run();
