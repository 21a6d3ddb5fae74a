import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDiorRsvg, loadVrsbenchVg, loadRrsisD } from '../../lib/data/loaders';
import { imageRgb } from '../../lib/data/images';
import { rejects } from '../helpers';

const FIX = join(import.meta.dirname, '..', 'fixtures');
const copyFixture = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'rsg-'));
  cpSync(join(FIX, name), dir, { recursive: true });
  return dir;
};

test('DIOR-RSVG: split files hold global object indices over sorted XMLs, in file order', async () => {
  // 00001.xml holds objects 0–2, 00002.xml objects 3–4; train.txt lists 3, 0, 4.
  const train = await loadDiorRsvg(join(FIX, 'dior-rsvg'), 'train');
  assert.equal(
    train.map((s) => s.id),
    ['dior-rsvg-3', 'dior-rsvg-0', 'dior-rsvg-4'],
  );
  assert.equal(train[0].gt, { x1: 5, y1: 5, x2: 12, y2: 12 });
  assert.is(train[0].query, 'The storage tank at the top left');
  assert.is(train[0].category, 'storagetank');
  assert.is(train[0].unique, false);
  assert.is(train[1].query, 'The vehicle on the left');
  assert.equal(train[1].image, { width: 40, height: 30, path: join(FIX, 'dior-rsvg', 'JPEGImages', '00001.jpg') });
  const val = await loadDiorRsvg(join(FIX, 'dior-rsvg'), 'val');
  assert.is(val[0].query, 'The vehicle on the right & near the top');
  const testSplit = await loadDiorRsvg(join(FIX, 'dior-rsvg'), 'test');
  assert.is(testSplit[0].category, 'airplane');
  assert.is(testSplit[0].unique, true);
  // Images decode lazily, to the annotated size.
  const rgb = await imageRgb(testSplit[0].image);
  assert.is(rgb.length, 40 * 30 * 3);
});

