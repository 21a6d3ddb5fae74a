import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adjustFamily, judgePaired, markUninterpretable } from '../../lib/report/verdicts';
import { close } from '../helpers';
import { welchDiffCI } from '../../lib/stats';

const claim = { id: 'x', text: 'A beats B', source: 'Table 0' };

test('judgePaired: per-seed differences, Student t over seeds (hand-computed)', () => {
  // a − b per seed = .10, .13, .07: mean .10, s = .03, se = .03/√3; t(.975, 2) = 4.302653
  // → half-width .074523, interval [.025477, .174523]; t = 5.7735, p = 2(1 − F₂(t)) = .028714
  // with F₂(t) = ½ + t/(2√(2 + t²)); MDE = (t.975 + t.80)·se = (4.302653 + 1.060660)·.017321 = .092896.
  const r = judgePaired(claim, [0.3, 0.35, 0.31], [0.2, 0.22, 0.24], { what: 'Acc@0.5' });
  assert.is(r.verdict, 'reproduced');
  close(r.diff!.lo, 0.025477, 2e-6);
  close(r.diff!.hi, 0.174523, 2e-6);
  close(r.p, 0.028714, 2e-6);
  close(r.mde, 0.092896, 2e-6);
  assert.match(r.evidence, 'difference 10.00 points, 95% CI [2.55, 17.45] over seeds');
  assert.match(r.evidence, 'MDE 9.29 points (paired, n = 3 seeds)');
  assert.is(judgePaired(claim, [0.2, 0.22, 0.24], [0.3, 0.35, 0.31], { what: 'm' }).verdict, 'contradicted');
});

test('pairing matters: a shared seed effect cancels (Welch would call this inconclusive)', () => {
  // Seeds differ a lot, but A is exactly 2 points above B in each: the paired interval is tight.
  const a = [0.3, 0.5, 0.7, 0.42],
    b = a.map((x, i) => x - 0.02 - 0.001 * i);
  const r = judgePaired(claim, a, b, { what: 'm' });
  assert.is(r.verdict, 'reproduced');
  assert.ok(r.diff!.halfWidth < 0.003, `${r.diff!.halfWidth}`);
  const w = welchDiffCI(a, b);
  assert.ok(w.lo < 0 && w.hi > 0, 'Welch interval crosses 0');
});

test('an interval across zero, one seed, or no runs is not a verdict; NaN never reaches the text', () => {
  assert.is(judgePaired(claim, [0.3, 0.1], [0.2, 0.25], { what: 'm' }).verdict, 'inconclusive at this scale');
  const one = judgePaired(claim, [0.5], [0.1], { what: 'm' });
  assert.is(one.verdict, 'inconclusive at this scale');
  assert.match(one.evidence, 'no CI (needs ≥ 2 seeds)');
  assert.not.match(one.evidence, 'NaN');
  assert.is(judgePaired(claim, null, [0.1], { what: 'm' }).verdict, 'not run');
  assert.throws(() => judgePaired(claim, [0.1, 0.2], [0.1], { what: 'm' }), /same seeds on both sides/);
});

test("'less' judges B − A; 'not-greater' reproduces when the upper bound is below the margin", () => {
  assert.is(
    judgePaired(claim, [0.2, 0.22, 0.24], [0.3, 0.32, 0.35], { what: 'std', kind: 'less' }).verdict,
    'reproduced',
  );
  assert.is(
    judgePaired(claim, [0.3, 0.32, 0.35], [0.2, 0.22, 0.24], { what: 'std', kind: 'less' }).verdict,
    'contradicted',
  );
  const same = [0.3, 0.31, 0.29, 0.3],
    eps = [0.001, -0.001, 0.002, 0];
  assert.is(
    judgePaired(
      claim,
      same.map((x, i) => x + eps[i]),
      same,
      { what: 'm', kind: 'not-greater', margin: 0.015 },
    ).verdict,
    'reproduced',
  );
  assert.is(
    judgePaired(
      claim,
      same.map((x) => x + 0.05),
      same,
      { what: 'm', kind: 'not-greater', margin: 0.015 },
    ).verdict,
    'contradicted',
  );
});

