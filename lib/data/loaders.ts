/**
 * Loaders for the real RSVG datasets, producing the same `GroundingSample` the mini world
 * produces (boxes in absolute pixels, SPEC §1). Images are referenced by path and decoded
 * lazily (`imageRgb`). Broken data is an error naming the file and the object — never a
 * silently shorter dataset.
 *
 * - DIOR-RSVG: `Annotations/*.xml` (VOC style, one `<object>` per referring expression with
 *   `<name>`, `<bndbox>`, `<description>`), `JPEGImages/*.jpg`, and `{train,val,test}.txt`
 *   holding GLOBAL object indices: every `<object>` counted over the XML files in sorted
 *   file-name order.
 * - VRSBench-VG: a JSON list of referring records; boxes normalised to the image (either a
 *   numeric `obj_coord`/`bbox` in [0, 1], or the release's `ground_truth` string
 *   `{<x1><y1><x2><y2>}` on a 0–100 scale); `is_unique` kept.
 * - RRSIS-D: REFER/COCO style — `instances.json` (COCO images/annotations/categories, boxes
 *   as [x, y, w, h]) and the refs list (`refs(unc).p` is a Python pickle: convert it once to
 *   JSON, see `loadRrsisD`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { isValidBox, type Box } from '../boxes';
import type { GroundingSample } from './samples';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { readJson } from '../files';

// ── DIOR-RSVG ──────────────────────────────────────────────────────────────────────────

type DiorObject = {
  file: string;
  filename: string;
  width: number;
  height: number;
  index: number;
  line: number;
  name: string;
  box: Box;
  description: string;
  classCount: number;
};

const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: true,
  isArray: (name) => name === 'object',
});

/** A coordinate or size: a plain decimal number (no hex, no exponent tricks), finite. */
const DECIMAL = /^-?\d+(\.\d+)?$/;

function num(value: unknown, name: string, where: string): number {
  const t = typeof value === 'string' ? value.trim() : value === undefined ? undefined : String(value);
  if (t === undefined || t === '') throw new Error(`${where}: <${name}> is missing, expected a number`);
  if (!DECIMAL.test(t)) throw new Error(`${where}: <${name}> is ${JSON.stringify(t)}, expected a decimal number`);
  return Number(t);
}

/** The line of each `<object>` start tag, in document order (the parser does not keep positions). */
function objectLines(src: string): number[] {
  const lines: number[] = [];
  let line = 1,
    from = 0;
  for (const m of src.matchAll(/<object[\s>]/g)) {
    for (let i = from; i < m.index!; i++) if (src.charCodeAt(i) === 10) line++;
    from = m.index!;
    lines.push(line);
  }
  return lines;
}

