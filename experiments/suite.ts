/**
 * The whole suite at one scale: train the union of its experiments' stages in one worker pool
 * (shared stages once, both cores busy throughout), then build every report and
 * figures/REPORT.md from the runs. `npm run figures` calls `writeSuiteReport` without training.
 *
 * REPORT.md opens with the controls (can this scale resolve an effect at all?); when any control
 * fails, it says so at the top and every verdict at that scale is marked uninterpretable. The
 * verdicts of one paper are one family: each has its raw paired interval and its Holm-adjusted verdict.
 */
import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { SCALES, type Scale } from './scales';
import { defaultJobs, runStages } from './scheduler';
import { SUITE, findExperiment } from './registry';
import { resolveConfig, runExperiment, type RunExperimentOptions } from './runner';
import { exportReport, figuresDir } from './export';
import { gitCommit, writeFileAtomic } from '../lib/files';
import { type ClaimResult, adjustFamily, markUninterpretable } from '../lib/report/verdicts';
import { markdownTable } from '../lib/report/tables';
import { controlsMarkdown } from './controls';
import { selectBackend } from '../lib/backend';
import { type StageSpec, trainedAt } from '../lib/pipeline';
import { auditSentence } from './audit';
import { formatInterval } from '../lib/stats';
import { Progress } from '../lib/progress';
import type { Report } from './types';
import { type PreviousReport, RSGROUND_FAMILY, parsePreviousReport } from './previous-report';

/** The suite's experiments that run on the options' dataset (on a real benchmark: all but the mini-world-only ones). */
export function suiteFor(o: RunExperimentOptions): typeof SUITE {
  return o.dataset && o.dataset.name !== 'synthetic' ? SUITE.filter((e) => !e.syntheticOnly) : SUITE;
}

/** Train every stage the suite's experiments need, in one scheduler. */
export async function trainSuite(o: RunExperimentOptions): Promise<void> {
  const specs: StageSpec[] = [];
  for (const e of suiteFor(o)) specs.push(...e.specs(resolveConfig(e.name, o).config));
  await runStages(specs, {
    jobs: o.jobs ?? defaultJobs(),
    backend: o.backend,
    log: o.log ?? console.log,
    executor: o.executor,
  });
}

/** figures/README.md: every figure as a thumbnail with what it shows and the command that rebuilds it. */
function gallery(
  built: { name: string; report: Report }[],
  scale: Scale,
  order: string[] = built.map((b) => b.name),
  kept: Map<string, string> = new Map(),
): string {
  const flag = scale === 'default' ? '' : ` -- --scale ${scale}`;
  const lines = [
    `# Figures (${scale} scale)`,
    '',
    `Every figure of [REPORT.md](REPORT.md), rebuilt from the runs by \`npm run figures${flag}\` (or by its ` +
      'experiment, below). Each has a `.provenance.json` beside it naming the runs, seeds, backend and the commit ' +
      'that trained them; the line at the bottom of each figure says the same.',
    '',
  ];
  for (const name of order) {
    const b = built.find((x) => x.name === name);
    if (!b) {
      const carried = kept.get(name);
      if (carried) lines.push(carried, '');
      continue;
    }
    if (!b.report.figures.length) continue;
    lines.push(`## ${b.name}`, '', `\`npm run experiment ${b.name}${flag}\``, '');
    for (const f of b.report.figures) {
      lines.push(
        `<a href="${f.name}.svg"><img src="${f.name}.png" width="360" alt="${f.name}"></a>`,
        '',
        `**${f.name}** — ${f.description}`,
        '',
      );
    }
  }
  return lines.join('\n');
}

const pts = (x: number) => (100 * x).toFixed(2);

/** The verdict table: raw paired verdict, MDE, Holm-adjusted verdict. */
function verdictTable(claims: ClaimResult[]): string {
  return markdownTable(
    [
      'claim (paper)',
      'where',
      'verdict',
      'Holm',
      'difference (95% CI over seeds)',
      '95% CI over test samples',
      'MDE',
      'seeds for MDE 2',
    ],
    claims.map((c) => {
      const d = c.diff;
      const diff = d && Number.isFinite(d.halfWidth) ? formatInterval(d) : '–';
      const scaled = (x: number) => (c.scale === 100 ? pts(x) : x.toFixed(4));
      const sc = c.sampleCI;
      return [
        c.text,
        c.source,
        `**${c.verdict}**`,
        c.verdictHolm ?? '–',
        c.scale === 100 ? diff : d ? `${scaled(d.mean)} [${scaled(d.lo)}, ${scaled(d.hi)}]` : '–',
        sc && Number.isFinite(sc.lo) ? `[${scaled(sc.lo)}, ${scaled(sc.hi)}]` : '–',
        Number.isFinite(c.mde) ? scaled(c.mde) : '–',
        Number.isFinite(c.seedsFor2) ? String(c.seedsFor2) : '–',
      ];
    }),
  );
}

