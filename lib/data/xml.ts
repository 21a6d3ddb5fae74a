/**
 * A small, strict XML reader for annotation files (Pascal VOC / DIOR-RSVG): elements, text,
 * entities; attributes are read but rarely needed. Malformed input (unclosed or mismatched
 * tags, stray text after the root) is an error with a line number.
 */

export type XmlElement = { name: string; attrs: Record<string, string>; children: XmlElement[]; text: string; line: number };

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string, line: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    if (e in ENTITIES) return ENTITIES[e];
    throw new Error(`line ${line}: unknown entity ${m}`);
  });
}

/** Parse a document; returns its root element. Throws "line N: …" on malformed XML. */
export function parseXml(src: string): XmlElement {
  let i = 0, line = 1;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const advance = (to: number) => {
    for (let k = i; k < to; k++) if (src.charCodeAt(k) === 10) line++;
    i = to;
  };
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = src.slice(i, lt < 0 ? src.length : lt);
    if (text.trim() !== '') {
      if (stack.length === 0) throw new Error(`line ${line}: text outside the root element`);
      stack[stack.length - 1].text += decodeEntities(text, line);
    }
    advance(lt < 0 ? src.length : lt);
    if (lt < 0) break;
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i);
      if (end < 0) throw new Error(`line ${line}: unterminated comment`);
      advance(end + 3);
      continue;
    }
    if (src.startsWith('<?', i) || src.startsWith('<!', i)) {
      const end = src.indexOf('>', i);
      if (end < 0) throw new Error(`line ${line}: unterminated declaration`);
      advance(end + 1);
      continue;
    }
    const gt = src.indexOf('>', i);
    if (gt < 0) throw new Error(`line ${line}: unterminated tag`);
    const tag = src.slice(i + 1, gt);
    const tagLine = line;
    advance(gt + 1);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (!open) throw new Error(`line ${tagLine}: closing tag </${name}> without an opening tag`);
      if (open.name !== name) throw new Error(`line ${tagLine}: </${name}> closes <${open.name}> opened on line ${open.line}`);
      if (stack.length === 0) root = open;
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z_][\w.:-]*)([\s\S]*)$/.exec(body.trim());
    if (!m) throw new Error(`line ${tagLine}: malformed tag <${tag}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(/([\w.:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) attrs[a[1]] = decodeEntities(a[3] ?? a[4], tagLine);
    const el: XmlElement = { name: m[1], attrs, children: [], text: '', line: tagLine };
    if (stack.length) stack[stack.length - 1].children.push(el);
    else if (root) throw new Error(`line ${tagLine}: a second root element <${el.name}>`);
    if (selfClosing) { if (stack.length === 0) root = el; } else stack.push(el);
  }
  if (stack.length) throw new Error(`line ${line}: <${stack[stack.length - 1].name}> (line ${stack[stack.length - 1].line}) is never closed`);
  if (!root) throw new Error('no root element');
  return root;
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}