function readDiorXml(path: string): DiorObject[] {
  const src = readFileSync(path, 'utf8');
  const valid = XMLValidator.validate(src);
  if (valid !== true) throw new Error(`${path}:${valid.err.line}: malformed XML: ${valid.err.msg}`);
  const root = (xml.parse(src) as { annotation?: Record<string, unknown> }).annotation;
  if (!root) throw new Error(`${path}: no <annotation> root element`);
  const filename = typeof root.filename === 'string' ? root.filename.trim() : '';
  if (!filename) throw new Error(`${path}: missing <filename>`);
  const size = root.size as Record<string, unknown> | undefined;
  if (!size || typeof size !== 'object') throw new Error(`${path}: missing <size>`);
  const width = num(size.width, 'width', `${path} <size>`),
    height = num(size.height, 'height', `${path} <size>`);
  if (!(width >= 1 && height >= 1))
    throw new Error(`${path} <size>: ${width}×${height} is not an image size (need width, height ≥ 1)`);
  const objs = (root.object as Record<string, unknown>[] | undefined) ?? [];
  const lines = objectLines(src);
  const names = objs.map((o, k) => {
    const n = typeof o.name === 'string' ? o.name.trim() : '';
    if (!n) throw new Error(`${path}:${lines[k]}: object #${k} has no <name>`);
    return n;
  });
  return objs.map((o, k) => {
    const where = `${path}:${lines[k]}: object #${k}`;
    const bb = o.bndbox as Record<string, unknown> | undefined;
    if (!bb || typeof bb !== 'object') throw new Error(`${where}: missing <bndbox>`);
    const box = {
      x1: num(bb.xmin, 'xmin', where),
      y1: num(bb.ymin, 'ymin', where),
      x2: num(bb.xmax, 'xmax', where),
      y2: num(bb.ymax, 'ymax', where),
    };
    if (!isValidBox(box))
      throw new Error(`${where}: invalid box ${JSON.stringify(box)} (need xmin < xmax and ymin < ymax)`);
    if (box.x1 < 0 || box.y1 < 0 || box.x2 > width || box.y2 > height) {
      throw new Error(
        `${where}: box ${JSON.stringify(box)} lies outside the ${width}×${height} image (need 0 ≤ xmin < xmax ≤ ` +
          `${width}, 0 ≤ ymin < ymax ≤ ${height})`,
      );
    }
    const description = typeof o.description === 'string' ? o.description.trim() : '';
    if (!description) throw new Error(`${where}: missing or empty <description>`);
    return {
      file: path,
      filename,
      width,
      height,
      index: k,
      line: lines[k],
      name: names[k],
      box,
      description,
      classCount: names.filter((n) => n === names[k]).length,
    };
  });
}

/** DIOR-RSVG split `split` under `root`, in the split file's order. */
export async function loadDiorRsvg(root: string, split: 'train' | 'val' | 'test'): Promise<GroundingSample[]> {
  const annDir = join(root, 'Annotations');
  if (!existsSync(annDir)) throw new Error(`DIOR-RSVG: ${annDir} not found`);
  const xmls = readdirSync(annDir)
    .filter((f) => f.toLowerCase().endsWith('.xml'))
    .sort();
  if (xmls.length === 0) throw new Error(`DIOR-RSVG: no .xml files in ${annDir}`);
  const objects: DiorObject[] = [];
  for (const f of xmls) objects.push(...readDiorXml(join(annDir, f)));
  const splitFile = join(root, `${split}.txt`);
  if (!existsSync(splitFile)) throw new Error(`DIOR-RSVG: split file ${splitFile} not found`);
  const out: GroundingSample[] = [];
  const seen = new Map<number, number>();
  readFileSync(splitFile, 'utf8')
    .split('\n')
    .forEach((raw, ln) => {
      const line = raw.trim();
      if (line === '') return;
      if (!/^\d+$/.test(line))
        throw new Error(`${splitFile}:${ln + 1}: expected a global object index, got ${JSON.stringify(line)}`);
      const idx = Number(line);
      if (seen.has(idx))
        throw new Error(`${splitFile}:${ln + 1}: object index ${idx} is listed twice (first on line ${seen.get(idx)})`);
      seen.set(idx, ln + 1);
      if (idx >= objects.length)
        throw new Error(
          `${splitFile}:${ln + 1}: object index ${idx} is out of range (the ${xmls.length} annotation files hold ` +
            `${objects.length} objects, indices 0–${objects.length - 1})`,
        );
      const o = objects[idx];
      const path = join(root, 'JPEGImages', o.filename);
      if (!existsSync(path))
        throw new Error(`${o.file}:${o.line}: object #${o.index} refers to image ${path}, which does not exist`);
      out.push({
        id: `dior-rsvg-${idx}`,
        image: { width: o.width, height: o.height, path },
        query: o.description,
        gt: o.box,
        category: o.name,
        unique: o.classCount === 1,
        meta: { source: 'DIOR-RSVG', annotation: basename(o.file), objectIndex: o.index, globalIndex: idx },
      });
    });
  if (out.length === 0) throw new Error(`${splitFile}: lists no objects (an empty split file)`);
  return out;
}

