/** A REPORT.md section: the table (ours beside the paper's) and the verdicts on the claims. */
import { type Table, markdownTable } from '../lib/report/tables';
import type { ClaimResult } from '../lib/report/verdicts';

export function tableMarkdown(t: Table): string {
  return markdownTable(t.header, t.rows);
}

export function claimsMarkdown(claims: ClaimResult[]): string {
  if (!claims.length) return '';
  return claims.map((c) => `- **${c.verdict}** — “${c.text}” (${c.source}). ${c.evidence}.`).join('\n');
}

export function sectionMarkdown(title: string, table: Table | null, claims: ClaimResult[], extra = ''): string {
  const parts = [
    `## ${title}`,
    table ? tableMarkdown(table) : '',
    table?.note ? `_${table.note}_` : '',
    extra.trim(),
    claimsMarkdown(claims),
  ];
  return `${parts.filter((p) => p !== '').join('\n\n')}\n`;
}
