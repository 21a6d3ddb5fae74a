import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxWeightAssignment } from '../lib/hungarian';
import { Rng } from '../lib/rng';
import { bruteAssignmentValue } from './oracles';

const value = (w: number[][], a: number[]) => a.reduce((s, c, r) => s + (c >= 0 ? w[r][c] : 0), 0);

test('hand-computed 3×3', () => {
  // Greedy would take 0.9 (r0,c0) and then 0.1 + 0.1; optimum is 0.8 + 0.8 + 0.7.
  const w = [
    [0.9, 0.8, 0.0],
    [0.8, 0.1, 0.0],
    [0.0, 0.1, 0.7],
  ];
  const a = maxWeightAssignment(w);
  assert.equal(a, [1, 0, 2]);
  assert.ok(Math.abs(value(w, a) - 2.3) < 1e-12);
});

test('rectangular and empty shapes', () => {
  assert.equal(maxWeightAssignment([]), []);
  assert.equal(maxWeightAssignment([[], []]), [-1, -1]);
  assert.equal(maxWeightAssignment([[0.1, 0.9, 0.3]]), [1]);
  const a = maxWeightAssignment([[0.5], [0.7], [0.2]]);
  assert.equal(a.filter((c) => c === 0).length, 1);
  assert.is(a[1], 0);
  assert.throws(() => maxWeightAssignment([[NaN]]), /non-finite/);
});

test('optimal against brute force on 300 random matrices, one-to-one', () => {
  const rng = new Rng(41);
  for (let k = 0; k < 300; k++) {
    const r = rng.int(1, 5),
      c = rng.int(1, 5);
    const w = Array.from({ length: r }, () => Array.from({ length: c }, () => (rng.bool(0.3) ? 0 : rng.float())));
    const a = maxWeightAssignment(w);
    const used = a.filter((x) => x >= 0);
    assert.is(new Set(used).size, used.length, 'a column used twice');
    assert.ok(Math.abs(value(w, a) - bruteAssignmentValue(w)) < 1e-9);
  }
});

test.run();
