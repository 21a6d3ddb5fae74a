/** Small assertions uvu lacks, the tiny policy the tests share, temporary run folders. */
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** Every float of each array, as bits (NaN payloads and signed zeros included). */
export function sameBits(
  a: Float32Array[],
  b: Float32Array[],
  what: string[],
  how = ['with the AVX-512 twins', 'without'],
): void {
  a.forEach((x, i) => {
    const u = new Uint32Array(x.buffer, x.byteOffset, x.length),
      v = new Uint32Array(b[i].buffer, b[i].byteOffset, b[i].length);
    for (let j = 0; j < u.length; j++)
      if (u[j] !== v[j]) assert.unreachable(`${what[i]} [${j}]: ${x[j]} ${how[0]}, ${b[i][j]} ${how[1]}`);
  });
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

/**
 * Runs `fn` with a fresh temporary folder as each of the environment variables `vars` (e.g.
 * RSG_RUNS_DIR, RSG_FIGURES_DIR), then restores them and removes the folders, even when it throws.
 */
export async function withTempDirs<T>(
  vars: readonly string[],
  fn: (dirs: Record<string, string>) => T | Promise<T>,
): Promise<T> {
  const before = new Map(vars.map((v) => [v, process.env[v]]));
  const dirs = Object.fromEntries(vars.map((v) => [v, mkdtempSync(join(tmpdir(), `rsg-${v.toLowerCase()}-`))]));
  Object.assign(process.env, dirs);
  try {
    return await fn(dirs);
  } finally {
    for (const [v, old] of before)
      if (old === undefined) delete process.env[v];
      else process.env[v] = old;
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  }
}
