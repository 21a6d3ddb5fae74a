#!/usr/bin/env node
// Build the optional OpenBLAS addon (native/ → native/build/Release/rsg_blas.node).
// Optional: when it cannot be built (no compiler, no libopenblas-dev), print one clear line and
// exit 0 — everything then runs on the wasm backend.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const force = process.argv.includes('--force');
const out = join(root, 'native/build/Release/rsg_blas.node');
// Rebuild when the built addon is older than its sources (its interface version differs).
const sources = readFileSync(join(root, 'native/src/blas.cc'), 'utf8');
const want = Number(/exports\.Set\("version", (\d+)\)/.exec(sources)?.[1]);
// On x86-64 the AVX2 + FMA build is made beside the portable one (native/binding.gyp).
const outAvx2 = join(root, 'native/build/Release/rsg_blas_avx2.node');
const needAvx2 = process.arch === 'x64';
let have = null;
try {
  have = existsSync(out) && (!needAvx2 || existsSync(outAvx2)) ? require(out).version : null;
} catch {
  have = null;
}
if (have === want && !force) {
  console.log(`native: ${out} already built (--force to rebuild)`);
  process.exit(0);
}
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const args = [gyp, 'rebuild', '--directory', join(root, 'native')];
// Build against the local Node headers when present (no download; these machines are offline).
if (existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0 || !existsSync(out)) {
  const why = (r.stderr || r.stdout || '')
    .split('\n')
    .filter((l) => /error|not found|No such/i.test(l))
    .slice(0, 2)
    .join(' | ');
  console.log(
    `native: OpenBLAS kernels not built (${why || `node-gyp exited ${r.status}`}); the wasm backend will be used. ` +
      `Install g++ and libopenblas-dev, then run \`npm run build:native\`.`,
  );
  process.exit(0);
}
console.log(`native: built ${out}${existsSync(outAvx2) ? ` and ${outAvx2}` : ''}`);
