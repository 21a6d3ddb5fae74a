import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng, deriveSeed } from '../lib/rng';

test('same seed → same stream; different seeds → different streams', () => {
  const a = new Rng(42),
    b = new Rng(42),
    c = new Rng(43);
  const xa = Array.from({ length: 100 }, () => a.nextUint32());
  const xb = Array.from({ length: 100 }, () => b.nextUint32());
  const xc = Array.from({ length: 100 }, () => c.nextUint32());
  assert.equal(xa, xb);
  assert.not.equal(xa, xc);
});

test('the xoshiro128** core matches the reference C implementation (state {1,2,3,4})', () => {
  const r = new Rng(0);
  r.setState({ s: [1, 2, 3, 4], spare: null });
  // Printed by the reference xoshiro128starstar.c (Blackman & Vigna).
  assert.equal(
    Array.from({ length: 6 }, () => r.nextUint32()),
    [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
  );
});

test('golden values pin the generator across platforms and versions', () => {
  const r = new Rng(1);
  const got = Array.from({ length: 4 }, () => r.nextUint32());
  // Recorded once; a change here changes every dataset and run: do it deliberately.
  assert.equal(got, GOLDEN);
  assert.is(deriveSeed(7, 'data', 'train'), GOLDEN_DERIVED);
});

test('deriveSeed separates keys and seeds', () => {
  const s = new Set([
    deriveSeed(1, 'a'),
    deriveSeed(1, 'b'),
    deriveSeed(2, 'a'),
    deriveSeed(1, 'a', 0),
    deriveSeed(1, 'a0'),
  ]);
  assert.is(s.size, 5);
  assert.throws(() => deriveSeed(1.5), /integer/);
});

test('uniformity: mean and variance of float() and normal()', () => {
  const r = new Rng(9);
  const n = 200_000;
  let s = 0,
    s2 = 0,
    ns = 0,
    ns2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.float();
    s += u;
    s2 += u * u;
    const z = r.normal();
    ns += z;
    ns2 += z * z;
  }
  assert.ok(Math.abs(s / n - 0.5) < 0.005);
  assert.ok(Math.abs(s2 / n - s ** 2 / n ** 2 - 1 / 12) < 0.002);
  assert.ok(Math.abs(ns / n) < 0.01);
  assert.ok(Math.abs(ns2 / n - 1) < 0.02);
});

test('int, weighted and shuffle stay in range and follow the weights', () => {
  const r = new Rng(10);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30_000; i++) {
    const k = r.int(2, 4);
    assert.ok(k >= 2 && k <= 4);
    counts[r.weighted([1, 0, 3])]++;
  }
  assert.is(counts[1], 0);
  assert.ok(Math.abs(counts[2] / counts[0] - 3) < 0.2);
  const xs = r.shuffle([1, 2, 3, 4, 5, 6]);
  assert.equal([...xs].sort(), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => r.weighted([0, 0]), /all weights are zero/);
});

test('state save/restore resumes the exact stream (incl. the cached normal)', () => {
  const r = new Rng(5);
  r.normal();
  const st = r.getState();
  const next = [r.normal(), r.float(), r.nextUint32()];
  const q = new Rng(999);
  q.setState(st);
  assert.equal([q.normal(), q.float(), q.nextUint32()], next);
});

const GOLDEN = [393288148, 2174103013, 3814759091, 2092745082];
const GOLDEN_DERIVED = 2680524727;

test.run();
