/** An experiment's outputs under figures/: every table and figure with its provenance and caption. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, join } from 'node:path';
import { exportReport } from '../../experiments/export';
import type { Report } from '../../experiments/types';
import type { FigureExporter } from '../../lib/report/export';
import { type GrpoSpec, DEFAULT_GRPO, stageDir, stageHash } from '../../lib/pipeline';
import { PROJECT_ROOT } from '../../lib/files';
import { withTempDirs } from '../helpers';
import { tinyBase as base } from '../stages';
const grpo = (seed: number): GrpoSpec => ({
  kind: 'grpo',
  from: base(seed),
  seed,
  grpo: { ...DEFAULT_GRPO, steps: 2 },
  data: { split: 'train', count: 4 },
  eval: { split: 'val', count: 2 },
});

test('provenance names every run, its upstream stages, sorted seeds and the commits that trained them', () =>
  withTempDirs(['RSG_RUNS_DIR', 'RSG_FIGURES_DIR'], async ({ RSG_FIGURES_DIR: figs }) => {
    const seeds = [5, 2, 1, 3, 2];
    const specs = seeds.map(grpo);
    // the bases were trained at one commit, the GRPO stages at another (seed 5's at a third)
    for (const s of [...new Set(seeds)]) {
      for (const [spec, commit] of [
        [base(s), 'aaaaaaaaaaaa'],
        [grpo(s), s === 5 ? 'cccccccccccc' : 'bbbbbbbbbbbb'],
      ] as const) {
        mkdirSync(stageDir(spec), { recursive: true });
        writeFileSync(join(stageDir(spec), 'summary.json'), JSON.stringify({ commit, seconds: 1, steps: 1 }));
      }
    }
    const written: { name: string; provenance: Record<string, unknown>; caption: string }[] = [];
    const exporter = {
      write: async (_dir: string, name: string, _f: unknown, provenance: Record<string, unknown>, caption: string) => {
        written.push({ name, provenance, caption });
      },
      close: async () => {},
    } as unknown as FigureExporter;
    const report: Report = {
      tables: [{ name: 't', table: { title: 'T', header: ['a'], rows: [['1']] }, description: 'a table', specs }],
      figures: [
        { name: 'f', figure: { data: [], layout: {} }, description: 'a figure', specs },
        { name: 'g', figure: { data: [], layout: {} }, description: 'two seeds', specs: [grpo(2), grpo(1)] },
      ],
      claims: [],
      markdown: '## T\n',
    } as unknown as Report;
    const out = await exportReport('table1', 'quick', report, 'blas', { exporter });
    assert.equal(out, [
      join(relative(PROJECT_ROOT, join(figs, 'quick')), 't.{csv,md,tex}'),
      join(relative(PROJECT_ROOT, join(figs, 'quick')), 'f.{svg,png}'),
      join(relative(PROJECT_ROOT, join(figs, 'quick')), 'g.{svg,png}'),
    ]);
    const table = JSON.parse(readFileSync(join(figs, 'quick', 't.provenance.json'), 'utf8'));
    assert.equal(table.seeds, [1, 2, 3, 5]);
    assert.equal(table.configHashes, specs.map(stageHash));
    assert.equal(
      table.runs,
      specs.map((s) => relative(PROJECT_ROOT, stageDir(s))),
    );
    assert.equal([...table.upstream].sort(), [1, 2, 3, 5].map((s) => stageHash(base(s))).sort());
    assert.is(table.backend, 'blas');
    assert.is(table.generatedBy, 'npm run experiment table1 -- --scale quick');
    const [f] = written;
    assert.equal(f.provenance.trainedAt, ['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc']);
    assert.is(
      f.caption,
      'quick scale · seeds 1–3, 5 · blas · trained at aaaaaaaaaaaa, bbbbbbbbbbbb, cccccccccccc · ' +
        'npm run experiment table1 -- --scale quick',
    );
    assert.match(written[1].caption, /^quick scale · seeds 1, 2 · blas · /); // a range needs three seeds
    assert.is(readFileSync(join(figs, 'quick', 'sections', 'table1.md'), 'utf8'), '## T\n');
  }));

test.run();
