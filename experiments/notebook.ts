/**
 * What a notebook calls: run an experiment at the notebook's scale (quick when RSG_QUICK=1, else
 * default; finished runs are reused), show its tables, figures and verdicts, and remember what it
 * wrote so that the last cell can report it (`npm run notebooks` checks those files exist).
 */
import { showMarkdown, showWritten } from '../lib/report/notebook';
import { runExperiment } from './runner';

/** Files exported by the notebook's experiments so far. */
export const written: string[] = [];

export async function showExperiment(name: string): Promise<void> {
  const scale = process.env.RSG_QUICK === '1' ? 'quick' : 'default';
  const r = await runExperiment(name, { scale, log: () => {} });
  showWritten(
    r.written,
    r.report.tables.map((t) => t.table),
  );
  for (const c of r.report.claims) showMarkdown(`**${c.verdict}** — ${c.text}: ${c.evidence}`);
  written.push(...r.written);
}

/** The notebook's last cell: the list of files it exported, as one JSON line. */
export function reportWritten(): void {
  console.log(JSON.stringify({ written }));
}
