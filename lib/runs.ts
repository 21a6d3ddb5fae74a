/**
 * A run directory (STYLE 9): `config.json`, `metrics.jsonl`, `summary.json`, `checkpoint/`.
 * A run is finished exactly when `summary.json` exists. `metrics.jsonl` holds only values that
 * are deterministic for a seed and backend (no wall times), so two runs of the same config
 * produce the same file byte for byte; timings go to `timing.jsonl`.
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, readJsonl, stableStringify, writeFileAtomic, writeJsonAtomic } from './files';

export type Metrics = Record<string, number | string | null>;

export class RunDir {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  get checkpointDir(): string {
    return join(this.dir, 'checkpoint');
  }

  isFinished(): boolean {
    return existsSync(join(this.dir, 'summary.json'));
  }

  writeConfig(config: unknown): void {
    writeJsonAtomic(join(this.dir, 'config.json'), config);
  }

  readConfig<T>(): T {
    return readJson<T>(join(this.dir, 'config.json'));
  }

  /** Append one metrics record (keys sorted, so the bytes depend only on the values). */
  log(m: Metrics): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), stableStringify(m) + '\n');
  }

  logTiming(m: Metrics): void {
    appendFileSync(join(this.dir, 'timing.jsonl'), JSON.stringify(m) + '\n');
  }

  /**
   * On resume from a checkpoint at `step`: drop records logged after it, so the file reads as
   * if the run had never stopped. Records without a step (headers) are kept. When the run resumes
   * at its last step (`final`), the evaluation logged at that step is dropped too: the trainer
   * evaluates again before finishing, and must not log it twice. A torn last line (an interrupted
   * write) is dropped with a warning naming the file.
   */
  truncateAfter(step: number, final = false): void {
    for (const f of ['metrics.jsonl', 'timing.jsonl']) {
      const p = join(this.dir, f);
      if (!existsSync(p)) continue;
      const keep = readJsonl<Metrics>(p).filter((m) => {
        if (typeof m.step !== 'number') return true;
        if (final && m.step === step && Object.keys(m).some((k) => k.startsWith('eval/'))) return false;
        return m.step <= step;
      });
      const line = (m: Metrics) => (f === 'metrics.jsonl' ? stableStringify(m) : JSON.stringify(m)) + '\n';
      writeFileAtomic(p, keep.map(line).join(''));
    }
  }

  /** Start fresh: remove metrics from an earlier, checkpoint-less attempt. */
  resetLogs(): void {
    for (const f of ['metrics.jsonl', 'timing.jsonl']) writeFileSync(join(this.dir, f), '');
  }

  metrics(): Metrics[] {
    const p = join(this.dir, 'metrics.jsonl');
    if (!existsSync(p)) return [];
    return readJsonl<Metrics>(p);
  }

  finish(summary: unknown): void {
    writeJsonAtomic(join(this.dir, 'summary.json'), summary);
  }

  summary<T>(): T {
    return readJson<T>(join(this.dir, 'summary.json'));
  }
}
