/** Writing an experiment's report to figures/: tables (CSV, Markdown, LaTeX), figures (SVG, PNG), provenance. */
import { join } from 'node:path';
import { FigureExporter } from '../lib/report/export';
import { writeTable } from '../lib/report/tables';
import { PROJECT_ROOT, writeFileAtomic } from '../lib/files';
import { stageDir, stageHash, lineage, trainedAt, type StageSpec } from '../lib/pipeline';
import { gitCommit } from '../lib/files';
import { relative } from 'node:path';
import type { Report } from './types';
import type { Scale } from './scales';
import type { DatasetName } from '../lib/data/datasets';

/**
 * figures/ for the default scale on the mini world; figures/<scale>/ for another scale, and
 * figures/<dataset>[/<scale>]/ for a real benchmark (never overwrite the committed default outputs);
 * under $RSG_FIGURES_DIR instead of the project's figures/ when it is set.
 */
export function figuresDir(scale: Scale, dataset: DatasetName = 'synthetic'): string {
  const parts = [...(dataset === 'synthetic' ? [] : [dataset]), ...(scale === 'default' ? [] : [scale])];
  return join(process.env.RSG_FIGURES_DIR || join(PROJECT_ROOT, 'figures'), ...parts);
}

/** The command that regenerates an experiment's outputs. */
function commandOf(experiment: string, scale: Scale, dataset: DatasetName): string {
  const flags = [
    ...(scale === 'default' ? [] : [`--scale ${scale}`]),
    ...(dataset === 'synthetic' ? [] : [`--dataset ${dataset}`]),
  ];
  return `npm run experiment ${experiment}${flags.length ? ` -- ${flags.join(' ')}` : ''}`;
}

function provenanceOf(specs: StageSpec[], backend: string) {
  const seeds = [...new Set(specs.map((s) => s.seed))].sort((a, b) => a - b);
  return {
    runs: specs.map((s) => relative(PROJECT_ROOT, stageDir(s))),
    configHashes: specs.map(stageHash),
    upstream: [...new Set(specs.flatMap((s) => lineage(s).slice(0, -1).map(stageHash)))],
    seeds,
    backend,
  };
}

/** "1–5" for a run of consecutive seeds, else the list. */
function compactSeeds(seeds: number[]): string {
  const s = [...seeds].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    runs.push(j > i + 1 ? `${s[i]}–${s[j]}` : s.slice(i, j + 1).join(', '));
    i = j + 1;
  }
  return runs.join(', ');
}

export async function exportReport(
  experiment: string,
  scale: Scale,
  report: Report,
  backend: string,
  o: { exporter?: FigureExporter; dataset?: DatasetName } = {},
): Promise<string[]> {
  const dataset = o.dataset ?? 'synthetic';
  const dir = figuresDir(scale, dataset);
  const cmd = commandOf(experiment, scale, dataset);
  const exporter = o.exporter;
  const written: string[] = [];
  for (const t of report.tables) {
    await writeTable(dir, t.name, t.table, {
      description: t.description,
      generatedBy: cmd,
      ...provenanceOf(t.specs, backend),
    });
    written.push(`${t.name}.{csv,md,tex}`);
  }
  if (report.figures.length) {
    const ex = exporter ?? (await FigureExporter.start());
    try {
      for (const f of report.figures) {
        const prov = provenanceOf(f.specs, backend);
        const caption = f.specs.length
          ? `${dataset === 'synthetic' ? '' : `${dataset} · `}${scale} scale · seeds ${compactSeeds(prov.seeds)} · ` +
            `${backend} · trained at ` +
            `${trainedAt(f.specs).join(', ')} · ${cmd}`
          : `computed, no training · code at ${gitCommit()} · ${cmd}`;
        await ex.write(
          dir,
          f.name,
          f.figure,
          { description: f.description, generatedBy: cmd, ...prov, trainedAt: trainedAt(f.specs) },
          caption,
        );
        written.push(`${f.name}.{svg,png}`);
      }
    } finally {
      if (!exporter) await ex.close();
    }
  }
  writeFileAtomic(join(dir, 'sections', `${experiment}.md`), report.markdown);
  return written.map((w) => join(relative(PROJECT_ROOT, dir), w));
}
