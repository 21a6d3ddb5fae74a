/**
 * Two REPORT.md files side by side, claim by claim: did a rerun (another processor, another OpenBLAS
 * kernel, other seeds, a later commit) reach the same verdicts? `npm run compare-reports -- <a> <b>`.
 *
 * A rerun with other floating-point rounding trains other trajectories from the same seeds, so it is a
 * fresh draw of the seed noise: a claim whose verdict changes between two such reports was decided by
 * that noise. The comparison names three outcomes per claim: the same verdict, a different one where
 * one report decided and the other did not (the effect sits near what the seeds resolve), and a flip
 * (reproduced in one, contradicted in the other), which intervals at 95% should almost never give.
 */
import { parsePreviousReport } from './previous-report';

export type VerdictRow = {
  family: string;
  claim: string;
  verdict: string;
  /** the Holm-adjusted verdict, when the report has that column */
  holm: string | null;
  /** the per-seed difference with its 95% CI, as printed */
  difference: string;
};

export type ControlRow = { control: string; difference: string; passes: string };

/** The rows of a Markdown table (header, separator, body) as objects keyed by the header's cells. */
export function tableRows(md: string): Record<string, string>[] {
  const lines = md.split('\n').filter((l) => l.trim().startsWith('|'));
  if (lines.length < 2) return [];
  const cells = (l: string) =>
    l
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim());
  const header = cells(lines[0]);
  return lines.slice(2).map((l) => {
    const c = cells(l);
    return Object.fromEntries(header.map((h, i) => [h, c[i] ?? '']));
  });
}

const plain = (s: string) => s.replace(/\*\*/g, '').trim();

/** Every claim of a REPORT.md's verdict tables, family by family, in the order printed. */
export function verdictRows(report: string): VerdictRow[] {
  const out: VerdictRow[] = [];
  for (const [family, table] of parsePreviousReport(report).verdicts)
    for (const r of tableRows(table)) {
      const claim = r['claim (paper)'];
      if (!claim || r.verdict === undefined) continue;
      out.push({
        family,
        claim,
        verdict: plain(r.verdict),
        holm: r.Holm !== undefined ? plain(r.Holm) : null,
        difference: r['difference (95% CI over seeds)'] ?? r.difference ?? '',
      });
    }
  return out;
}

/** The rows of a REPORT.md's `## Controls` table. */
export function controlRows(report: string): ControlRow[] {
  const table = parsePreviousReport(report).controls;
  if (!table) return [];
  return tableRows(table).map((r) => ({
    control: r.control ?? '',
    difference: r['difference (95% CI)'] ?? '',
    passes: plain(r.passes ?? ''),
  }));
}

export type Agreement = 'same' | 'decided in one' | 'flipped' | 'only in one';

/** How two verdicts on one claim relate. */
export function agreement(a: string | null, b: string | null): Agreement {
  if (a === null || b === null) return 'only in one';
  if (a === b) return 'same';
  const decided = (v: string) => v === 'reproduced' || v === 'contradicted';
  return decided(a) && decided(b) ? 'flipped' : 'decided in one';
}

export type ClaimComparison = { family: string; claim: string; a: VerdictRow | null; b: VerdictRow | null };

export type ReportComparison = {
  claims: ClaimComparison[];
  controls: { control: string; a: ControlRow | null; b: ControlRow | null }[];
};

/** Pair the claims (by family and claim text) and the controls of two REPORT.md texts. */
export function compareReports(a: string, b: string): ReportComparison {
  const key = (r: { family: string; claim: string }) => `${r.family}\u0000${r.claim}`;
  const ra = verdictRows(a),
    rb = verdictRows(b);
  const byB = new Map(rb.map((r) => [key(r), r]));
  const claims: ClaimComparison[] = ra.map((r) => ({
    family: r.family,
    claim: r.claim,
    a: r,
    b: byB.get(key(r)) ?? null,
  }));
  const inA = new Set(ra.map(key));
  for (const r of rb) if (!inA.has(key(r))) claims.push({ family: r.family, claim: r.claim, a: null, b: r });
  const ca = controlRows(a),
    cb = controlRows(b);
  const controls: ReportComparison['controls'] = ca.map((c) => ({
    control: c.control,
    a: c,
    b: cb.find((x) => x.control === c.control) ?? null,
  }));
  for (const c of cb)
    if (!ca.some((x) => x.control === c.control)) controls.push({ control: c.control, a: null, b: c });
  return { claims, controls };
}

/** Counts of each agreement, raw verdicts and (where both reports print it) Holm. */
export function agreementCounts(c: ReportComparison): {
  raw: Record<Agreement, number>;
  holm: Record<Agreement, number>;
} {
  const zero = (): Record<Agreement, number> => ({ same: 0, 'decided in one': 0, flipped: 0, 'only in one': 0 });
  const raw = zero(),
    holm = zero();
  for (const x of c.claims) {
    raw[agreement(x.a?.verdict ?? null, x.b?.verdict ?? null)]++;
    holm[agreement(x.a?.holm ?? null, x.b?.holm ?? null)]++;
  }
  return { raw, holm };
}

/** The comparison as Markdown: a summary line, the controls, then one table per family. */
export function comparisonMarkdown(c: ReportComparison, names: [string, string]): string {
  const [na, nb] = names;
  const { raw, holm } = agreementCounts(c);
  const n = c.claims.length;
  const out: string[] = [
    `Verdicts of ${n} claim(s), ${na} against ${nb}: **${raw.same} the same**, ${raw['decided in one']} decided in ` +
      `one report only, ${raw.flipped} flipped (reproduced in one, contradicted in the other)` +
      (raw['only in one'] ? `, ${raw['only in one']} in one report only` : '') +
      `. Holm-adjusted: ${holm.same} the same, ${holm['decided in one']} decided in one only, ${holm.flipped} flipped` +
      (holm['only in one'] ? `, ${holm['only in one']} without a Holm verdict in both` : '') +
      '.',
    '',
  ];
  if (c.controls.length) {
    out.push(
      `| control | difference, ${na} | passes | difference, ${nb} | passes |`,
      '| --- | ---: | ---: | ---: | ---: |',
    );
    for (const x of c.controls)
      out.push(
        `| ${x.control} | ${x.a?.difference ?? '–'} | ${x.a?.passes ?? '–'} | ` +
          `${x.b?.difference ?? '–'} | ${x.b?.passes ?? '–'} |`,
      );
    out.push('');
  }
  for (const family of [...new Set(c.claims.map((x) => x.family))]) {
    out.push(
      `### ${family}`,
      '',
      `| claim | ${na} | difference | ${nb} | difference | agreement |`,
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const x of c.claims.filter((y) => y.family === family))
      out.push(
        `| ${x.claim} | ${x.a?.verdict ?? '–'} | ${x.a?.difference ?? '–'} | ${x.b?.verdict ?? '–'} | ` +
          `${x.b?.difference ?? '–'} | ${agreement(x.a?.verdict ?? null, x.b?.verdict ?? null)} |`,
      );
    out.push('');
  }
  return out.join('\n');
}
