/**
 * npm run figures [-- --scale quick|default|full] [--partial] [name ...]
 * Rebuild figures, tables and figures/REPORT.md from finished runs — no training. When an
 * experiment has no finished runs at that scale, nothing is written and the command fails,
 * unless --partial (then those experiments are listed as not run).
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
  .showHelpAfterError('(npm run figures -- --help for the options)');
program.parse();
const values = program.opts<{ scale: Scale; quick?: boolean; partial?: boolean }>();
const names = program.args.length ? program.args : [...SUITE.map((e) => e.name), 'reward-table'];
try {
  await writeSuiteReport(names, { scale: values.quick ? 'quick' : values.scale, partial: values.partial });
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
}
