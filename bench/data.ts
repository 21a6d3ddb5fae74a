/**
 * Synthetic-world generation speed: grounding samples (scene, query, resolver check, CoT traces) per second at 64² and
 * 256².
 */
import { groundingSample, splitSpec } from '../lib/data/splits';
import { table } from './harness';

export async function benchData(): Promise<void> {
  const rows: (string | number)[][] = [['image', 'samples', 'time', 'samples/s']];
  const rates: number[] = [];
  for (const [size, n] of [
    [64, 400],
    [256, 60],
  ] as const) {
    const base = splitSpec('train');
    const spec = { ...base, world: { ...base.world, imageSize: size } };
    groundingSample('train', 0, spec); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < n; i++) groundingSample('train', i, spec);
    const s = (performance.now() - t0) / 1000;
    rates.push(n / s);
    rows.push([`${size}²`, n, `${s.toFixed(2)} s`, (n / s).toFixed(0)]);
  }
  console.log('\n## Synthetic data generation (train split config, one core)\n');
  console.log(table(rows));
  console.log(`64² samples are ${(rates[0] / rates[1]).toFixed(1)}x faster to generate than 256²`);
}