test('the per-sample bootstrap interval sits beside the seed interval', () => {
  // Two seeds × 400 samples: A right on 60%, B on 50% of the same samples (A ⊃ B).
  const mk = (p: number) => [0, 1].map(() => Array.from({ length: 400 }, (_, i) => (i % 10 < p * 10 ? 1 : 0)));
  const r = judgePaired(claim, [0.6, 0.6], [0.5, 0.5], { what: 'Acc@0.5', samplesA: mk(0.6), samplesB: mk(0.5) });
  // The difference per sample is 1 on 10% of samples: SE ≈ √(.1·.9/400) = .015; the 95% bootstrap interval ≈ ±.029.
  close(r.sampleCI!.mean, 0.1, 1e-12);
  assert.ok(
    r.sampleCI!.lo > 0.06 && r.sampleCI!.lo < 0.08 && r.sampleCI!.hi > 0.12 && r.sampleCI!.hi < 0.14,
    `${r.sampleCI!.lo} ${r.sampleCI!.hi}`,
  );
});

test('Holm over the family: adjusted p and verdicts; uninterpretable marks every run verdict', () => {
  const mk = (d: number[], id: string) =>
    judgePaired(
      { ...claim, id },
      d.map((x) => 0.5 + x),
      d.map(() => 0.5),
      { what: id },
    );
  const rs = adjustFamily([
    mk([0.1, 0.13, 0.07], 'a'),
    mk([0.01, -0.02, 0.015], 'b'),
    { ...mk([0.1, 0.13, 0.07], 'c'), verdict: 'not run' },
  ]);
  // raw p: a = .028714, b large; Holm with m = 2: a → min(1, .028714·2) = .057428 (no longer < .05).
  close(rs[0].pHolm!, 2 * 0.028714, 5e-6);
  assert.is(rs[0].verdict, 'reproduced');
  assert.is(rs[0].verdictHolm, 'inconclusive at this scale');
  assert.is(rs[2].pHolm, undefined);
  const u = markUninterpretable(rs);
  assert.equal(
    u.map((r) => r.verdict),
    ['uninterpretable', 'uninterpretable', 'not run'],
  );
});

test('the decision bounds are strict: an interval touching 0 or the margin decides nothing', () => {
  // every seed's difference is 0: the interval is [0, 0]
  const flat = judgePaired(claim, [0.3, 0.4, 0.5], [0.3, 0.4, 0.5], { what: 'm' });
  assert.equal([flat.diff!.lo, flat.diff!.hi, flat.verdict], [0, 0, 'inconclusive at this scale']);
  // differences .01, −.005, .004, .003: the interval holds 0, so only its upper bound against the margin decides
  const a = [0.31, 0.395, 0.504, 0.503],
    b = [0.3, 0.4, 0.5, 0.5];
  const hi = judgePaired(claim, a, b, { what: 'm', kind: 'not-greater', margin: 1 }).diff!.hi;
  assert.is(
    judgePaired(claim, a, b, { what: 'm', kind: 'not-greater', margin: hi }).verdict,
    'inconclusive at this scale',
  );
  assert.is(judgePaired(claim, a, b, { what: 'm', kind: 'not-greater', margin: hi + 1e-9 }).verdict, 'reproduced');
});

