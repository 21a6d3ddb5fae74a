/** `npm run experiment <name> -- [options]` */
import { EXPERIMENTS, findExperiment } from './registry';

const HELP = `usage: npm run experiment <name> [-- options]
       npm run experiment -- --list

experiments:
${EXPERIMENTS.map((e) => `  ${e.name.padEnd(20)} ${e.description}  [${e.paper}]`).join('\n')}
`;

function printTable(header: string[], rows: string[][]): void {
  const w = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((x, c) => x.padEnd(w[c])).join('  ');
  console.log(line(header));
  console.log(w.map((n) => '─'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help') || args.includes('-h')) { console.log(HELP); process.exit(0); }
if (args.includes('--list')) { for (const e of EXPERIMENTS) console.log(e.name); process.exit(0); }
try {
  const exp = findExperiment(args[0]);
  await exp.run({ log: (m) => console.log(m), printTable });
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
}
