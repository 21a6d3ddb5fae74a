/**
 * `npm run experiment <name> -- --audit <n>`: retrain n finished stages, drawn at random, from their
 * stored parents in a scratch runs directory, and compare what they wrote with what is stored —
 * metrics.jsonl byte for byte, the final weights, optimizer and sampler state by their checksums,
 * the final evaluation and the selected step. A stored run is only as trustworthy as the claim
 * that the code here reproduces it: stages trained at older commits (or with uncommitted
 * changes, `-dirty` in their summaries) are reused as long as the training-code and data versions
 * match, and the audit is the check that this reuse is right. The result is appended to
 * `<runs>/audit.json`, which REPORT.md cites. `--compare <dir>` compares every stage finished in two
 * runs directories the same way.
 *
 * The draw: the finished stages the experiments use, shuffled by `seed`, taken in order, skipping
 * any stage in the lineage of one already taken (a stage is retrained from its stored parent; a
 * parent retrained beside it would have to be stored twice in one directory).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  isDone,
  lineage,
  stageDir,
  stageHash,
  stageName,
  stageSummary,
  type StageSpec,
  type StageSummary,
} from '../lib/pipeline';
import { gitCommit, readJson, runsDir, writeJsonAtomic } from '../lib/files';
import { Rng } from '../lib/rng';
import { runStages, type Executor } from './scheduler';

/** The files of a checkpoint whose checksums must agree (the tokenizer and config follow from the spec). */
const CHECKPOINT_FILES = ['model.safetensors', 'optimizer.safetensors', 'state.json'] as const;

export type AuditRow = {
  stage: string;
  kind: StageSpec['kind'];
  /** the commit recorded by the stored stage's summary */
  trainedAt: string;
  /** identical in everything compared; null when the two ran on different backends or kernels */
  identical: boolean | null;
  /** what differs, e.g. "metrics.jsonl line 12", "model.safetensors" */
  differences: string[];
  storedSeconds: number;
  seconds: number;
};

export type Audit = {
  date: string;
  commit: string;
  seed: number;
  backendDetail: string;
  rows: AuditRow[];
};

/** Every finished stage the specs use (their lineages included), once each. */
export function finishedStages(specs: StageSpec[]): StageSpec[] {
  const seen = new Map<string, StageSpec>();
  for (const s of specs.flatMap(lineage)) {
    const h = stageHash(s);
    if (!seen.has(h) && isDone(s)) seen.set(h, s);
  }
  return [...seen.values()].sort((a, b) => stageName(a).localeCompare(stageName(b)));
}

/** Draw up to n stages: shuffled by `seed`, no two in one lineage (see the file's header). */
export function drawAudit(stages: StageSpec[], n: number, seed: number): StageSpec[] {
  const order = new Rng(seed).shuffle([...stages]);
  const taken: StageSpec[] = [];
  const related = new Set<string>();
  for (const s of order) {
    if (taken.length >= n) break;
    const h = stageHash(s);
    if (related.has(h)) continue;
    taken.push(s);
    for (const a of lineage(s)) related.add(stageHash(a));
    // its descendants among the candidates
    for (const d of stages) if (lineage(d).some((a) => stageHash(a) === h)) related.add(stageHash(d));
  }
  return taken;
}

function firstDifferentLine(a: string, b: string): number | null {
  if (a === b) return null;
  const x = a.split('\n'),
    y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return i + 1;
  return null;
}

function checksums(dir: string): Record<string, string> {
  const f = join(dir, 'checkpoint', 'checksums.json');
  return existsSync(f) ? (readJson<{ sha256: Record<string, string> }>(f).sha256 ?? {}) : {};
}

/**
 * What differs between a stored stage directory and its retrained copy (empty: identical).
 * The training time and the commit are expected to differ and are not compared.
 */
export function compareStage(stored: string, again: string): string[] {
  const out: string[] = [];
  const read = (d: string) =>
    existsSync(join(d, 'metrics.jsonl')) ? readFileSync(join(d, 'metrics.jsonl'), 'utf8') : '';
  const line = firstDifferentLine(read(stored), read(again));
  if (line !== null) out.push(`metrics.jsonl line ${line}`);
  const [a, b] = [checksums(stored), checksums(again)];
  for (const f of CHECKPOINT_FILES) if (a[f] === undefined || a[f] !== b[f]) out.push(`checkpoint ${f}`);
  const [sa, sb] = [
    readJson<StageSummary>(join(stored, 'summary.json')),
    readJson<StageSummary>(join(again, 'summary.json')),
  ];
  if (sa.steps !== sb.steps) out.push(`steps (${sa.steps} → ${sb.steps})`);
  if (!isDeepStrictEqual(sa.eval, sb.eval)) out.push('the final evaluation');
  if (!isDeepStrictEqual(sa.selected ?? null, sb.selected ?? null)) out.push('the selected step');
  return out;
}

/** The backend and kernels a summary records (runs are reproducible per backend and OpenBLAS kernel). */
function backendOf(s: StageSummary): string {
  return `${s.backend}${s.backendDetail ? ` (${s.backendDetail})` : ''}`;
}

export function auditFile(): string {
  return join(runsDir(), 'audit.json');
}

/** Every audit recorded in the runs directory, oldest first. */
export function readAudits(): Audit[] {
  const f = auditFile();
  if (!existsSync(f)) return [];
  try {
    return readJson<{ audits: Audit[] }>(f).audits ?? [];
  } catch (e) {
    throw new Error(`${f}: ${(e as Error).message} (move it aside to start a new audit record)`);
  }
}