test("'not-greater': contradicted once the interval is above 0, inside the margin or not; margin 0 by default", () => {
  // differences .01, .02, .015, .015: mean .015, interval [.0085, .0215] (t(.975, 3) = 3.182446)
  const a = [0.31, 0.42, 0.515, 0.515],
    b = [0.3, 0.4, 0.5, 0.5];
  const r = judgePaired(claim, a, b, { what: 'm', kind: 'not-greater', margin: 0.01 });
  close(r.diff!.lo, 0.015 - (3.182446 * 0.0040825) / 2, 1e-5);
  assert.is(r.verdict, 'contradicted');
  // differences .001–.003: above 0 but far below 2 points — with no margin, "no better" is contradicted
  const tiny = judgePaired(claim, [0.301, 0.403, 0.502, 0.502], b, { what: 'm', kind: 'not-greater' });
  assert.ok(tiny.diff!.hi < 0.02 && tiny.diff!.lo > 0);
  assert.is(tiny.verdict, 'contradicted');
});

test("'less' bootstraps B − A over samples too; seeds for an MDE of 2 points only on the points scale", () => {
  const mk = (p: number) => [0, 1].map(() => Array.from({ length: 400 }, (_, i) => (i % 10 < p * 10 ? 1 : 0)));
  const r = judgePaired(claim, [0.5, 0.5], [0.6, 0.6], {
    what: 'std',
    kind: 'less',
    samplesA: mk(0.5),
    samplesB: mk(0.6),
  });
  close(r.sampleCI!.mean, 0.1, 1e-12);
  assert.ok(r.sampleCI!.lo > 0);
  const pts = judgePaired(claim, [0.3, 0.35, 0.31], [0.2, 0.22, 0.24], { what: 'Acc@0.5' });
  assert.ok(Number.isFinite(pts.seedsFor2) && pts.seedsFor2 > 3, `${pts.seedsFor2}`);
  const raw = judgePaired(claim, [0.3, 0.35, 0.31], [0.2, 0.22, 0.24], { what: 'std', scale: 1 });
  assert.ok(Number.isNaN(raw.seedsFor2));
});

test('Holm: an adjusted p under 0.05 decides by the sign; non-inferiority claims stay out of the family', () => {
  const mk = (d: number[], id: string, kind: 'greater' | 'not-greater' = 'greater') =>
    judgePaired(
      { ...claim, id },
      d.map((x) => 0.5 + x),
      d.map(() => 0.5),
      { what: id, kind, margin: 0.5 },
    );
  const [up] = adjustFamily([mk([0.1, 0.13, 0.07], 'up')]);
  const [down] = adjustFamily([mk([-0.1, -0.13, -0.07], 'down')]);
  close(up.pHolm!, 0.028714, 2e-6);
  assert.equal([up.verdictHolm, down.verdictHolm], ['reproduced', 'contradicted']);
  // a non-inferiority claim with a tiny p does not double the greater claim's p, and keeps its raw verdict
  const ni = mk([0.001, 0.0011, 0.0009], 'ni', 'not-greater');
  assert.ok(ni.p < 0.01);
  const [g, n] = adjustFamily([mk([0.1, 0.13, 0.07], 'g'), ni]);
  close(g.pHolm!, 0.028714, 2e-6);
  assert.is(g.verdictHolm, 'reproduced');
  assert.is(n.pHolm, undefined);
  assert.is(n.verdictHolm, n.verdict);
});

test('Holm is strict like the raw rule: an adjusted p of exactly 0.05 decides nothing', () => {
  // a raw interval touching 0 decides nothing (p = 0.05 exactly); so neither does an adjusted p of 0.05:
  // p = .025 and .05 in a family of two adjust to 2 · .025 = .05 and max(.05, .05) = .05, both exact in binary
  const base = judgePaired(claim, [0.6, 0.65, 0.62], [0.5, 0.5, 0.5], { what: 'm' });
  const [a, b] = adjustFamily([
    { ...base, id: 'a', p: 0.025 },
    { ...base, id: 'b', p: 0.05 },
  ]);
  assert.equal([a.pHolm, b.pHolm], [0.05, 0.05]);
  assert.equal([a.verdictHolm, b.verdictHolm], ['inconclusive at this scale', 'inconclusive at this scale']);
  const [c] = adjustFamily([{ ...base, id: 'c', p: 0.0499 }]);
  assert.is(c.verdictHolm, 'reproduced');
});

test.run();
