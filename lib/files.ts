/**
 * Files that must never be half-written: atomic writes (temp file, then rename), JSONL, and
 * the project's data and run directories ($RSG_DATA_DIR, $RSG_RUNS_DIR).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/**
 * The project root: $RSG_ROOT, else the nearest folder at or above the working directory whose
 * package.json is rsground-lab's. (No import.meta here: tslab compiles notebooks to CommonJS.)
 */
export const PROJECT_ROOT = findRoot();

function findRoot(): string {
  if (process.env.RSG_ROOT) return resolve(process.env.RSG_ROOT);
  for (let d = process.cwd(); ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg) && /"name":\s*"rsground-lab"/.test(readFileSync(pkg, 'utf8'))) return d;
    if (dirname(d) === d)
      throw new Error(
        `cannot find the rsground-lab project root above ${process.cwd()} (run from inside the project, or set ` +
          `$RSG_ROOT)`,
      );
  }
}

/** `require` resolving from the project root (works in ESM, CommonJS and notebooks). */
export const projectRequire = createRequire(join(PROJECT_ROOT, 'package.json'));

export function dataDir(): string {
  return resolve(process.env.RSG_DATA_DIR ?? join(PROJECT_ROOT, 'data'));
}

export function runsDir(): string {
  return resolve(process.env.RSG_RUNS_DIR ?? join(PROJECT_ROOT, 'runs'));
}

/**
 * Create `dir` if needed and check that files can be written in it; otherwise an error that
 * says so (and which variable moves it), instead of a bare ENOENT/EEXIST from deep inside.
 */
export function ensureWritableDir(dir: string, what: string, envVar?: string): void {
  const hint = envVar ? `; point $${envVar} to a writable folder` : '';
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    throw new Error(`the ${what} ${dir} is not writable (${(e as Error).message.split(',')[0]})${hint}`);
  }
}

let tmpCounter = 0;

/** Write a file atomically: a sibling temp file, then rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${tmpCounter++}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T = unknown>(path: string): T {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

/**
 * Parse a JSONL file. A bad line is an error naming the file and the line number — except a
 * torn last line (no newline after it, not valid JSON: a write cut short by a crash or a full
 * disk), which is dropped with a warning naming the file, unless `strict`.
 */
export function readJsonl<T = unknown>(
  path: string,
  opts: { strict?: boolean; warn?: (msg: string) => void } = {},
): T[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as T);
    } catch (e) {
      const torn = i === lines.length - 1 && !text.endsWith('\n');
      if (torn && !opts.strict) {
        (opts.warn ?? ((m: string) => console.error(m)))(
          `${path}:${i + 1}: dropping a torn last line (${line.length} bytes, no newline: an interrupted write)`,
        );
        return;
      }
      throw new Error(`${path}:${i + 1}: invalid JSON line (${(e as Error).message})`);
    }
  });
  return out;
}

export function sha256(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** A stable hash of a JSON-able value (keys sorted), for config hashes. */
export function hashConfig(value: unknown, length = 12): string {
  return sha256(stableStringify(value)).slice(0, length);
}

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}

/**
 * Replace directory `dest` by `src` as close to atomically as a filesystem allows: the old
 * one is moved aside first and removed only after the new one is in place.
 */
export function swapDirectory(src: string, dest: string): void {
  const old = `${dest}.old-${process.pid}`;
  const had = existsSync(dest);
  if (had) renameSync(dest, old);
  try {
    renameSync(src, dest);
  } catch (e) {
    if (had) renameSync(old, dest);
    throw e;
  }
  if (had) rmSync(old, { recursive: true, force: true });
}

/** The code's commit (12 hex digits), `-dirty` when tracked files outside figures/ differ from it; 'unknown' outside
 * git. */
export function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)figures'],
      { cwd: PROJECT_ROOT, encoding: 'utf8' },
    ).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}
