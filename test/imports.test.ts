/**
 * No runtime import cycles among the project's modules. Node's ESM loader tolerates them, but the
 * notebooks' kernel (tslab) compiles to CommonJS and recurses forever on one, so a cycle breaks
 * every notebook that reaches it. Type-only imports are erased and do not count.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../lib/files';

const RUNTIME_IMPORT = /^(?:import|export)(?!\s+type\b)[^'";]*?from\s+['"](\.[^'"]+)['"]/gm;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The project files a module imports at run time, resolved as the loader would. */
function runtimeImports(file: string, source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(RUNTIME_IMPORT)) {
    const base = resolve(dirname(file), m[1]);
    const hit = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')].find(
      (c) => c.endsWith('.ts') && existsSync(c),
    );
    if (hit) out.push(hit);
  }
  return out;
}

/** Every cycle found by depth-first search, as a path of project-relative names. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const done = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (f: string) => {
    const at = stack.indexOf(f);
    if (at >= 0) return void cycles.push([...stack.slice(at), f]);
    if (done.has(f)) return;
    stack.push(f);
    for (const d of graph.get(f) ?? []) visit(d);
    stack.pop();
    done.add(f);
  };
  for (const f of graph.keys()) visit(f);
  return cycles;
}

test('the cycle finder finds a planted cycle and ignores type-only imports', () => {
  const a = '/p/a.ts';
  const src = "import { x } from './b';\nimport type { T } from './c';\n";
  const seen = [...src.matchAll(RUNTIME_IMPORT)].map((m) => m[1]);
  assert.equal(seen, ['./b']);
  const g = new Map([
    [a, ['/p/b.ts']],
    ['/p/b.ts', ['/p/c.ts']],
    ['/p/c.ts', [a]],
    ['/p/d.ts', ['/p/a.ts']],
  ]);
  assert.equal(findCycles(g), [[a, '/p/b.ts', '/p/c.ts', a]]);
  assert.equal(findCycles(new Map([[a, ['/p/b.ts']]])), []);
});

test('lib/, experiments/, scripts/ and bench/ have no runtime import cycles', () => {
  const files = ['lib', 'experiments', 'scripts', 'bench'].flatMap((d) => tsFiles(join(PROJECT_ROOT, d)));
  assert.ok(files.length > 50, `found only ${files.length} modules`);
  const graph = new Map(files.map((f) => [f, runtimeImports(f, readFileSync(f, 'utf8'))]));
  const cycles = findCycles(graph).map((c) => c.map((f) => relative(PROJECT_ROOT, f)).join(' -> '));
  assert.equal(cycles, [], `import cycles:\n${cycles.join('\n')}`);
});

test.run();
