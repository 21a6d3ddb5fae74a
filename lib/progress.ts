/**
 * A terminal progress bar with rate and ETA. On a TTY it redraws one line; otherwise (CI,
 * logs, notebooks) it prints a plain line every `every` percent, so logs stay readable.
 */
export class Progress {
  private readonly t0 = Date.now();
  private lastDraw = 0;
  private lastPct = -1;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly opts: { every?: number; stream?: NodeJS.WriteStream; silent?: boolean } = {},
  ) {
    this.tty = !!(opts.stream ?? process.stderr).isTTY;
  }

  /** Report `done` of `total`; `extra` is shown after the ETA (e.g. "reward 1.23"). */
  update(done: number, extra = ''): void {
    if (this.opts.silent) return;
    const stream = this.opts.stream ?? process.stderr;
    const now = Date.now();
    const elapsed = (now - this.t0) / 1000;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const line = `${this.label} ${bar(frac)} ${done}/${this.total} ${fmtDuration(elapsed)} elapsed, ETA ${fmtDuration(eta)}${extra ? '  ' + extra : ''}`;
    if (this.tty) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      stream.write(`\r${line.slice(0, (stream.columns ?? 120) - 1)}\x1b[K${done >= this.total ? '\n' : ''}`);
    } else {
      const pct = Math.floor(frac * 100);
      const every = this.opts.every ?? 10;
      if (pct >= this.lastPct + every || (done >= this.total && this.lastPct < 100)) {
        this.lastPct = done >= this.total ? 100 : pct - (pct % every);
        stream.write(line + '\n');
      }
    }
  }
}

function bar(frac: number, width = 20): string {
  const n = Math.round(frac * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

export function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
