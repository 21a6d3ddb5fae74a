/** lib/config.ts: every bad field named by its dotted path, with the value it got and what is allowed. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { num, oneOf, validate, z } from '../lib/config';

const SCHEMA = z.strictObject({
  lr: num.positive(),
  steps: num.int(1),
  frac: num.range(0, 1),
  decay: num.nonNegative(),
  shift: num.finite(),
  mode: oneOf(['short', 'rsground', 'geocot']),
  opt: z.strictObject({ beta1: num.range(0, 1), eps: num.positive() }),
  extra: z.strictObject({ k: num.int(0) }).optional(),
});
const GOOD = { lr: 1e-3, steps: 10, frac: 0.5, decay: 0, shift: -2, mode: 'short', opt: { beta1: 0.9, eps: 1e-8 } };

/** validate's message lines (after the first, which names the config). */
function problems(value: unknown, where = 'grpo'): string[] {
  try {
    validate(SCHEMA, value, where);
  } catch (e) {
    const [head, ...rest] = (e as Error).message.split('\n');
    assert.is(head, `invalid ${where || 'config'}:`);
    return rest;
  }
  throw new Error('expected a validation error');
}

test('a valid value comes back parsed, with optional sections absent or present', () => {
  assert.equal(validate(SCHEMA, GOOD, 'grpo'), GOOD);
  assert.equal(validate(SCHEMA, { ...GOOD, extra: { k: 0 } }, 'grpo').extra, { k: 0 });
});

test('each number rule states its range, with the dotted path and the value', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ lr: -0.01 }, 'grpo.lr = -0.01: must be > 0'],
    [{ lr: 0 }, 'grpo.lr = 0: must be > 0'],
    [{ lr: Infinity }, 'grpo.lr = Infinity: must be a number > 0'], // zod 4: Infinity is not a number
    [{ steps: 2.5 }, 'grpo.steps = 2.5: must be an integer ≥ 1'],
    [{ steps: 0 }, 'grpo.steps = 0: must be an integer ≥ 1'],
    [{ frac: 1.5 }, 'grpo.frac = 1.5: must be in [0, 1]'],
    [{ decay: -1 }, 'grpo.decay = -1: must be ≥ 0'],
    [{ shift: '3' }, 'grpo.shift = "3": must be a finite number'],
    [{ lr: 'fast' }, 'grpo.lr = "fast": must be a number > 0'],
    [{ mode: 'long' }, 'grpo.mode = "long": must be one of: short, rsground, geocot'],
    [{ opt: { beta1: 2, eps: 1e-8 } }, 'grpo.opt.beta1 = 2: must be in [0, 1]'],
    [{ extra: { k: -1 } }, 'grpo.extra.k = -1: must be an integer ≥ 0'],
  ];
  for (const [patch, want] of cases) assert.equal(problems({ ...GOOD, ...patch }), [want], JSON.stringify(patch));
});

test('a missing field says "missing"; every bad field is listed, not only the first', () => {
  const { steps: _omit, ...noSteps } = GOOD;
  assert.equal(problems(noSteps), ['grpo.steps = missing: must be an integer ≥ 1']);
  const lines = problems({ ...GOOD, lr: -1, frac: 2, mode: 'x' });
  assert.is(lines.length, 3);
  assert.ok(lines.some((l) => l.startsWith('grpo.lr = -1')));
  assert.ok(lines.some((l) => l.startsWith('grpo.frac = 2')));
  assert.ok(lines.some((l) => l.startsWith('grpo.mode = "x"')));
});

test('an unknown key is an error that lists the allowed keys at its level (typos never become defaults)', () => {
  assert.equal(problems({ ...GOOD, lR: 1 }), [
    'grpo.lR: unknown key (allowed: lr, steps, frac, decay, shift, mode, opt, extra)',
  ]);
  assert.equal(problems({ ...GOOD, opt: { beta1: 0.9, eps: 1e-8, beta3: 1 } }), [
    'grpo.opt.beta3: unknown key (allowed: beta1, eps)',
  ]);
  // inside an optional section too
  assert.equal(problems({ ...GOOD, extra: { k: 1, j: 2 } }), ['grpo.extra.j: unknown key (allowed: k)']);
  // no `where`: the path starts at the key
  assert.equal(problems({ ...GOOD, zz: 1 }, ''), [
    'zz: unknown key (allowed: lr, steps, frac, decay, shift, mode, opt, extra)',
  ]);
});

test.run();
