/** Small assertions uvu lacks. */
import * as assert from 'uvu/assert';

/** Await `fn` and assert that it rejects with a message matching `re`. */
export async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, `expected a rejection matching ${re}, but it resolved`);
  assert.match((err as Error).message, re);
}

/** |a − b| ≤ eps, with both values in the message. */
export function close(a: number, b: number, eps = 1e-12, msg = ''): void {
  assert.ok(Math.abs(a - b) <= eps, `${msg} ${a} ≠ ${b} (eps ${eps})`.trim());
}

/** The tiny policy the model and trainer tests use (fast on every backend). */
export const TINY = Object.freeze({
  imageSize: 64,
  patchSize: 16,
  dModel: 16,
  nHeads: 2,
  nEncLayers: 1,
  nDecLayers: 1,
  ffnMult: 2,
  maxQueryLen: 12,
  maxCompletionLen: 40,
});
