/**
 * npm run data -- <split ...|all> [--count N] [--out DIR]   materialise splits (JSONL + PNG + manifest)
 * npm run data -- stats [split ...] [--count N]              dataset statistics (Markdown)
 * npm run data -- samples [--split val] [--n 6] [--out DIR]   render a few samples to PNG
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { materializeSplit, writeSplitStats } from '../lib/data/disk';
import {
  SPLIT_NAMES,
  GROUNDING_SPLITS,
  OOD_SPLITS,
  splitSpec,
  groundingSplit,
  groundingSample,
  regionSplit,
  taskSplit,
} from '../lib/data/splits';
import { EXPORT_FORMATS, type ExportFormat, exportSplit } from '../lib/data/export';
import {
  datasetStats,
  regionStats,
  regionStatsMarkdown,
  statsMarkdown,
  taskMixStats,
  taskMixStatsMarkdown,
} from '../lib/data/stats';
import { renderSample } from '../lib/data/render';
import { dataDir, writeFileAtomic, PROJECT_ROOT } from '../lib/files';
import { Progress } from '../lib/progress';

const HELP = `usage:
  npm run data -- <split ...|all> [--count N] [--out DIR]
      materialise splits to DIR (default $RSG_DATA_DIR or ./data) as samples.jsonl + images/*.png + manifest.json
  npm run data -- stats [split ...] [--count N]
      print dataset statistics (default: train, val, test and the OOD splits; a region split,
      e.g. region-test, gives how many objects its queries name)
  npm run data -- samples [--split val] [--n 6] [--out figures/samples]
      render samples with their ground truth to PNG
  npm run data -- export [split ...] --format vlm-r1|sharegpt [--size 512] [--count N] [--out DIR]
      every grounding split (default: train, val, test and the OOD sets) as images + JSONL for
      real VLM trainers (VLM-R1, ShareGPT-style), boxes in the exported image's pixels; default
      out: data/export-<format>-<size>; score a model on it with npm run score -- --dataset exported

splits: ${SPLIT_NAMES.join(', ')}`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    count: { type: 'string' },
    format: { type: 'string' },
    size: { type: 'string' },
    out: { type: 'string' },
    split: { type: 'string' },
    n: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

function intOption(name: string, v: string | undefined, dflt?: number): number | undefined {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

async function main(): Promise<void> {
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    return;
  }
  const [cmd, ...rest] = positionals;
  if (cmd === 'stats') {
    const splits = rest.length ? rest : ['train', 'val', 'test', 'ood-palette', 'ood-scale', 'ood-dense'];
    const count = intOption('count', values.count);
    for (const s of splits) {
      const task = splitSpec(s).task; // throws on an unknown split, listing the known ones
      const n = count ?? Math.min(splitSpec(s).size, 2000);
      const title = `${s}: ${splitSpec(s).description}`;
      console.log(
        task === 'region'
          ? regionStatsMarkdown(title, regionStats(regionSplit(s, { count: n })))
          : task === 'grounding'
            ? statsMarkdown(title, datasetStats(groundingSplit(s, { count: n })))
            : taskMixStatsMarkdown(title, taskMixStats(taskSplit(s, { count: n }))),
      );
    }
    return;
  }
  if (cmd === 'export') {
    const format = values.format ?? 'vlm-r1';
    if (!(EXPORT_FORMATS as readonly string[]).includes(format))
      throw new Error(`--format ${format} is invalid (allowed: ${EXPORT_FORMATS.join(', ')})`);
    const size = intOption('size', values.size, 512)!;
    const splits = rest.length ? rest : ['train', 'val', 'test', ...OOD_SPLITS];
    for (const s of splits)
      if (!GROUNDING_SPLITS.includes(s as never))
        throw new Error(`export: "${s}" is not a grounding split (choose from ${GROUNDING_SPLITS.join(', ')})`);
    const root = values.out ?? join(dataDir(), `export-${format}-${size}`);
    for (const s of splits) {
      const count = intOption('count', values.count) ?? splitSpec(s).size;
      const bar = new Progress(`export ${s}`, count);
      const r = await exportSplit(s, {
        root,
        format: format as ExportFormat,
        size,
        count,
        onProgress: (d) => bar.update(d),
      });
      console.log(`${r.file}: ${r.count} records (${format}, ${size}×${size})`);
    }
    return;
  }
  if (cmd === 'samples') {
    const split = values.split ?? 'val';
    const n = intOption('n', values.n, 6)!;
    const out = values.out ?? join(PROJECT_ROOT, 'figures', 'samples');
    mkdirSync(out, { recursive: true });
    for (let i = 0; i < n; i++) {
      const s = groundingSample(split, i);
      const path = join(out, `${s.id}.png`);
      writeFileAtomic(path, await renderSample(s, { scale: 5 }));
      console.log(`${path}  "${s.query}"  (${s.meta!.cueFamily})`);
    }
    return;
  }
  const splits = cmd === 'all' ? SPLIT_NAMES : positionals;
  for (const s of splits) splitSpec(s); // fail fast on a typo, before writing anything
  const root = values.out ?? dataDir();
  for (const s of splits) {
    const count = intOption('count', values.count) ?? splitSpec(s).size;
    const bar = new Progress(`data ${s}`, count);
    const m = await materializeSplit(s, { count, root, onProgress: (d) => bar.update(d) });
    if (splitSpec(s).task === 'grounding') {
      writeSplitStats(join(root, s), datasetStats(groundingSplit(s, { count: Math.min(count, 2000) })));
    }
    console.log(`${join(root, s)}: ${m.count} samples, content ${m.contentHash.slice(0, 16)}`);
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
});
