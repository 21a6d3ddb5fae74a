/**
 * npm run lint:figures [-- dir ...]: the figure lint over exported SVGs (default: figures/ and
 * figures/quick/): text that leaves its canvas or overlaps other text. Exits 1 on any problem.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FigureExporter } from '../lib/report/export';
import { PROJECT_ROOT } from '../lib/files';

const dirs = process.argv.slice(2).length
  ? process.argv.slice(2)
  : [join(PROJECT_ROOT, 'figures'), join(PROJECT_ROOT, 'figures', 'quick')];
const ex = await FigureExporter.start();
let bad = 0,
  total = 0;
try {
  for (const d of dirs.filter(existsSync)) {
    for (const f of readdirSync(d)
      .filter((x) => x.endsWith('.svg'))
      .sort()) {
      total++;
      const problems = await ex.lint(readFileSync(join(d, f), 'utf8'));
      if (problems.length) {
        bad++;
        console.log(
          `✗ ${relative(PROJECT_ROOT, join(d, f))}: ${problems.length} problem(s)\n    ${problems.join('\n    ')}`,
        );
      } else console.log(`✓ ${relative(PROJECT_ROOT, join(d, f))}`);
    }
  }
} finally {
  await ex.close();
}
console.log(`figure lint: ${total - bad} of ${total} figures clean`);
process.exit(bad ? 1 : 0);
