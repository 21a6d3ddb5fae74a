/**
 * Export plotly figures to SVG and PNG through headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core), byte-identical from run to run: plotly draws random ids with
 * Math.random, so the page's Math.random is replaced by a seeded generator, reseeded before each
 * figure. Each output gets a provenance record (what data, from which runs, which commit).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './plots';
import { gitCommit, projectRequire, writeFileAtomic, writeJsonAtomic } from '../files';

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

export { gitCommit };

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
  /** the commit of the code that exported the figure */
  commit: string;
  /** the commits of the code that trained its runs */
  trainedAt?: string[];
  generatedBy: string;
};

/** `fig` with `text` as a small grey line at the bottom left of the canvas (plots.ts reserves the band). */
export function captioned(fig: Figure, text: string): Figure {
  const margin = (fig.layout.margin ?? {}) as { l?: number; b?: number };
  const width = (fig.layout.width as number) ?? 640;
  const max = Math.floor((width - 12) / 5.9);
  const line = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  const note = {
    text: line,
    showarrow: false,
    xref: 'paper',
    yref: 'paper',
    x: 0,
    y: 0,
    xanchor: 'left',
    yanchor: 'bottom',
    xshift: -((margin.l ?? 80) - 6),
    yshift: -((margin.b ?? 80) - 4),
    font: { size: 10, color: '#666' },
    align: 'left',
  };
  const annotations = [...((fig.layout.annotations as unknown[]) ?? []), note];
  return { data: fig.data, layout: { ...fig.layout, annotations } };
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
    // tsx compiles the functions sent to the page with esbuild's keep-names helper; give it one.
    await page.evaluate('globalThis.__name = (f) => f');
    return new FigureExporter(browser, page as unknown as PageLike);
  }

  /**
   * The figure lint: draw `svg` in the page and measure every text element. A problem is text
   * that leaves the canvas or overlaps other text (boxes intersecting by more than `tolerance`
   * pixels in both directions). Returns one line per problem (empty when the figure is clean).
   */
  async lint(svg: string, tolerance = 1): Promise<string[]> {
    return this.page.evaluate(
      async ({ svg, tolerance }: { svg: string; tolerance: number }) => {
        const doc = (globalThis as unknown as { document: any }).document;
        let host = doc.getElementById('lint');
        if (!host) {
          host = doc.createElement('div');
          host.id = 'lint';
          doc.body.appendChild(host);
        }
        host.innerHTML = svg;
        const root = host.querySelector('svg');
        const W = Number(root.getAttribute('width')),
          H = Number(root.getAttribute('height'));
        const r0 = root.getBoundingClientRect();
        const texts = [...host.querySelectorAll('text')]
          .map((t: any) => {
            const r = t.getBoundingClientRect();
            return {
              s: (t.textContent ?? '').trim(),
              x1: r.left - r0.left,
              y1: r.top - r0.top,
              x2: r.right - r0.left,
              y2: r.bottom - r0.top,
            };
          })
          .filter(
            (t: { s: string; x1: number; x2: number; y1: number; y2: number }) =>
              t.s !== '' && t.x2 - t.x1 > 0 && t.y2 - t.y1 > 0,
          );
        const out: string[] = [];
        const q = (t: { s: string }) => JSON.stringify(t.s.length > 40 ? `${t.s.slice(0, 40)}…` : t.s);
        for (const t of texts) {
          if (t.x1 < -tolerance || t.y1 < -tolerance || t.x2 > W + tolerance || t.y2 > H + tolerance) {
            out.push(
              `text ${q(t)} leaves the ${W}×${H} canvas (box ` +
                `${t.x1.toFixed(0)},${t.y1.toFixed(0)}–${t.x2.toFixed(0)},${t.y2.toFixed(0)})`,
            );
          }
        }
        for (let i = 0; i < texts.length; i++) {
          for (let j = i + 1; j < texts.length; j++) {
            const a = texts[i],
              b = texts[j];
            const ox = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1),
              oy = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
            if (ox > tolerance && oy > tolerance) out.push(`text ${q(a)} overlaps ${q(b)}`);
          }
        }
        // Titles, legends and annotations (the caption) must also stay off every plot area.
        const areas = [...host.querySelectorAll('.bglayer rect.bg')].map((r: any) => {
          const b = r.getBoundingClientRect();
          return { x1: b.left - r0.left, y1: b.top - r0.top, x2: b.right - r0.left, y2: b.bottom - r0.top };
        });
        for (const el of host.querySelectorAll('.g-gtitle text, .legend text, .annotation text')) {
          const r = (el as any).getBoundingClientRect();
          const t = {
            s: ((el as any).textContent ?? '').trim(),
            x1: r.left - r0.left,
            y1: r.top - r0.top,
            x2: r.right - r0.left,
            y2: r.bottom - r0.top,
          };
          if (!t.s) continue;
          for (const a of areas) {
            const ox = Math.min(a.x2, t.x2) - Math.max(a.x1, t.x1),
              oy = Math.min(a.y2, t.y2) - Math.max(a.y1, t.y1);
            if (ox > tolerance && oy > tolerance) out.push(`text ${q(t)} overlaps a plot area`);
          }
        }
        host.innerHTML = '';
        return out;
      },
      { svg, tolerance },
    );
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
  /**
   * Write `<dir>/<name>.svg`, `.png` and `.provenance.json`, with `caption` (scale, seeds, commit)
   * as a line at the bottom of the figure. The figure lint runs first: text that leaves the canvas
   * or overlaps other text is an error, and nothing is written.
   */
  async write(
    dir: string,
    name: string,
    fig: Figure,
    provenance: Omit<Provenance, 'figure' | 'commit'>,
    caption = '',
  ): Promise<void> {
    const withCaption = caption ? captioned(fig, caption) : fig;
    const { svg, png } = await this.render(withCaption);
    const problems = await this.lint(svg);
    if (problems.length) throw new Error(`figure ${name} fails the figure lint:\n  ${problems.join('\n  ')}`);
    writeFileAtomic(join(dir, `${name}.svg`), svg);
    writeFileAtomic(join(dir, `${name}.png`), png);
    writeJsonAtomic(join(dir, `${name}.provenance.json`), { figure: name, commit: gitCommit(), ...provenance });
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

type PageLike = { evaluate<R, A>(f: (a: A) => Promise<R>, arg: A): Promise<R> };