/**
 * Retrain `stages` (from their stored parents) in a scratch runs directory under the current
 * one, compare, record the audit in audit.json and return it. The scratch directory is removed
 * when every stage matched and kept (its path printed) when one did not.
 */
export async function auditStages(
  stages: StageSpec[],
  opts: { seed: number; jobs: number; backend?: string; log: (m: string) => void; executor?: Executor },
): Promise<Audit & { scratch: string | null }> {
  for (const s of stages) if (!isDone(s)) throw new Error(`stage ${stageName(s)} is not finished: nothing to audit`);
  const home = runsDir();
  const scratch = join(home, '_audit', `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(join(scratch, '_store'), { recursive: true });
  for (const s of stages)
    for (const p of lineage(s).slice(0, -1)) {
      const link = join(scratch, '_store', stageName(p));
      if (!existsSync(link)) symlinkSync(stageDir(p), link, 'dir');
    }
  if (existsSync(join(home, '_cache'))) symlinkSync(join(home, '_cache'), join(scratch, '_cache'), 'dir');
  const stored = stages.map((s) => ({ dir: stageDir(s), summary: stageSummary(s)! }));
  const prev = process.env.RSG_RUNS_DIR;
  process.env.RSG_RUNS_DIR = scratch;
  let rows: AuditRow[];
  let detail = '';
  try {
    await runStages(stages, { jobs: opts.jobs, backend: opts.backend, log: opts.log, executor: opts.executor });
    rows = stages.map((s, i) => {
      const again = stageSummary(s)!;
      detail = backendOf(again);
      const comparable = backendOf(again) === backendOf(stored[i].summary);
      const differences = comparable
        ? compareStage(stored[i].dir, stageDir(s))
        : [`trained on ${backendOf(stored[i].summary)}, retrained on ${backendOf(again)}`];
      return {
        stage: stageName(s),
        kind: s.kind,
        trainedAt: stored[i].summary.commit ?? 'unrecorded',
        identical: comparable ? differences.length === 0 : null,
        differences,
        storedSeconds: stored[i].summary.seconds,
        seconds: again.seconds,
      };
    });
  } finally {
    if (prev === undefined) delete process.env.RSG_RUNS_DIR;
    else process.env.RSG_RUNS_DIR = prev;
  }
  const audit: Audit = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    seed: opts.seed,
    backendDetail: detail,
    rows,
  };
  writeJsonAtomic(auditFile(), { audits: [...readAudits(), audit] });
  const clean = rows.every((r) => r.identical === true);
  if (clean) rmSync(scratch, { recursive: true, force: true });
  return { ...audit, scratch: clean ? null : scratch };
}

export type ComparedStage = Pick<AuditRow, 'stage' | 'kind' | 'identical' | 'differences'>;

/**
 * Every stage of `specs` finished both here and in the runs directory `other` (trained there on
 * another machine, or again from scratch here), compared as the audit compares a retrained stage:
 * is a whole suite reproduced, stage by stage? Stages finished in only one of the two are skipped.
 */
export function compareRuns(specs: StageSpec[], other: string): ComparedStage[] {
  if (!existsSync(join(other, '_store')))
    throw new Error(`${other} is not a runs directory (it has no _store/ folder of stages)`);
  return finishedStages(specs).flatMap((s): ComparedStage[] => {
    const there = join(other, '_store', stageName(s));
    if (!existsSync(join(there, 'summary.json'))) return [];
    const [a, b] = [stageSummary(s)!, readJson<StageSummary>(join(there, 'summary.json'))];
    if (backendOf(a) !== backendOf(b))
      return [
        {
          stage: stageName(s),
          kind: s.kind,
          identical: null,
          differences: [`trained on ${backendOf(a)} here, ${backendOf(b)} there`],
        },
      ];
    const differences = compareStage(stageDir(s), there);
    return [{ stage: stageName(s), kind: s.kind, identical: differences.length === 0, differences }];
  });
}

/**
 * One sentence on the audits that retrained stages among `specs` (for REPORT.md): how many,
 * at which commits, and how many came out identical; null when none did.
 */
export function auditSentence(specs: StageSpec[], audits: Audit[] = readAudits()): string | null {
  const mine = new Set(specs.flatMap(lineage).map(stageName));
  const rows = audits.flatMap((a) => a.rows.filter((r) => mine.has(r.stage)).map((r) => ({ ...r, commit: a.commit })));
  if (!rows.length) return null;
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) latest.set(r.stage, r); // the latest audit of a stage decides
  const all = [...latest.values()];
  const same = all.filter((r) => r.identical === true).length;
  const other = all.filter((r) => r.identical === null).length;
  const commits = [...new Set(all.map((r) => r.commit))].join(', ');
  const differ = all.filter((r) => r.identical === false);
  return (
    `Audit (\`--audit\`): ${all.length} of these stages, drawn at random, were retrained from their stored parents ` +
    `by the code at ${commits}: ${same} of ${all.length} identical (metrics.jsonl byte for byte, weights, optimizer ` +
    `and sampler state, final evaluation)` +
    (differ.length
      ? `; **${differ.length} differ** (${differ.map((r) => `${r.stage}: ${r.differences.join(', ')}`).join('; ')})`
      : '') +
    (other ? `; ${other} ran on another backend or kernel and were not compared` : '') +
    '.'
  );
}
