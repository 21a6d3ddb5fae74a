/**
 * Showing results inside a tslab notebook: tables as Markdown, figures as <img> with inline SVG
 * (Debian's nbconvert keeps an <img src="data:…"> where it strips inline <svg>). Running an
 * experiment from a notebook: experiments/notebook.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../files';
import { type Table, toMarkdown } from './tables';

type Display = { markdown(s: string): void; html(s: string): void; png(b: Uint8Array): void };

function display(): Display {
  // tslab is only importable inside the kernel; outside, print instead.
  try {
    return (require('tslab') as { display: Display }).display;
  } catch {
    return {
      markdown: (s) => console.log(s),
      html: (s) => console.log(s.slice(0, 200)),
      png: () => console.log('[png]'),
    };
  }
}

export function showMarkdown(md: string): void {
  display().markdown(md);
}

export function showSvgFile(path: string, width = 640): void {
  const svg = readFileSync(path.startsWith('/') ? path : join(PROJECT_ROOT, path));
  display().html(`<img width="${width}" src="data:image/svg+xml;base64,${svg.toString('base64')}"/>`);
}

export function showPng(png: Uint8Array): void {
  display().png(png);
}

/** Show what an experiment wrote: its tables (Markdown) and figures (SVG). */
export function showWritten(written: string[], tables: Table[]): void {
  for (const t of tables) showMarkdown(toMarkdown(t));
  for (const w of written) {
    const m = /^(.*)\.\{svg,png\}$/.exec(w);
    if (m) showSvgFile(`${m[1]}.svg`);
  }
}
