/**
 * Progress bars with rate and ETA (cli-progress). On a terminal the bar redraws in place; in a
 * log (CI, a worker's log file, a notebook) a plain line is written every `every` percent
 * instead, so logs stay readable.
 */
import { SingleBar } from 'cli-progress';

export type ProgressOptions = { every?: number; stream?: NodeJS.WriteStream; silent?: boolean };

export class Progress {
  private readonly bar: SingleBar | null;
  private readonly t0 = Date.now();
  private lastPct = -1;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    const stream = opts.stream ?? process.stderr;
    this.bar =
      !opts.silent && stream.isTTY
        ? new SingleBar({
            stream,
            format: `${label} [{bar}] {value}/{total} {elapsed} elapsed, ETA {remaining} {extra}`,
            barsize: 20,
            hideCursor: false,
            clearOnComplete: false,
            fps: 10,
            formatValue: (v, _o, type) => (type === 'eta' || type === 'duration' ? fmtDuration(Number(v)) : String(v)),
          })
        : null;
    this.bar?.start(total, 0, { extra: '', elapsed: fmtDuration(0), remaining: '--' });
  }

  /** Report `done` of `total`; `extra` is shown after the ETA (e.g. "reward 1.23"). */
  update(done: number, extra = ''): void {
    if (this.opts.silent) return;
    const elapsed = (Date.now() - this.t0) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    if (this.bar) {
      this.bar.update(done, { extra, elapsed: fmtDuration(elapsed), remaining: fmtDuration(eta) });
      if (done >= this.total) this.bar.stop();
      return;
    }
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const pct = Math.floor(frac * 100),
      every = this.opts.every ?? 10;
    if (pct >= this.lastPct + every || (done >= this.total && this.lastPct < 100)) {
      this.lastPct = done >= this.total ? 100 : pct - (pct % every);
      const line =
        `${this.label} ${pct}% ${done}/${this.total} ${fmtDuration(elapsed)} elapsed, ETA ` +
        `${fmtDuration(eta)}${extra ? '  ' + extra : ''}`;
      (this.opts.stream ?? process.stderr).write(line + '\n');
    }
  }
}

/** `42s`, `3m07s`, `2h05m`: seconds rounded to the unit shown (so 119.6 s is `2m00s`, never `1m60s`). */
export function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '--';
  const r = Math.round(s);
  if (r < 60) return `${r}s`;
  if (r < 3600) return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