// ── VRSBench-VG ────────────────────────────────────────────────────────────────────────

type VrsRecord = Record<string, unknown>;

function firstOf(r: VrsRecord, keys: string[]): unknown {
  for (const k of keys) if (r[k] !== undefined && r[k] !== null) return r[k];
  return undefined;
}

/** `{<x1><y1><x2><y2>}` on 0–100, braces optional. */
const N = String.raw`\s*<\s*(\d+(?:\.\d+)?)\s*>`;
const VRS_BOX_STRING = new RegExp(String.raw`^\s*\{?${N}${N}${N}${N}\s*\}?\s*$`);

/** A VRSBench box, normalised to [0, 1]: a numeric list, or the `{<x1><y1><x2><y2>}` 0–100 string. */
function vrsNormalisedBox(r: VrsRecord, where: string): [number, number, number, number] {
  const v = firstOf(r, ['obj_coord', 'bbox', 'ground_truth']);
  if (Array.isArray(v) && v.length === 4 && v.every((x) => typeof x === 'number'))
    return v as [number, number, number, number];
  if (typeof v === 'string') {
    const m = VRS_BOX_STRING.exec(v);
    if (m) return [Number(m[1]) / 100, Number(m[2]) / 100, Number(m[3]) / 100, Number(m[4]) / 100];
  }
  throw new Error(
    `${where}: no box (expected obj_coord/bbox as [x1, y1, x2, y2] in [0, 1], or ground_truth "{<x1><y1><x2><y2>}" ` +
      `on 0–100), got ${JSON.stringify(v)}`,
  );
}

function asBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === '1' || v === 'True' || v === 'true') return true;
  if (v === 0 || v === '0' || v === 'False' || v === 'false') return false;
  return undefined;
}