/**
 * Build each named experiment's report from finished runs (no training), then write them all and
 * REPORT.md. An experiment without runs at this scale stops everything before a single file is
 * written, unless `partial` (then it is listed as not run) or `merge`: then an experiment whose
 * section the current REPORT.md holds is carried over from it unchanged (experiments/previous-report.ts),
 * with its paper's verdict table when no experiment of that paper is rebuilt.
 */
export async function writeSuiteReport(
  names: string[],
  o: RunExperimentOptions & { scale: Scale; partial?: boolean; merge?: boolean },
): Promise<{ path: string; claims: ClaimResult[]; notRun: string[]; kept: string[]; controlsPass: boolean }> {
  const log = o.log ?? console.log;
  const built: { name: string; report: Report; specs: StageSpec[] }[] = [];
  const missing: { name: string; why: string }[] = [];
  const dataset = o.dataset?.name ?? 'synthetic';
  const dir = figuresDir(o.scale, dataset);
  const wanted = names.map(findExperiment).filter((e) => dataset === 'synthetic' || !e.syntheticOnly);
  // Evaluating the runs takes minutes at the default scale (8 on the Zen 5, 12.5 on the Zen 3): a line per experiment.
  const progress = new Progress('evaluations', wanted.length, { every: 1 });
  for (const [i, name] of wanted.map((e) => e.name).entries()) {
    try {
      const { report, config } = await runExperiment(name, { ...o, noTrain: true, export: false, log: () => {} });
      built.push({ name, report, specs: findExperiment(name).specs(config) });
    } catch (e) {
      missing.push({ name, why: (e as Error).message });
    }
    progress.update(i + 1, name);
  }
  const prev = o.merge ? readPrevious(dir) : null;
  const kept = new Map<string, string>();
  if (prev)
    for (const { name } of missing) {
      const file = join(dir, 'sections', `${name}.md`);
      const section = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (section.trim() && prev.text.includes(section.trim())) kept.set(name, section);
    }
  const notRun = missing.filter((m) => !kept.has(m.name)).map((m) => `${m.name}: ${m.why}`);
  if (notRun.length && !o.partial) {
    throw new Error(
      `${notRun.length} of ${names.length} experiment(s) have no finished runs at ${o.scale} scale` +
        `${o.merge ? ' and no section in the current REPORT.md' : ''} — nothing was ` +
        `written (figures/ is untouched):\n  ${notRun.join('\n  ')}\nTrain them first, or pass --partial to ` +
        'write what exists and list the rest as not run.',
    );
  }
  const backend = (await selectBackend(o.backend ?? process.env.RSG_BACKEND ?? 'auto')).name;
  for (const { name, report } of built) {
    const written = await exportReport(name, o.scale, report, backend, { dataset });
    log(`${name}: ${written.length ? written.join(', ') : 'nothing to write'}`);
  }
  for (const name of kept.keys()) log(`${name}: no runs here; carried over from the current REPORT.md`);
  const controls = built.flatMap((b) => b.report.controls ?? []);
  const keptControls = kept.has('controls') && prev?.controls ? prev.controls : null;
  const controlsPass = controls.every((c) => c.passes) && !(keptControls && prev?.controlsFailed);
  // One family of claims per paper: Holm adjusts within it.
  const familyOf = (name: string) => findExperiment(name).family ?? RSGROUND_FAMILY;
  const present = [...built.map((b) => b.name), ...kept.keys()];
  const families = [...new Set([RSGROUND_FAMILY, ...present.map(familyOf)])].filter((f) =>
    present.some((n) => familyOf(n) === f),
  );
  const byFamily = families.map((f) => {
    let cs = adjustFamily(built.filter((b) => familyOf(b.name) === f).flatMap((b) => b.report.claims));
    if (!controlsPass) cs = markUninterpretable(cs);
    // a paper none of whose claims was rebuilt keeps the verdict table it had; Holm cannot mix the two
    const carried = prev?.verdicts.get(f) ?? null;
    const keptHere = [...kept.keys()].filter((n) => familyOf(n) === f);
    if (cs.length && carried && keptHere.length)
      throw new Error(
        `--merge: ${f} has claims rebuilt from runs here and experiments carried over (${keptHere.join(', ')}); ` +
          "Holm adjusts over a paper's whole family, so rebuild all of that paper's experiments here or none",
      );
    return { family: f, claims: cs, table: cs.length ? verdictTable(cs) : keptHere.length ? carried : null };
  });
  const tables = byFamily.filter((f) => f.table !== null);
  const claims = byFamily.flatMap((f) => f.claims);
  const limitsFile = join(figuresDir('default'), 'LIMITS.md');
  const limits = existsSync(limitsFile) ? readFileSync(limitsFile, 'utf8') : '';
  const seeds = o.seeds ?? SCALES[o.scale].seeds;
  const failed = [
    ...controls.filter((c) => !c.passes).map((c) => c.control),
    ...(keptControls && prev?.controlsFailed ? ['see the carried-over controls table'] : []),
  ];
  const commits = [
    ...new Set([...trainedAt(built.flatMap((b) => b.specs)), ...(kept.size ? (prev?.commits ?? []) : [])]),
  ];
  const audited = auditSentence(built.flatMap((b) => b.specs));
  const report = [
    `# RSGround-R1 on ${dataset === 'synthetic' ? 'the mini world' : dataset}: the paper's numbers and ours`,
    '',
    ...(failed.length
      ? [
          `> **A control failed at this scale (${failed.join(', ')}): the testbed cannot be trusted to resolve an ` +
            `effect here, and every verdict below is marked uninterpretable.**`,
          '',
        ]
      : []),
    `Generated by \`npm run figures${o.scale === 'default' ? '' : ` -- --scale ${o.scale}`}\` from the runs under ` +
      `\`runs/\` (scale: **${o.scale}**, seeds ${seeds.join(', ')}; the runs were trained by the code at commit ` +
      `${commits.join(', ')}; this report was written at ${gitCommit()}). ` +
      (kept.size
        ? `The sections of ${[...kept.keys()].join(', ')} had no runs here and are carried over unchanged from the ` +
          'previous REPORT.md (`--merge`), with the verdicts of papers none of whose experiments was rebuilt. '
        : '') +
      "Every number of ours is a mean over seeds with a 95% Student-t confidence interval; the paper's are quoted " +
      'from its tables (DIOR-RSVG columns). Variants are compared **paired by seed**: every row of a comparison ' +
      'trains from the same seeded lineage and is evaluated on the same samples. A claim is **reproduced** when ' +
      'the 95% interval of the per-seed difference lies above zero, **contradicted** when it lies below, and ' +
      '**inconclusive at this scale** otherwise; the Holm column repeats the decision with the p-values adjusted ' +
      "over the family of that paper's claims (one family per paper). The interval over test samples (a paired " +
      'bootstrap with the seeds fixed) is the noise of the finite test split alone, to set beside the seed ' +
      'interval. MDE: the smallest difference these seeds detect with 80% power ' +
      '(α = 0.05), from the measured spread of the per-seed differences.' +
      (audited ? ` ${audited}` : ''),
    '',
    ...(controls.length
      ? ['## Controls', '', controlsMarkdown(controls), '']
      : keptControls
        ? ['## Controls', '', keptControls, '']
        : []),
    '## Verdicts',
    '',
    ...(tables.length
      ? tables.flatMap((f) => (tables.length > 1 ? [`### ${f.family}`, '', f.table!, ''] : [f.table!, '']))
      : ['_No experiment has finished runs at this scale._', '']),
    ...(notRun.length ? ['## Not run at this scale', '', ...notRun.map((n) => `- ${n}`), ''] : []),
    ...wanted.flatMap((e) => {
      const b = built.find((x) => x.name === e.name);
      return b ? [b.report.markdown] : kept.has(e.name) ? [kept.get(e.name)!] : [];
    }),
    limits,
  ].join('\n');
  const path = join(dir, 'REPORT.md');
  writeFileAtomic(path, report);
  writeFileAtomic(
    join(dir, 'README.md'),
    gallery(
      built,
      o.scale,
      wanted.map((e) => e.name),
      new Map([...(prev?.gallery ?? [])].filter(([name]) => kept.has(name))),
    ),
  );
  log(`wrote ${path}`);
  return { path, claims, notRun, kept: [...kept.keys()], controlsPass };
}

/** The REPORT.md and figures README now in `dir`, for --merge (empty when there is none). */
function readPrevious(dir: string): PreviousReport {
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  return parsePreviousReport(read('REPORT.md'), read('README.md'));
}
