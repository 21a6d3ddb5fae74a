#!/usr/bin/env node
// npm run notebooks [-- --quick] [name ...]
// Execute the tslab notebooks headless with Debian's Jupyter (/usr/bin/python3 + nbclient) and
// the committed kernel spec (jupyter/kernels/tslab), the kernel started at the project root so
// notebooks import './lib/…' (tslab compiles only files under its working directory). Executed
// copies go to notebooks/out/. Fails on any cell error, and unless every file a notebook reports
// having written exists and is non-empty. RSG_QUICK=1 (or --quick) runs at quick scale.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    'usage: npm run notebooks [-- --quick] [name ...]\nExecutes notebooks/*.ipynb headless; RSG_QUICK=1 or --quick ' +
      'for quick scale.',
  );
  process.exit(0);
}
const quick = args.includes('--quick') || process.env.RSG_QUICK === '1';
const wanted = args.filter((a) => !a.startsWith('--'));
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const probe = spawnSync(python, ['-c', 'import nbclient, nbformat'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error(
    "notebooks: Jupyter is not installed for /usr/bin/python3 (run `bash scripts/setup.sh`, which installs Debian's " +
      'jupyter-nbconvert and python3-nbclient)',
  );
  process.exit(2);
}
const books = readdirSync(join(root, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .map((f) => f.replace(/\.ipynb$/, ''))
  .filter((n) => !wanted.length || wanted.includes(n))
  .sort();
mkdirSync(join(root, 'notebooks', 'out'), { recursive: true });
const PY = `
import sys, json, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
src, dst, cwd = sys.argv[1], sys.argv[2], sys.argv[3]
nb = nbformat.read(src, as_version=4)
# startup_timeout: the tslab kernel compiles TypeScript as it starts; nbclient's default 60 s was
# once exceeded on a busy 2-core machine ("Kernel didn't respond in 60 seconds")
client = NotebookClient(nb, kernel_name='tslab', timeout=None, resources={'metadata': {'path': cwd}},
                        record_timing=False, startup_timeout=300)
try:
    client.execute()
    ok = True
except CellExecutionError as e:
    ok = False
    print(str(e)[-3000:], file=sys.stderr)
nbformat.write(nb, dst)
written = []
for cell in nb.cells:
    for o in cell.get('outputs', []):
        text = o.get('text', '') if o.get('output_type') == 'stream' else ''
        for line in text.splitlines():
            if line.startswith('{"written"'):
                written += json.loads(line)['written']
print(json.dumps({'ok': ok, 'written': written}))
`;
let failed = 0;
for (const name of books) {
  const t0 = Date.now();
  const r = spawnSync(
    python,
    ['-c', PY, join(root, 'notebooks', `${name}.ipynb`), join(root, 'notebooks', 'out', `${name}.ipynb`), root],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: {
        ...process.env,
        JUPYTER_PATH: join(root, 'jupyter'),
        RSG_QUICK: quick ? '1' : (process.env.RSG_QUICK ?? ''),
        RSG_ROOT: root,
      },
    },
  );
  const last = (r.stdout || '').trim().split('\n').pop() ?? '';
  let res = { ok: false, written: [] };
  try {
    res = JSON.parse(last);
  } catch {
    /* the kernel did not even start */
  }
  const missing = res.written.filter((f) => {
    const p = join(root, f.replace(/\{svg,png\}$/, 'svg').replace(/\{csv,md,tex\}$/, 'csv'));
    return !existsSync(p) || statSync(p).size === 0;
  });
  const expanded = res.written.flatMap((f) => {
    const m = /^(.*)\.\{(.*)\}$/.exec(f);
    return m ? m[2].split(',').map((e) => `${m[1]}.${e}`) : [f];
  });
  const absent = expanded.filter((f) => !existsSync(join(root, f)) || statSync(join(root, f)).size === 0);
  const ok = r.status === 0 && res.ok && missing.length === 0 && absent.length === 0;
  if (!ok) failed++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} notebooks/${name}.ipynb  ${((Date.now() - t0) / 1000).toFixed(0)}s  ${expanded.length} ` +
      `file(s) checked`,
  );
  if (!ok)
    console.log(
      (r.stderr || '').split('\n').slice(-30).join('\n') +
        (absent.length ? `\nmissing outputs: ${absent.join(', ')}` : ''),
    );
}
console.log(`notebooks: ${books.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
