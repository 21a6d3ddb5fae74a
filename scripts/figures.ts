/**
 * npm run figures [-- --scale quick|default|full] [name ...]
 * Rebuild figures, tables and figures/REPORT.md from finished runs — no training. Experiments
 * without runs at that scale are listed as not run.
 */
import { parseArgs } from 'node:util';
import { SUITE } from '../experiments/registry';
import { writeSuiteReport } from '../experiments/suite';
import { SCALE_NAMES, type Scale } from '../experiments/scales';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { scale: { type: 'string' }, quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(
    `usage: npm run figures [-- --scale ${SCALE_NAMES.join('|')}] [experiment ...]\nRebuilds figures/ and ` +
      `figures/REPORT.md from runs/ without training.`,
  );
  process.exit(0);
}
const scale = (values.quick ? 'quick' : (values.scale ?? 'default')) as Scale;
if (!SCALE_NAMES.includes(scale)) {
  console.error(`error: --scale ${scale} is invalid (allowed: ${SCALE_NAMES.join(', ')})`);
  process.exit(2);
}
const names = positionals.length ? positionals : [...SUITE.map((e) => e.name), 'reward-table'];
await writeSuiteReport(names, { scale });