/** Strip VRSBench's prompt markup ("[refer] <p>the car</p>") from a question. */
function cleanQuestion(q: string): string {
  return q
    .replace(/\[refer\]/gi, '')
    .replace(/<\/?p>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export type VrsbenchOptions = {
  /**
   * What to do with a record whose box has no area (the release has a few, e.g. y1 = y2 after
   * rounding to 0–100). 'error' (default) stops with the record named; 'skip' drops them and
   * reports how many through `onSkip` — an explicit, counted choice, never a silent one.
   */
  invalidBoxes?: 'error' | 'skip';
  onSkip?: (skipped: { index: number; id: string; reason: string }[]) => void;
};

/** VRSBench-VG: boxes normalised to [0, 1] → absolute pixels of each image. */
export async function loadVrsbenchVg(
  annotationJson: string,
  imagesDir: string,
  opts: VrsbenchOptions = {},
): Promise<GroundingSample[]> {
  const data = readJson<unknown>(annotationJson);
  const wrapped =
    data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as { data?: unknown }).data : undefined;
  const records = (Array.isArray(data) ? data : wrapped) as VrsRecord[] | undefined;
  if (!Array.isArray(records)) {
    throw new Error(
      `${annotationJson}: expected a JSON list of referring records (or {"data": [...]}), got ` +
        `${data === null ? 'null' : Array.isArray(data) ? 'a list' : typeof data}`,
    );
  }
  if (records.length === 0) throw new Error(`${annotationJson}: holds no referring records`);
  const ids = new Map<string, number>();
  const sizes = new Map<string, { width: number; height: number }>();
  const out: GroundingSample[] = [];
  const skipped: { index: number; id: string; reason: string }[] = [];
  for (const [i, r] of records.entries()) {
    const where = `${annotationJson}: record #${i}`;
    if (typeof r !== 'object' || r === null) throw new Error(`${where}: not an object`);
    const image = firstOf(r, ['image_id', 'image', 'file_name', 'filename']);
    if (typeof image !== 'string' || image === '') throw new Error(`${where}: missing image_id`);
    const question = firstOf(r, ['question', 'referring_expression', 'ref_exp', 'description']);
    if (typeof question !== 'string' || cleanQuestion(question) === '') throw new Error(`${where}: missing question`);
    const id = String(firstOf(r, ['question_id', 'id']) ?? i);
    if (ids.has(id)) throw new Error(`${where}: question id ${id} appears twice (first as record #${ids.get(id)})`);
    ids.set(id, i);
    const path = join(imagesDir, image);
    let size = sizes.get(path);
    if (!size) {
      if (!existsSync(path)) throw new Error(`${where} (question ${id}): image ${path} does not exist`);
      const meta = await sharp(path)
        .metadata()
        .catch((e: Error) => {
          throw new Error(`${where}: cannot read image ${path}: ${e.message}`);
        });
      size = { width: meta.width!, height: meta.height! };
      sizes.set(path, size);
    }
    const [a, b, c, d] = vrsNormalisedBox(r, `${where} (question ${id})`);
    const gt: Box = { x1: a * size.width, y1: b * size.height, x2: c * size.width, y2: d * size.height };
    if (!isValidBox(gt) || [a, b, c, d].some((v) => v < 0 || v > 1)) {
      const reason = `invalid box ${JSON.stringify([a, b, c, d])} (normalised; need 0 ≤ x1 < x2 ≤ 1, 0 ≤ y1 < y2 ≤ 1)`;
      if (opts.invalidBoxes === 'skip') {
        skipped.push({ index: i, id, reason });
        continue;
      }
      throw new Error(
        `${where} (question ${id}): ${reason}; pass { invalidBoxes: 'skip' } to drop such records explicitly`,
      );
    }
    const unique = asBool(firstOf(r, ['is_unique', 'unique']));
    out.push({
      id: `vrsbench-${id}`,
      image: { width: size.width, height: size.height, path },
      query: cleanQuestion(question),
      gt,
      category: String(firstOf(r, ['obj_cls', 'obj_class', 'category', 'class']) ?? 'unknown'),
      unique: unique ?? false,
      meta: { source: 'VRSBench-VG', record: i, uniqueKnown: unique !== undefined },
    });
  }
  if (skipped.length) opts.onSkip?.(skipped);
  if (out.length === 0)
    throw new Error(`${annotationJson}: every record was skipped (${skipped.length} invalid boxes)`);
  return out;
}

// ── RRSIS-D (REFER / COCO style) ───────────────────────────────────────────────────────

type CocoImage = { id: number; file_name: string; width: number; height: number };
type CocoAnn = { id: number; image_id: number; bbox: number[]; category_id: number };
type Ref = {
  ref_id: number;
  ann_id: number;
  image_id: number;
  split: string;
  sentences: { sent?: string; raw?: string; sent_id?: number }[];
};

/**
 * RRSIS-D split `split` (train / val / test). `root/instances.json` is COCO style; the refs
 * are read from `refsFile` (default `root/refs(unc).json`). The release ships the refs as a
 * Python pickle `refs(unc).p`; convert it once with
 * `python3 -c "import pickle, json; json.dump(pickle.load(open('refs(unc).p', 'rb')), open('refs(unc).json', 'w'))"`.
 * One sample per sentence.
 */
export async function loadRrsisD(
  root: string,
  split: string,
  opts: { refsFile?: string; imagesDir?: string } = {},
): Promise<GroundingSample[]> {
  const instPath = join(root, 'instances.json');
  const refsPath = opts.refsFile ?? join(root, 'refs(unc).json');
  if (!existsSync(refsPath)) {
    const pickle = join(root, 'refs(unc).p');
    const hint = existsSync(pickle) ? ` (found ${pickle}: convert the pickle to JSON first, see loadRrsisD's doc)` : '';
    throw new Error(`RRSIS-D: ${refsPath} not found${hint}`);
  }
  if (!existsSync(instPath)) throw new Error(`RRSIS-D: ${instPath} not found`);
  const inst = readJson<{ images: CocoImage[]; annotations: CocoAnn[]; categories: { id: number; name: string }[] }>(
    instPath,
  );
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (inst === null || typeof inst !== 'object' || !Array.isArray(inst[key])) {
      throw new Error(`${instPath}: expected a COCO object with an "${key}" list`);
    }
  }
  const refs = readJson<Ref[]>(refsPath);
  if (!Array.isArray(refs)) throw new Error(`${refsPath}: expected a list of refs`);
  const splits = new Set(refs.map((r) => r?.split));
  if (!splits.has(split)) {
    throw new Error(
      `${refsPath}: no refs in split "${split}" (splits present: ` +
        `${[...splits].map(String).sort().join(', ') || 'none'})`,
    );
  }
  const images = new Map(inst.images.map((im) => [im.id, im]));
  const anns = new Map(inst.annotations.map((a) => [a.id, a]));
  const cats = new Map(inst.categories.map((c) => [c.id, c.name]));
  const imagesDir = opts.imagesDir ?? join(root, 'images');
  const perImageClass = new Map<string, number>();
  for (const a of inst.annotations)
    perImageClass.set(`${a.image_id}/${a.category_id}`, (perImageClass.get(`${a.image_id}/${a.category_id}`) ?? 0) + 1);
  const out: GroundingSample[] = [];
  const seen = new Map<string, number>();
  for (const [i, ref] of refs.entries()) {
    if (ref === null || typeof ref !== 'object') throw new Error(`${refsPath}: ref #${i} is not an object`);
    if (ref.split !== split) continue;
    const where = `${refsPath}: ref #${i} (ref_id ${ref.ref_id})`;
    if (seen.has(String(ref.ref_id)))
      throw new Error(`${where}: ref_id ${ref.ref_id} appears twice (first as ref #${seen.get(String(ref.ref_id))})`);
    seen.set(String(ref.ref_id), i);
    if (!Array.isArray(ref.sentences) || ref.sentences.length === 0) throw new Error(`${where}: has no sentences`);
    const ann = anns.get(ref.ann_id);
    if (!ann) throw new Error(`${where}: ann_id ${ref.ann_id} not in ${instPath}`);
    const im = images.get(ann.image_id);
    if (!im) throw new Error(`${where}: image_id ${ann.image_id} not in ${instPath}`);
    const [x, y, w, h] = ann.bbox ?? [];
    const gt: Box = { x1: x, y1: y, x2: x + w, y2: y + h };
    if (isValidBox(gt) && (x < 0 || y < 0 || x + w > im.width || y + h > im.height)) {
      throw new Error(
        `${where}: annotation ${ann.id} bbox ${JSON.stringify(ann.bbox)} lies outside the ${im.width}×${im.height} ` +
          `image`,
      );
    }
    if (!isValidBox(gt))
      throw new Error(
        `${where}: annotation ${ann.id} has invalid bbox ${JSON.stringify(ann.bbox)} (COCO [x, y, w, h] with w, h > 0)`,
      );
    const path = join(imagesDir, im.file_name);
    if (!existsSync(path)) throw new Error(`${where}: image ${path} does not exist`);
    for (const [k, s] of ref.sentences.entries()) {
      const q = (s.sent ?? s.raw ?? '').trim();
      if (!q) throw new Error(`${where}: sentence #${k} is empty`);
      out.push({
        id: `rrsisd-${ref.ref_id}-${s.sent_id ?? k}`,
        image: { width: im.width, height: im.height, path },
        query: q,
        gt,
        category: cats.get(ann.category_id) ?? String(ann.category_id),
        unique: perImageClass.get(`${ann.image_id}/${ann.category_id}`) === 1,
        meta: { source: 'RRSIS-D', refId: ref.ref_id, annId: ann.id },
      });
    }
  }
  return out;
}