test('DIOR-RSVG: broken data is an error naming the file and the object', async () => {
  const dir = copyFixture('dior-rsvg');
  try {
    writeFileSync(join(dir, 'train.txt'), '0\n9\n');
    await rejects(() => loadDiorRsvg(dir, 'train'), /train\.txt:2: object index 9 is out of range.*indices 0–4/);
    writeFileSync(join(dir, 'train.txt'), '0\nfoo\n');
    await rejects(() => loadDiorRsvg(dir, 'train'), /train\.txt:2: expected a global object index/);
    writeFileSync(join(dir, 'train.txt'), '0\n');
    const xml = join(dir, 'Annotations', '00002.xml');
    const good = readFileSync(xml, 'utf8');
    writeFileSync(
      xml,
      good.replace('</bndbox>\n    <description>The storage tank in', '</bndbo>\n    <description>The storage tank in'),
    );
    await rejects(() => loadDiorRsvg(dir, 'train'), /00002\.xml:\d+: malformed XML: Expected closing tag 'bndbox'/);
    writeFileSync(xml, good.replace('<xmax>27</xmax>', '<xmax>19</xmax>'));
    await rejects(() => loadDiorRsvg(dir, 'train'), /00002\.xml:\d+: object #1: invalid box/);
    writeFileSync(xml, good.replace('<xmax>27</xmax>', '<xmax>5000</xmax>'));
    await rejects(
      () => loadDiorRsvg(dir, 'train'),
      /00002\.xml:\d+: object #1: box .* lies outside the 40×30 image \(need 0 ≤ xmin < xmax ≤ 40/,
    );
    writeFileSync(xml, good.replace('<ymax>22</ymax>', '<ymax>31</ymax>'));
    await rejects(() => loadDiorRsvg(dir, 'train'), /00002\.xml:\d+: object #1: box .* lies outside the 40×30 image/);
    writeFileSync(xml, good.replace(/<ymin>\d+<\/ymin>/, '<ymin>-50</ymin>'));
    await rejects(() => loadDiorRsvg(dir, 'train'), /00002\.xml:\d+: object #0: box .* lies outside/);
    writeFileSync(xml, good.replace('<xmax>27</xmax>', '<xmax>0x10</xmax>'));
    await rejects(
      () => loadDiorRsvg(dir, 'train'),
      /00002\.xml:\d+: object #1: <xmax> is "0x10", expected a decimal number/,
    );
    writeFileSync(
      xml,
      good.replace(
        /<description>([^<]*)<\/description>/,
        '<description><![CDATA[the tank & <its> shadow]]></description>',
      ),
    );
    writeFileSync(join(dir, 'train.txt'), '3\n');
    assert.is((await loadDiorRsvg(dir, 'train'))[0].query, 'the tank & <its> shadow', 'CDATA kept verbatim');
    writeFileSync(xml, good);
    writeFileSync(join(dir, 'train.txt'), '0\n3\n0\n');
    await rejects(() => loadDiorRsvg(dir, 'train'), /train\.txt:3: object index 0 is listed twice \(first on line 1\)/);
    writeFileSync(join(dir, 'train.txt'), '\n');
    await rejects(() => loadDiorRsvg(dir, 'train'), /train\.txt: lists no objects/);
    writeFileSync(join(dir, 'train.txt'), '0\n');
    unlinkSync(join(dir, 'JPEGImages', '00001.jpg'));
    await rejects(
      () => loadDiorRsvg(dir, 'train'),
      /00001\.xml:\d+: object #0 refers to image .*00001\.jpg, which does not exist/,
    );
    await rejects(() => loadDiorRsvg(join(dir, 'nope'), 'train'), /Annotations not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('VRSBench-VG: normalised boxes become absolute pixels of each image; is_unique kept', async () => {
  const ann = join(FIX, 'vrsbench', 'VRSBench_EVAL_referring.json');
  const s = await loadVrsbenchVg(ann, join(FIX, 'vrsbench', 'Images_val'));
  assert.is(s.length, 3);
  // {<10><20><30><50>} on 0–100 in a 50×40 image → [5, 8, 15, 20].
  assert.equal(s[0].gt, { x1: 5, y1: 8, x2: 15, y2: 20 });
  assert.is(s[0].query, 'the small vehicle at the top left');
  assert.is(s[0].unique, false);
  assert.is(s[0].id, 'vrsbench-101');
  // obj_coord [0.25, 0.5, 0.75, 1.0] in a 64×48 image → [16, 24, 48, 48].
  assert.equal(s[1].gt, { x1: 16, y1: 24, x2: 48, y2: 48 });
  assert.is(s[1].unique, true);
  assert.is(s[1].category, 'plane');
  assert.equal([s[1].image.width, s[1].image.height], [64, 48]);
});

test('VRSBench-VG: degenerate boxes stop the load, or are dropped only when asked and counted', async () => {
  const dir = copyFixture('vrsbench');
  try {
    const ann = join(dir, 'VRSBench_EVAL_referring.json');
    const recs = JSON.parse(readFileSync(ann, 'utf8'));
    // a numeric box outside [0, 1] (pixels, say) is not a normalised one, even when it is a valid box
    recs[2].ground_truth = undefined;
    recs[2].obj_coord = [0.1, 0.1, 1.5, 0.5];
    writeFileSync(ann, JSON.stringify(recs));
    await rejects(
      () => loadVrsbenchVg(ann, join(dir, 'Images_val')),
      /record #2 \(question 103\): invalid box \[0\.1,0\.1,1\.5,0\.5\]/,
    );
    delete recs[2].obj_coord;
    recs[2].ground_truth = '{<92><0><96><0>}';
    writeFileSync(ann, JSON.stringify(recs));
    await rejects(
      () => loadVrsbenchVg(ann, join(dir, 'Images_val')),
      /record #2 \(question 103\): invalid box.*invalidBoxes: 'skip'/,
    );
    let reported: unknown[] = [];
    const kept = await loadVrsbenchVg(ann, join(dir, 'Images_val'), {
      invalidBoxes: 'skip',
      onSkip: (s) => (reported = s),
    });
    assert.is(kept.length, 2);
    assert.is(reported.length, 1);
    recs[1].image_id = 'missing.png';
    writeFileSync(ann, JSON.stringify(recs));
    await rejects(
      () => loadVrsbenchVg(ann, join(dir, 'Images_val')),
      /record #1 \(question 102\): image .*missing\.png does not exist/,
    );
    writeFileSync(ann, '{"oops": 1}');
    await rejects(() => loadVrsbenchVg(ann, join(dir, 'Images_val')), /expected a JSON list/);
    writeFileSync(ann, '[{"image_id": "P0001_0001.png", "question": "x"');
    await rejects(() => loadVrsbenchVg(ann, join(dir, 'Images_val')), /invalid JSON/);
    writeFileSync(ann, 'null');
    await rejects(
      () => loadVrsbenchVg(ann, join(dir, 'Images_val')),
      /VRSBench_EVAL_referring\.json: expected a JSON list .*got null/,
    );
    writeFileSync(ann, '[]');
    await rejects(() => loadVrsbenchVg(ann, join(dir, 'Images_val')), /holds no referring records/);
    recs[1].image_id = recs[0].image_id;
    recs[1].question_id = recs[0].question_id;
    writeFileSync(ann, JSON.stringify(recs));
    await rejects(
      () => loadVrsbenchVg(ann, join(dir, 'Images_val')),
      /record #1: question id 101 appears twice \(first as record #0\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RRSIS-D: one sample per sentence of the split; COCO [x, y, w, h] → corners', async () => {
  const s = await loadRrsisD(join(FIX, 'rrsisd'), 'test');
  assert.equal(
    s.map((x) => x.id),
    ['rrsisd-1-11', 'rrsisd-1-12'],
  );
  assert.equal(s[0].gt, { x1: 4, y1: 6, x2: 14, y2: 14 });
  assert.is(s[0].category, 'bridge');
  assert.is(s[0].unique, true);
  assert.is((await loadRrsisD(join(FIX, 'rrsisd'), 'train')).length, 1);
  const dir = copyFixture('rrsisd');
  try {
    await rejects(
      () => loadRrsisD(dir, 'tset'),
      /refs\(unc\)\.json: no refs in split "tset" \(splits present: test, train\)/,
    );
    const refsPath = join(dir, 'refs(unc).json');
    const refs = JSON.parse(readFileSync(refsPath, 'utf8'));
    // the tokenised sentence ("sent") is the query; the raw one only when it is missing
    const rawToo = refs.map((r: { sentences: { sent: string }[] }, i: number) =>
      i === 0
        ? {
            ...r,
            sentences: r.sentences.map((x, k) => (k === 0 ? { ...x, raw: 'THE BRIDGE!' } : { raw: 'Raw only.' })),
          }
        : r,
    );
    writeFileSync(refsPath, JSON.stringify(rawToo));
    assert.equal(
      (await loadRrsisD(dir, 'test')).map((x) => x.query),
      ['the bridge over the river', 'Raw only.'],
    );
    writeFileSync(refsPath, JSON.stringify([...refs, { ...refs[0], sentences: [] }]));
    await rejects(() => loadRrsisD(dir, refs[0].split), /ref_id 1\)?: (has no sentences|ref_id 1 appears twice)/);
    writeFileSync(
      refsPath,
      JSON.stringify(
        refs.map((r: { sentences: unknown }, i: number) => (i === 0 ? { ...r, sentences: undefined } : r)),
      ),
    );
    await rejects(() => loadRrsisD(dir, refs[0].split), /ref #0 \(ref_id \d+\): has no sentences/);
    writeFileSync(refsPath, JSON.stringify(refs));
    const inst = join(dir, 'instances.json');
    const good = readFileSync(inst, 'utf8');
    writeFileSync(inst, '{}');
    await rejects(() => loadRrsisD(dir, 'test'), /instances\.json: expected a COCO object with an "images" list/);
    const coco = JSON.parse(good);
    coco.annotations[0].bbox = [30, 6, 50, 8];
    writeFileSync(inst, JSON.stringify(coco));
    await rejects(() => loadRrsisD(dir, 'test'), /bbox \[30,6,50,8\] lies outside the \d+×\d+ image/);
    writeFileSync(inst, good);
    unlinkSync(refsPath);
    writeFileSync(join(dir, 'refs(unc).p'), 'pickle');
    await rejects(() => loadRrsisD(dir, 'test'), /convert the pickle to JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
