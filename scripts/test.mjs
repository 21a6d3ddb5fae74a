#!/usr/bin/env node
// The test command: type-check, check formatting (Prettier, and no source line over 120
// characters), then every test/**/*.test.ts in its own process (uvu via tsx), then one last line
// "N passed, N failed[, N skipped]". A file that fails to load counts as a failure. Files run in
// parallel, one per core (RSG_TEST_JOBS overrides). The test files make their scratch directories
// under one TMPDIR of the run's own, removed at the end, so a run leaves nothing in /tmp.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpus, tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const filter = args.find((a) => !a.startsWith('--'));
const skipTypecheck = args.includes('--no-typecheck');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function run(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out, ms: Date.now() - t0 }));
  });
}

function parseUvu(out) {
  const num = (label) => {
    const m = new RegExp(`${label}:\\s+(\\d+)`).exec(out);
    return m ? Number(m[1]) : null;
  };
  return { total: num('Total'), passed: num('Passed'), skipped: num('Skipped') ?? 0 };
}

let passed = 0,
  failed = 0,
  skipped = 0;
const t0 = Date.now();

if (!skipTypecheck) {
  const tc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root]);
  if (tc.code === 0) {
    passed++;
    console.log(`ok    typecheck (tsc --noEmit)  ${(tc.ms / 1000).toFixed(1)}s`);
  } else {
    failed++;
    console.log(`FAIL  typecheck (tsc --noEmit)\n${tc.out}`);
  }
}

if (!skipTypecheck) {
  // The same globs as `npm run format`.
  const globs = ['lib/**/*.ts', 'experiments/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.{ts,mjs}'];
  const fmt = await run(process.execPath, [join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', ...globs]);
  const long = [];
  for (const dir of ['lib', 'experiments', 'test', 'bench', 'scripts']) {
    const walk = (d) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|mjs)$/.test(name)) {
          readFileSync(p, 'utf8')
            .split('\n')
            .forEach((l, i) => {
              if (l.length > 120) long.push(`${relative(root, p)}:${i + 1} (${l.length} characters)`);
            });
        }
      }
    };
    walk(join(root, dir));
  }
  if (fmt.code === 0 && long.length === 0) {
    passed++;
    console.log(`ok    format (prettier --check, lines ≤ 120)  ${(fmt.ms / 1000).toFixed(1)}s`);
  } else {
    failed++;
    const list = long.length ? `; lines over 120 characters:\n  ${long.join('\n  ')}` : '';
    console.log(`FAIL  format: run \`npm run format\`${list}`);
    if (fmt.code !== 0) console.log(fmt.out.split('\n').slice(-20).join('\n'));
  }
}

// The notebooks (RSG_NOTEBOOKS=1) run last: they train with two workers of their own, and started
// first, beside the other files, the whole run took 1352 s against 1141 s (fresh-clone CI, Zen 3).
const files = findTests(join(root, 'test'))
  .filter((f) => !filter || f.includes(filter))
  .sort((a, b) => Number(a.endsWith('notebooks.test.ts')) - Number(b.endsWith('notebooks.test.ts')));
const jobs = Number(process.env.RSG_TEST_JOBS) || Math.max(1, cpus().length);
const queue = [...files];
const scratch = mkdtempSync(join(tmpdir(), 'rsg-test-'));
async function worker() {
  while (queue.length) {
    const f = queue.shift();
    const rel = relative(root, f);
    const r = await run(process.execPath, ['--import', 'tsx', f], { RSG_TEST: '1', TMPDIR: scratch });
    const s = parseUvu(r.out);
    if (s.total === null) {
      failed++;
      console.log(`FAIL  ${rel}: did not finish (exit ${r.code})\n${r.out.split('\n').slice(-40).join('\n')}`);
      continue;
    }
    const f_ = s.total - s.passed;
    passed += s.passed;
    failed += f_;
    skipped += s.skipped;
    const tag = f_ === 0 && r.code === 0 ? 'ok   ' : 'FAIL ';
    if (f_ === 0 && r.code !== 0) failed++;
    console.log(
      `${tag} ${rel}  ${s.passed}/${s.total}${s.skipped ? ` (${s.skipped} skipped)` : ''}  ` +
        `${(r.ms / 1000).toFixed(1)}s`,
    );
    if (tag !== 'ok   ') console.log(r.out.split('\n').slice(-80).join('\n'));
  }
}
await Promise.all(Array.from({ length: jobs }, worker));
rmSync(scratch, { recursive: true, force: true });
console.log(`\ntests finished in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
