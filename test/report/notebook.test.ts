/** lib/report/notebook.ts outside a tslab kernel: Markdown printed, SVG figures inlined as base64 <img>. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { showMarkdown, showSvgFile, showWritten } from '../../lib/report/notebook';

function captured(f: () => void): string[] {
  const out: string[] = [];
  const log = console.log;
  console.log = (s: string) => out.push(s);
  try {
    f();
  } finally {
    console.log = log;
  }
  return out;
}

const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>';
const dir = mkdtempSync(join(tmpdir(), 'rsg-nb-'));
writeFileSync(join(dir, 'fig.svg'), svg);

test('showMarkdown prints the Markdown as is', () => {
  assert.equal(
    captured(() => showMarkdown('| a |\n| - |')),
    ['| a |\n| - |'],
  );
});

test('showSvgFile: an <img> with the width and the file as base64 (what nbconvert keeps)', () => {
  const [html] = captured(() => showSvgFile(join(dir, 'fig.svg'), 320));
  const want = `<img width="320" src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"/>`;
  assert.is(html, want.slice(0, 200)); // outside the kernel the fallback prints the first 200 characters
  assert.throws(() => showSvgFile(join(dir, 'missing.svg')), /ENOENT/);
});

test('showWritten: every table as Markdown, then the SVG of each `name.{svg,png}` written', () => {
  const out = captured(() =>
    showWritten(
      [join(dir, 'fig.{svg,png}'), join(dir, 'table.csv')],
      [{ title: 'T', header: ['k', 'v'], rows: [['a', '1']] }],
    ),
  );
  assert.is(out.length, 2);
  assert.match(out[0], /\| k \| v \|/);
  assert.match(out[1], /^<img width="640" src="data:image\/svg\+xml;base64,/);
});

test.run();
