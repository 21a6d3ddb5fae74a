/**
 * Executes every notebook at quick scale and checks the figures and tables each one exports.
 * Slow (it trains the quick-scale models the first time), so it runs when RSG_NOTEBOOKS=1 —
 * as `.ci/run` sets it — and is skipped otherwise.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/files';

const enabled = process.env.RSG_NOTEBOOKS === '1';
if (!enabled) console.log('notebook tests skipped (set RSG_NOTEBOOKS=1 to run them; .ci/run does)');
const books = readdirSync(join(PROJECT_ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .map((f) => f.replace('.ipynb', ''))
  .sort();

for (const name of books) {
  (enabled ? test : test.skip)(`notebook ${name} runs at quick scale and writes its outputs`, () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'notebooks.mjs'), '--quick', name], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`.slice(-4000));
    assert.match(r.stdout, new RegExp(`ok +notebooks/${name}\\.ipynb`));
  });
}

test.run();
