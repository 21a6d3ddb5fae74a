/**
 * Export plotly figures to SVG and PNG through headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core), byte-identical from run to run: plotly draws random ids with
 * Math.random, so the page's Math.random is replaced by a seeded generator, reseeded before each
 * figure. Each output gets a provenance record (what data, from which runs, which commit).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './plots';
import { PROJECT_ROOT, projectRequire, writeFileAtomic, writeJsonAtomic } from '../files';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumPath(): string {
  const p = process.env.RSG_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(p))
    throw new Error(
      `figures need Chromium at ${p} (Debian: apt-get install chromium fonts-dejavu-core; or set $RSG_CHROMIUM)`,
    );
  return p;
}

export type Provenance = {
  figure: string;
  /** what the figure shows, in words */
  description: string;
  /** runs (stage directories) the numbers come from */
  runs: string[];
  /** config hashes of those runs */
  configHashes: string[];
  seeds: number[];
  backend: string;
  commit: string;
  generatedBy: string;
};

export function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)figures'],
      { cwd: PROJECT_ROOT, encoding: 'utf8' },
    ).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** A Chromium page with plotly loaded; reuse it for many figures, then `close()`. */
export class FigureExporter {
  private constructor(
    private readonly browser: { close(): Promise<void> },
    private readonly page: PageLike,
  ) {}

  static async start(): Promise<FigureExporter> {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><body style="margin:0"><div id="fig"></div></body></html>');
    const plotly = projectRequire.resolve('plotly.js-dist-min/plotly.min.js');
    await page.addScriptTag({ path: plotly });
    return new FigureExporter(browser, page as unknown as PageLike);
  }

  /** Render one figure to SVG and PNG strings/bytes (deterministic). */
  async render(fig: Figure, seed = 1): Promise<{ svg: string; png: Buffer }> {
    const out = await this.page.evaluate(
      async ({ fig, seed }: { fig: Figure; seed: number }) => {
        // Seeded Math.random (mulberry32), reset for every figure.
        let a = seed >>> 0;
        Math.random = () => {
          a = (a + 0x6d2b79f5) >>> 0;
          let t = a;
          t = Math.imul(t ^ (t >>> 15), t | 1);
          t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
          return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        };
        const g = globalThis as unknown as { Plotly: any; document: { getElementById(id: string): unknown } };
        const P = g.Plotly;
        const div = g.document.getElementById('fig');
        P.purge(div);
        await P.newPlot(div, fig.data, { ...fig.layout }, { staticPlot: true });
        const w = (fig.layout.width as number) ?? 640,
          h = (fig.layout.height as number) ?? 400;
        const svg = await P.toImage(div, { format: 'svg', width: w, height: h });
        const png = await P.toImage(div, { format: 'png', width: w, height: h, scale: 2 });
        return { svg, png };
      },
      { fig, seed },
    );
    const svg = decodeURIComponent(out.svg.replace(/^data:image\/svg\+xml,/, ''));
    const png = Buffer.from(out.png.replace(/^data:image\/png;base64,/, ''), 'base64');
    return { svg, png };
  }

  /** Write `<dir>/<name>.svg`, `.png` and `.provenance.json`. */
  async write(
    dir: string,
    name: string,
    fig: Figure,
    provenance: Omit<Provenance, 'figure' | 'commit'>,
  ): Promise<void> {
    const { svg, png } = await this.render(fig);
    writeFileAtomic(join(dir, `${name}.svg`), svg);
    writeFileAtomic(join(dir, `${name}.png`), png);
    writeJsonAtomic(join(dir, `${name}.provenance.json`), { figure: name, commit: gitCommit(), ...provenance });
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

type PageLike = { evaluate<R, A>(f: (a: A) => Promise<R>, arg: A): Promise<R> };
