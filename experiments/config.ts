/**
 * Merging a scale preset with an experiment's differences and the command line's overrides:
 * `--set key=value` by dotted path into the resolved config, `--seeds`, then one validation of
 * the whole result (every number with its range) before anything trains.
 */
import { COMMON_SCHEMA, type CommonConfig } from './scales';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { validate } from '../lib/config';

/**
 * Set a dotted path in a config. The path must exist (so a typo fails loudly, listing the keys
 * allowed there). The value is JSON (`300`, `true`, `"geocot"`, `[1,2]`); a bare word is accepted
 * for a string field (`--set cot=geocot`) and is an error anywhere else.
 */
export function applySet(cfg: CommonConfig, assignment: string): CommonConfig {
  const eq = assignment.indexOf('=');
  if (eq < 1) throw new Error(`--set expects key=value, got "${assignment}"`);
  const path = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  const out = structuredClone(cfg) as Record<string, unknown>;
  let node = out;
  for (let i = 0; i < path.length - 1; i++) {
    const next = node[path[i]];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
      const here = path.slice(0, i).join('.') || 'the config';
      const sections = Object.keys(node).filter((k) => typeof node[k] === 'object' && !Array.isArray(node[k]));
      throw new Error(
        `--set ${assignment}: "${path.slice(0, i + 1).join('.')}" is not a config section (sections of ${here}: ` +
          `${sections.join(', ')})`,
      );
    }
    node = next as Record<string, unknown>;
  }
  const leaf = path[path.length - 1];
  if (!(leaf in node))
    throw new Error(
      `--set ${assignment}: unknown key "${path.join('.')}" (allowed here: ${Object.keys(node).join(', ')})`,
    );
  const current = node[leaf];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    if (typeof current !== 'string')
      throw new Error(
        `--set ${assignment}: "${raw}" is not valid JSON (${path.join('.')} is a ` +
          `${Array.isArray(current) ? 'list' : typeof current})`,
      );
    value = raw;
  }
  const kind = (v: unknown) => (Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v);
  if (kind(current) !== kind(value))
    throw new Error(
      `--set ${assignment}: ${path.join('.')} is a ${kind(current)}, got ${kind(value)} ${JSON.stringify(value)}`,
    );
  node[leaf] = value;
  return out as unknown as CommonConfig;
}

/** `--seeds 1,2,3` → [1, 2, 3]; empty items, non-integers and negatives are errors. */
export function parseSeeds(s: string): number[] {
  const items = s.split(',').map((x) => x.trim());
  if (items.some((x) => !/^\d+$/.test(x)))
    throw new Error(`--seeds expects a comma-separated list of integers ≥ 0, got "${s}"`);
  const seeds = items.map(Number);
  if (new Set(seeds).size !== seeds.length) throw new Error(`--seeds lists a seed twice: "${s}"`);
  return seeds;
}

/** Validate a merged config; errors name every bad key by its dotted path. */
export function validateCommon(c: CommonConfig): CommonConfig {
  const v = validate(COMMON_SCHEMA, c, '') as CommonConfig;
  if (v.dataset.name !== 'synthetic') {
    if (!v.dataset.root)
      throw new Error(
        `dataset.name = ${v.dataset.name} needs dataset.root: pass --data-root DIR (or set $RSG_DATA_ROOT)`,
      );
    if (!isAbsolute(v.dataset.root)) throw new Error(`dataset.root = ${v.dataset.root}: must be an absolute path`);
    if (!existsSync(v.dataset.root)) throw new Error(`dataset.root = ${v.dataset.root}: no such folder`);
  }
  return v;
}
