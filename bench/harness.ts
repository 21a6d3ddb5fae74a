/** Tiny benchmark helpers: time a function adaptively, report medians. */

export type Timing = { medianMs: number; runs: number };

/** Median wall time of `fn` over repeated runs, each run at least `minMs` long (inner loop). */
export function timeIt(fn: () => unknown, { minMs = 50, repeats = 7 } = {}): Timing {
  // Calibrate the inner loop so that one sample takes ≥ minMs.
  let inner = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    const dt = performance.now() - t0;
    if (dt >= minMs || inner > 1e7) break;
    inner *= dt < minMs / 10 ? 10 : 2;
  }
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    samples.push((performance.now() - t0) / inner);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(samples.length / 2)], runs: inner * repeats };
}

export async function timeAsync(fn: () => Promise<unknown>, repeats = 5): Promise<Timing> {
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(samples.length / 2)], runs: repeats };
}

export function fmtMs(ms: number): string {
  if (ms < 0.001) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1e3).toFixed(1)} µs`;
  if (ms < 1000) return `${ms.toFixed(2)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function table(rows: (string | number)[][]): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((x, c) => String(x).padEnd(w[c])).join('  ')).join('\n');
}
