/**
 * Result tables: rows of text cells held in a danfojs DataFrame and written as CSV (danfojs),
 * Markdown and LaTeX, each with a provenance record. Cells are already formatted
 * ("63.25 ± 1.20"); the numbers behind them live in the runs.
 */
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../files';
import { gitCommit, type Provenance } from './export';
import { loadDanfo as dfd } from './frames';

export type Table = { title: string; header: string[]; rows: string[][]; note?: string };

export async function toDataFrame(t: Table) {
  const d = await dfd();
  return new d.DataFrame(t.rows, { columns: t.header });
}

export async function toCsv(t: Table): Promise<string> {
  const d = await dfd();
  return d.toCSV(await toDataFrame(t), { header: true }) as string;
}

/** The one Markdown table writer: a header, rows, the first column left-aligned and the rest right; pipes escaped. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string) => String(c).replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** A table as Markdown: its title in bold, the table, its note. */
export function toMarkdown(t: Table): string {
  return `**${t.title}**\n\n${markdownTable(t.header, t.rows)}\n${t.note ? `\n${t.note}\n` : ''}`;
}

/** LaTeX-escape one cell in a single pass (so the braces an escape inserts are not escaped again). */
export function texEscape(s: string): string {
  const SPECIAL: Record<string, string> = {
    '\\': '\\textbackslash{}',
    '&': '\\&',
    '%': '\\%',
    $: '\\$',
    '#': '\\#',
    _: '\\_',
    '{': '\\{',
    '}': '\\}',
    '~': '\\textasciitilde{}',
    '^': '\\textasciicircum{}',
    '±': '$\\pm$',
    β: '$\\beta$',
    α: '$\\alpha$',
    λ: '$\\lambda$',
    '✓': '\\checkmark{}',
    '×': '$\\times$',
    '→': '$\\rightarrow$',
  };
  return s.replace(/[\\&%$#_{}~^±βαλ✓×→]/g, (c) => SPECIAL[c]);
}

export async function toLatex(t: Table): Promise<string> {
  const df = await toDataFrame(t);
  const cols = df.columns as string[];
  const rows = df.values as string[][];
  return [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${texEscape(t.title)}}`,
    `\\begin{tabular}{l${'r'.repeat(cols.length - 1)}}`,
    '\\hline',
    `${cols.map(texEscape).join(' & ')} \\\\`,
    '\\hline',
    ...rows.map((r) => `${r.map((c) => texEscape(String(c))).join(' & ')} \\\\`),
    '\\hline',
    '\\end{tabular}',
    ...(t.note ? [`\\\\[2pt]{\\footnotesize ${texEscape(t.note)}}`] : []),
    '\\end{table}',
    '',
  ].join('\n');
}

/** Write `<dir>/<name>.csv`, `.md`, `.tex` and `.provenance.json`. */
export async function writeTable(
  dir: string,
  name: string,
  t: Table,
  provenance: Omit<Provenance, 'figure' | 'commit'>,
): Promise<void> {
  writeFileAtomic(join(dir, `${name}.csv`), await toCsv(t));
  writeFileAtomic(join(dir, `${name}.md`), toMarkdown(t));
  writeFileAtomic(join(dir, `${name}.tex`), await toLatex(t));
  writeJsonAtomic(join(dir, `${name}.provenance.json`), { figure: name, commit: gitCommit(), ...provenance });
}
