/**
 * npm run figures [-- --scale quick|default|full] [--partial] [--merge] [name ...]
 * Rebuild figures, tables and figures/REPORT.md from finished runs — no training. When an
 * experiment has no finished runs at that scale, nothing is written and the command fails,
 * unless --partial (then those experiments are listed as not run) or --merge (then its section
 * in the current REPORT.md is kept as it is).
 */
import { Command, InvalidArgumentError } from 'commander';
import { SUITE } from '../experiments/registry';
import { writeSuiteReport } from '../experiments/suite';
import { SCALE_NAMES, type Scale } from '../experiments/scales';
import { runsDir } from '../lib/files';

const program = new Command('npm run figures')
  .description(
    `Rebuild figures/ and figures/REPORT.md from the runs in ${runsDir()} ($RSG_RUNS_DIR), without training.`,
  )
  .argument('[experiments...]', 'experiments to include (default: the suite and reward-table)')
  .option(
    '--scale <scale>',
    SCALE_NAMES.join(' | '),
    (v: string) => {
      if (!(SCALE_NAMES as readonly string[]).includes(v))
        throw new InvalidArgumentError(`allowed: ${SCALE_NAMES.join(', ')}`);
      return v;
    },
    'default',
  )
  .option('--quick', 'the quick scale')
  .option('--partial', 'write what has runs and list the rest as not run (default: refuse and write nothing)')
  .option(
    '--merge',
    'keep, unchanged, the sections (and verdicts) the current REPORT.md has for experiments without runs here ' +
      '(e.g. trained on another machine)',
  )
  .showHelpAfterError('(npm run figures -- --help for the options)');
program.parse();
const values = program.opts<{ scale: Scale; quick?: boolean; partial?: boolean; merge?: boolean }>();
const names = program.args.length ? program.args : [...SUITE.map((e) => e.name), 'reward-table'];
try {
  await writeSuiteReport(names, {
    scale: values.quick ? 'quick' : values.scale,
    partial: values.partial,
    merge: values.merge,
  });
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
}
