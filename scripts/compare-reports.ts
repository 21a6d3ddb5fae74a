/**
 * npm run compare-reports -- <a/REPORT.md> <b/REPORT.md> [--names A,B] [--out file.md]
 * Two reports claim by claim (experiments/compare-reports.ts): which verdicts a rerun kept, which it
 * decided only once, which flipped; the controls side by side. Prints Markdown, or writes it to --out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { agreementCounts, compareReports, comparisonMarkdown, verdictRows } from '../experiments/compare-reports';
import { writeFileAtomic } from '../lib/files';

const program = new Command('npm run compare-reports')
  .description('Compare the verdicts and controls of two REPORT.md files, claim by claim.')
  .argument('<a>', 'a REPORT.md')
  .argument('<b>', 'another REPORT.md')
  .option('--names <a,b>', 'what to call the two reports in the table', 'A,B')
  .option('--out <file>', 'write the Markdown here instead of printing it')
  .showHelpAfterError('(npm run compare-reports -- --help for the options)');
program.parse();
const { names, out } = program.opts<{ names: string; out?: string }>();
const [a, b] = program.args;
try {
  const texts = [a, b].map((f) => {
    if (!existsSync(f)) throw new Error(`${f}: no such file`);
    const t = readFileSync(f, 'utf8');
    if (!verdictRows(t).length) throw new Error(`${f}: no verdict table (a "## Verdicts" section of a REPORT.md)`);
    return t;
  });
  const n = names.split(',');
  if (n.length !== 2 || n.some((x) => !x.trim()))
    throw new Error(`--names ${names}: give two names, e.g. --names zen3,zen5`);
  const c = compareReports(texts[0], texts[1]);
  const md = comparisonMarkdown(c, [n[0].trim(), n[1].trim()]);
  if (out) {
    writeFileAtomic(out, md + '\n');
    const { raw } = agreementCounts(c);
    console.log(`${out}: ${c.claims.length} claims, ${raw.same} the same, ${raw.flipped} flipped`);
  } else console.log(md);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
}
