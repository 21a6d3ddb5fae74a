/**
 * What an earlier figures/REPORT.md (and figures/README.md) holds, so that `npm run figures -- --merge`
 * can rebuild the experiments whose runs are here and carry over, unchanged, those whose runs are
 * not (trained on another machine, or before the runs directory was cleared).
 *
 * The unit carried over is an experiment's exported section (figures/sections/<name>.md, written
 * with its tables and figures) and, for a paper none of whose experiments is rebuilt, that paper's
 * verdict table as REPORT.md printed it — Holm adjusts within one paper's claims, so a family that
 * is not rebuilt keeps its adjusted verdicts exactly. A family that is rebuilt is adjusted afresh.
 */

/** The default family (experiments without `family`), which a single-family REPORT.md leaves untitled. */
export const RSGROUND_FAMILY = 'RSGround-R1 (paper 000)';

export type PreviousReport = {
  /** the whole REPORT.md, to check that a section was part of it */
  text: string;
  /** the commits the header names as having trained its runs */
  commits: string[];
  /** the "## Controls" table, or null */
  controls: string | null;
  /** whether the header said a control failed */
  controlsFailed: boolean;
  /** each family's verdict table, by family title */
  verdicts: Map<string, string>;
  /** figures/README.md's block of each experiment (heading included) */
  gallery: Map<string, string>;
};

/** The text after `heading` up to the next heading of the same or a higher level, trimmed; null when absent. */
function block(md: string, heading: string): string | null {
  const lines = md.split('\n');
  const i = lines.indexOf(heading);
  if (i < 0) return null;
  const level = heading.indexOf(' ');
  let j = i + 1;
  while (j < lines.length) {
    const m = /^(#+) /.exec(lines[j]);
    if (m && m[1].length <= level) break;
    j++;
  }
  return lines
    .slice(i + 1, j)
    .join('\n')
    .trim();
}

/** Split `md` at headings of one level (`## ` or `### `): title → the text under it, trimmed. */
function splitAt(md: string, marker: '## ' | '### '): Map<string, string> {
  const out = new Map<string, string>();
  let title: string | null = null;
  let body: string[] = [];
  const flush = () => {
    if (title !== null) out.set(title, body.join('\n').trim());
  };
  for (const line of md.split('\n')) {
    if (line.startsWith(marker)) {
      flush();
      title = line.slice(marker.length).trim();
      body = [];
    } else body.push(line);
  }
  flush();
  return out;
}

export function parsePreviousReport(report: string, gallery = ''): PreviousReport {
  // a short hash, `-dirty` when the tree had changes, or `unknown` / `unrecorded` (lib/files.ts, lib/pipeline.ts)
  const commits = /trained by the code at commit ([\w-]+(?:, [\w-]+)*)/.exec(report)?.[1].split(', ') ?? [];
  const verdicts = new Map<string, string>();
  const v = block(report, '## Verdicts');
  if (v && !v.startsWith('_No experiment')) {
    if (/^### /m.test(v)) for (const [family, table] of splitAt(v, '### ')) verdicts.set(family, table);
    else verdicts.set(RSGROUND_FAMILY, v);
  }
  const galleryBlocks = new Map<string, string>();
  for (const [name, body] of splitAt(gallery, '## ')) galleryBlocks.set(name, `## ${name}\n\n${body}`);
  return {
    text: report,
    commits,
    controls: block(report, '## Controls'),
    controlsFailed: /A control failed at this scale/.test(report),
    verdicts,
    gallery: galleryBlocks,
  };
}
