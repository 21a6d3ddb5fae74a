/** The mini world exported for real VLMs, read back, and scored: export → ground-truth predictions → 100%. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPORT_FORMATS, exportSplit, loadExported } from '../../lib/data/export';
import { groundingSample } from '../../lib/data/splits';
import { imageRgb } from '../../lib/data/images';
import { readPredictions, scorePredictions, summarize } from '../../lib/score';
import { fromImagePixels } from '../../lib/data/conventions';
import { formatBox } from '../../lib/boxes';
import { PROJECT_ROOT } from '../../lib/files';
import { rejects } from '../helpers';

const N = 12;

for (const format of EXPORT_FORMATS) {
  test(`export ${format}: images upscaled exactly, boxes scaled with them, records read back`, async () => {
    const root = mkdtempSync(join(tmpdir(), `rsg-export-${format}-`));
    const r = await exportSplit('val', { root, format, size: 128, count: N });
    assert.is(r.count, N);
    const lines = readFileSync(r.file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.is(lines.length, N);
    if (format === 'vlm-r1') {
      assert.equal(Object.keys(lines[0].conversations[0]), ['from', 'value']);
      assert.match(lines[0].conversations[0].value, /^<image>Please provide the bounding box/);
      assert.match(lines[0].conversations[1].value, /^<answer>\[\d+, \d+, \d+, \d+\]<\/answer>$/);
    } else {
      assert.equal(
        lines[0].messages.map((m: { role: string }) => m.role),
        ['user', 'assistant'],
      );
      assert.is(lines[0].images.length, 1);
    }
    const back = loadExported(root, 'val');
    const orig = groundingSample('val', 3);
    assert.is(back[3].id, orig.id);
    assert.is(back[3].query, orig.query);
    assert.equal(back[3].gt, { x1: 2 * orig.gt.x1, y1: 2 * orig.gt.y1, x2: 2 * orig.gt.x2, y2: 2 * orig.gt.y2 });
    // Nearest-neighbour ×2: each original pixel (x, y) becomes the 2×2 block at (2x, 2y), exactly.
    const a = await imageRgb(orig.image),
      b = await imageRgb(back[3].image);
    assert.is(b.length, 128 * 128 * 3);
    const W = orig.image.width;
    let differ = 0;
    for (let y = 0; y < 2 * W; y++)
      for (let x = 0; x < 2 * W; x++)
        for (let c = 0; c < 3; c++) if (b[(y * 128 + x) * 3 + c] !== a[((y >> 1) * W + (x >> 1)) * 3 + c]) differ++;
    assert.is(differ, 0, 'exported pixels that are not their original pixel');
    const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
    assert.equal(manifest.splits, { val: N });
    assert.ok(!existsSync(join(root, `.val.tmp-${process.pid}`)), 'the temp folder is gone');
  });
}

test('round trip: ground-truth predictions score 100% in every convention a model may write', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rsg-roundtrip-'));
  await exportSplit('val', { root, format: 'vlm-r1', size: 128, count: N });
  const samples = loadExported(root, 'val');
  const dir = mkdtempSync(join(tmpdir(), 'rsg-preds-'));
  const text = join(dir, 'text.jsonl'),
    n1000 = join(dir, 'n1000.jsonl');
  writeFileSync(
    text,
    samples
      .map((s) => JSON.stringify({ id: s.id, text: `<think>it is there</think><answer>${formatBox(s.gt)}</answer>` }))
      .join('\n'),
  );
  writeFileSync(
    n1000,
    samples
      .map((s) => {
        const b = fromImagePixels(s.gt, 'normalized-1000', s.image);
        return JSON.stringify({ id: s.id, box: [b.x1, b.y1, b.x2, b.y2] });
      })
      .join('\n'),
  );
  for (const [file, conv] of [
    [text, 'pixels'],
    [n1000, 'normalized-1000'],
  ] as const) {
    const { scores } = scorePredictions(file, samples, readPredictions(file).preds, conv);
    const m = summarize(scores);
    assert.equal([m.n, m.acc50.value, m.acc70.value, m.miou.value, m.ciou.value], [N, 100, 100, 100, 100], conv);
    assert.ok(scores.every((s) => s.format === 1));
  }

  // The command a user runs, and the JSON other code reads.
  const out = join(dir, 'report'),
    json = join(dir, 'summary.json');
  const args = [
    '--dataset',
    'exported',
    '--data-root',
    root,
    '--split',
    'val',
    '--predictions',
    text,
    '--boxes',
    'pixels',
    '--json',
    json,
    '--out',
    out,
  ];
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(PROJECT_ROOT, 'scripts/score.ts'),
      ...args,
      '--compare',
      n1000,
      '--compare-boxes',
      'normalized-1000',
    ],
    {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    },
  );
  assert.is(r.status, 0, r.stderr);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal([s.n, s.acc50, s.acc70, s.miou, s.ciou, s.formatFailures], [N, 100, 100, 100, 100, 0]);
  assert.equal(s.comparison.mcnemar, { b: 0, c: 0, p: 1 });
  for (const f of [
    'score.md',
    'score.json',
    'per-sample.csv',
    'iou-histogram.svg',
    'worst-cases.png',
    'provenance.json',
  ]) {
    assert.ok(existsSync(join(out, f)), f);
  }
  assert.is(readFileSync(join(out, 'per-sample.csv'), 'utf8').trim().split('\n').length, N + 1);

  // A damaged exported file is an error naming the line.
  appendFileSync(
    join(root, 'val.jsonl'),
    '{"id": "x", "image": "images/val/x.png", "query": "q", "image_size": [128, 128], "solution": [5, 5, 2, 9]}\n',
  );
  assert.throws(
    () => loadExported(root, 'val'),
    new RegExp(`val\\.jsonl:${N + 1}: solution \\[5,5,2,9\\] is not a box inside the image`),
  );
  writeFileSync(
    join(root, 'val.jsonl'),
    '{"id": "x", "image": "images/val/x.png", "query": "q", "image_size": [128, 128], "solution": [5, 5, 9, 129]}\n',
  );
  assert.throws(() => loadExported(root, 'val'), /val\.jsonl:1: solution \[5,5,9,129\] is not a box inside the image/);
  await rejects(
    () =>
      exportSplit('val', { root: mkdtempSync(join(tmpdir(), 'rsg-export-')), format: 'vlm-r1', size: 96, count: 1 }),
    /--size 96 must be a multiple of the world's 64 px images/,
  );
});

test('score CLI: bad input exits 2 with the file and line, no stack; --lenient scores and lists the problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsg-badpreds-'));
  const preds = join(dir, 'p.jsonl');
  writeFileSync(
    preds,
    '{"question_id": 101, "text": "<think>a</think><answer>[100, 200, 300, 500]</answer>"}\n{oops\n' +
      '{"question_id": 103, "box": [400, 400, 600, 700]}\n',
  );
  const base = [
    '--dataset',
    'vrsbench-vg',
    '--data-root',
    join(PROJECT_ROOT, 'test/fixtures/vrsbench'),
    '--split',
    'val',
    '--predictions',
    preds,
    '--boxes',
    'normalized-1000',
    '--no-figures',
    '--out',
    join(dir, 'o'),
  ];
  const run = (extra: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'scripts/score.ts'), ...base, ...extra], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    });
  const strict = run([]);
  assert.is(strict.status, 2);
  assert.match(strict.stderr, /p\.jsonl:2: not a JSON record/);
  assert.not.match(strict.stderr, /\n\s+at \S+ \(/);
  assert.ok(!existsSync(join(dir, 'o')), 'nothing written');
  const lenient = run(['--lenient', '--json', join(dir, 's.json')]);
  assert.is(lenient.status, 0, lenient.stderr);
  const s = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
  // VRSBench's own question ids name the samples; 102 is unanswered and counts as a miss.
  assert.is(s.n, 3);
  assert.ok(Math.abs(s.acc50 - 200 / 3) < 1e-9, String(s.acc50));
  assert.is(s.formatFailures, 1);
  assert.equal(
    s.problems.map((p: { line: number }) => p.line),
    [2, 0],
  );
  const bad = run(['--boxes', 'normalised']);
  assert.is(bad.status, 1);
  assert.match(
    bad.stderr,
    /--boxes normalised is invalid \(allowed: pixels, normalized-1000, normalized-1, qwen25vl-resized\)/,
  );
});

test.run();
