/**
 * Validation at the boundary (STYLE 2): every config section has a zod schema with the range of
 * each field; `validate` checks a value against one and fails with every bad field named by its
 * dotted path, the value it got and what is allowed. Unknown keys are errors (schemas are strict),
 * so a typo never silently becomes a default.
 */
import { z } from 'zod';

export { z };

function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  // optional sections are wrapped: look through the wrapper for the object's keys
  const unwrap = (x: unknown): unknown => {
    const u = x as { shape?: unknown; unwrap?: () => unknown } | undefined;
    return u && !u.shape && typeof u.unwrap === 'function' ? unwrap(u.unwrap()) : x;
  };
  let s: unknown = unwrap(schema);
  for (const k of path) {
    const shape = (s as { shape?: Record<string, unknown> }).shape;
    s = unwrap(shape?.[String(k)]);
  }
  const shape = (s as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

const show = (v: unknown) => (v === undefined ? 'missing' : typeof v === 'number' ? String(v) : JSON.stringify(v));

/** One line per problem: `grpo.lr = -0.01: must be > 0`. */
export function describeIssues(
  schema: z.ZodType,
  value: unknown,
  issues: readonly z.core.$ZodIssue[],
  where: string,
): string {
  return issues
    .map((i) => {
      const name = [where, ...i.path.map(String)].filter(Boolean).join('.');
      if (i.code === 'unrecognized_keys') {
        const allowed = allowedKeys(schema, i.path);
        return i.keys
          .map((k) => `${name ? `${name}.` : ''}${k}: unknown key (allowed: ${allowed.join(', ')})`)
          .join('\n');
      }
      const got = at(value, i.path);
      return `${name} = ${show(got)}: ${i.message}`;
    })
    .join('\n');
}

/** `value` parsed by `schema`, or an Error listing every bad field (see describeIssues). */
export function validate<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new Error(`invalid ${where || 'config'}:\n${describeIssues(schema, value, r.error.issues, where)}`);
}

/** Number schemas with messages that state the allowed range. */
export const num = {
  /** a finite number */
  finite: () => z.number({ error: 'must be a finite number' }).refine(Number.isFinite, 'must be a finite number'),
  /** a number > 0 */
  positive: () =>
    z.number({ error: 'must be a number > 0' }).gt(0, 'must be > 0').refine(Number.isFinite, 'must be finite'),
  /** a number ≥ 0 */
  nonNegative: () =>
    z.number({ error: 'must be a number ≥ 0' }).gte(0, 'must be ≥ 0').refine(Number.isFinite, 'must be finite'),
  /** a number in [lo, hi] */
  range: (lo: number, hi: number) =>
    z
      .number({ error: `must be a number in [${lo}, ${hi}]` })
      .gte(lo, `must be in [${lo}, ${hi}]`)
      .lte(hi, `must be in [${lo}, ${hi}]`),
  /** an integer ≥ lo */
  int: (lo: number) =>
    z
      .number({ error: `must be an integer ≥ ${lo}` })
      .int(`must be an integer ≥ ${lo}`)
      .gte(lo, `must be an integer ≥ ${lo}`),
};

/** One of `values`, with them listed in the error. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of: ${values.join(', ')}` });
}
