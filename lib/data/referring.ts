/**
 * Referring expressions for the mini world, as small programs with an executable resolver.
 *
 * An expression is a class plus one cue from DIOR-RSVG's families: attribute (colour, size),
 * absolute position ("at the top left"), ordinal ("the second from the right") or relational
 * ("closest to the storage tank"). `resolve` runs it over a scene's objects; a generated
 * query is kept only when it picks out exactly one object, with a margin, so that no query is
 * ambiguous to a careful reader either.
 */
import { center, type Box } from '../boxes';
import type { ColorName, ObjectClass, SceneObject } from './world';

export const REGIONS = [
  'top left',
  'top',
  'top right',
  'left',
  'center',
  'right',
  'bottom left',
  'bottom',
  'bottom right',
] as const;
export type Region = (typeof REGIONS)[number];
export type Side = 'left' | 'right' | 'top' | 'bottom';
export const RELATIONS = ['closest to', 'left of', 'right of', 'above', 'below'] as const;
export type Relation = (typeof RELATIONS)[number];

export type Cue =
  | { type: 'category' }
  | { type: 'color'; color: ColorName }
  | { type: 'size'; which: 'largest' | 'smallest' }
  | { type: 'absolute'; region: Region }
  | { type: 'ordinal'; side: Side; rank: number }
  | { type: 'relational'; relation: Relation; landmark: ObjectClass };

export const CUE_FAMILIES = ['category', 'attribute', 'absolute', 'ordinal', 'relational'] as const;
export type CueFamily = (typeof CUE_FAMILIES)[number];

export type Expression = { cls: ObjectClass; cue: Cue };

export function cueFamily(c: Cue): CueFamily {
  return c.type === 'color' || c.type === 'size' ? 'attribute' : c.type;
}

/** The ambiguity margin in pixels: positions closer than this do not count as different. */
export function margin(imageSize: number): number {
  return Math.max(1, imageSize * 0.025);
}

/** The 3×3 region holding a point. */
export function regionOf(x: number, y: number, size: number): Region {
  const col = Math.min(2, Math.max(0, Math.floor((3 * x) / size)));
  const row = Math.min(2, Math.max(0, Math.floor((3 * y) / size)));
  return REGIONS[row * 3 + col];
}

function regionRect(r: Region, size: number): Box {
  const i = REGIONS.indexOf(r),
    row = Math.floor(i / 3),
    col = i % 3,
    t = size / 3;
  return { x1: col * t, y1: row * t, x2: (col + 1) * t, y2: (row + 1) * t };
}

/** The phrase for a region: "at the top left", "on the left", "in the center". */
export function regionPhrase(r: Region): string {
  if (r === 'center') return 'in the center';
  if (r === 'left' || r === 'right') return `on the ${r}`;
  return `at the ${r}`;
}

const ORDINALS = ['', 'first', 'second', 'third', 'fourth'];
const EXTREME: Record<Side, string> = { left: 'leftmost', right: 'rightmost', top: 'topmost', bottom: 'bottommost' };

/** The query text of an expression. */
export function renderExpression(e: Expression): string {
  const c = e.cue;
  switch (c.type) {
    case 'category':
      return `the ${e.cls}`;
    case 'color':
      return `the ${c.color} ${e.cls}`;
    case 'size':
      return `the ${c.which} ${e.cls}`;
    case 'absolute':
      return `the ${e.cls} ${regionPhrase(c.region)}`;
    case 'ordinal':
      return c.rank === 1 ? `the ${EXTREME[c.side]} ${e.cls}` : `the ${ORDINALS[c.rank]} ${e.cls} from the ${c.side}`;
    case 'relational':
      return `the ${e.cls} ${c.relation} the ${c.landmark}`;
  }
}

/** A short phrase naming how the cue selects among candidates ("the leftmost one"). */
export function selectorPhrase(e: Expression): string {
  const c = e.cue;
  switch (c.type) {
    case 'category':
      return 'the only one';
    case 'color':
      return `the ${c.color} one`;
    case 'size':
      return `the ${c.which} one`;
    case 'absolute':
      return `the one ${regionPhrase(c.region)}`;
    case 'ordinal':
      return c.rank === 1 ? `the ${EXTREME[c.side]} one` : `the ${ORDINALS[c.rank]} one from the ${c.side}`;
    case 'relational':
      return `the one ${c.relation} the ${c.landmark}`;
  }
}

export type Resolution = {
  /** objects the expression certainly refers to */
  definite: number[];
  /** objects it might refer to, given the margin (⊇ definite) */
  possible: number[];
};

/** Exactly one referent, beyond doubt. */
export function isUnique(r: Resolution, target?: number): boolean {
  return r.possible.length === 1 && r.definite.length === 1 && (target === undefined || r.definite[0] === target);
}

/**
 * Execute an expression over a scene's objects (indices into `objects`). Positions are box
 * centres; `m` is the ambiguity margin.
 */
export function resolve(e: Expression, objects: readonly SceneObject[], imageSize: number): Resolution {
  const m = margin(imageSize);
  const cand = objects.map((o, i) => i).filter((i) => objects[i].cls === e.cls);
  const ctr = (i: number) => center(objects[i].box);
  const all = (xs: number[]): Resolution => ({ definite: xs, possible: xs });
  const c = e.cue;
  switch (c.type) {
    case 'category':
      return all(cand);
    case 'color':
      return all(cand.filter((i) => objects[i].color === c.color));
    case 'size': {
      if (cand.length === 0) return all([]);
      const sorted = [...cand].sort((a, b) =>
        c.which === 'largest' ? objects[b].area - objects[a].area : objects[a].area - objects[b].area,
      );
      const best = objects[sorted[0]].area;
      // Clearly larger (smaller) than the runner-up: a 25% area ratio.
      const close = sorted.filter((i) => {
        const a = objects[i].area;
        return c.which === 'largest' ? a * 1.25 > best : a < best * 1.25;
      });
      return { definite: close.length === 1 ? close : [], possible: close };
    }
    case 'absolute': {
      const r = regionRect(c.region, imageSize);
      const inside = (i: number, grow: number) => {
        const [x, y] = ctr(i);
        return x >= r.x1 - grow && x < r.x2 + grow && y >= r.y1 - grow && y < r.y2 + grow;
      };
      return { definite: cand.filter((i) => inside(i, -m)), possible: cand.filter((i) => inside(i, m)) };
    }
    case 'ordinal': {
      const key = (i: number) => {
        const [x, y] = ctr(i);
        return c.side === 'left' ? x : c.side === 'right' ? -x : c.side === 'top' ? y : -y;
      };
      const sorted = [...cand].sort((a, b) => key(a) - key(b));
      if (c.rank > sorted.length) return all([]);
      const t = sorted[c.rank - 1];
      const possible = sorted.filter((i) => Math.abs(key(i) - key(t)) < m);
      return { definite: possible.length === 1 ? [t] : [], possible };
    }
    case 'relational': {
      const lms = objects.map((o, i) => i).filter((i) => objects[i].cls === c.landmark);
      if (c.landmark === e.cls || lms.length !== 1) return { definite: [], possible: cand };
      const L = objects[lms[0]].box;
      const [lx, ly] = center(L);
      if (c.relation === 'closest to') {
        if (cand.length === 0) return all([]);
        const d = (i: number) => {
          const [x, y] = ctr(i);
          return Math.hypot(x - lx, y - ly);
        };
        const dmin = Math.min(...cand.map(d));
        const possible = cand.filter((i) => d(i) < dmin + m);
        return { definite: possible.length === 1 ? possible : [], possible };
      }
      const side = (i: number, grow: number) => {
        const [x, y] = ctr(i);
        switch (c.relation) {
          case 'left of':
            return x < L.x1 + grow;
          case 'right of':
            return x > L.x2 - grow;
          case 'above':
            return y < L.y1 + grow;
          case 'below':
            return y > L.y2 - grow;
        }
      };
      return { definite: cand.filter((i) => side(i, -m)), possible: cand.filter((i) => side(i, m)) };
    }
  }
}

/** Every cue of a family that picks out `target` uniquely (possibly none). */
export function uniqueCues(
  family: CueFamily,
  target: number,
  objects: readonly SceneObject[],
  imageSize: number,
): Cue[] {
  const t = objects[target];
  const [tx, ty] = center(t.box);
  const options: Cue[] = [];
  switch (family) {
    case 'category':
      options.push({ type: 'category' });
      break;
    case 'attribute':
      options.push(
        { type: 'color', color: t.color },
        { type: 'size', which: 'largest' },
        { type: 'size', which: 'smallest' },
      );
      break;
    case 'absolute':
      options.push({ type: 'absolute', region: regionOf(tx, ty, imageSize) });
      break;
    case 'ordinal':
      for (const side of ['left', 'right', 'top', 'bottom'] as Side[])
        for (let rank = 1; rank <= 3; rank++) options.push({ type: 'ordinal', side, rank });
      break;
    case 'relational': {
      const counts = new Map<ObjectClass, number>();
      for (const o of objects) counts.set(o.cls, (counts.get(o.cls) ?? 0) + 1);
      for (const [lm, n] of counts) {
        if (n !== 1 || lm === t.cls) continue;
        for (const relation of RELATIONS) options.push({ type: 'relational', relation, landmark: lm });
      }
      break;
    }
  }
  const sameClass = objects.filter((o) => o.cls === t.cls).length;
  return options.filter((cue) => {
    // A cue that needs look-alikes to make sense: no "largest" or "leftmost" of a single object,
    // and no "the red vehicle" when "the vehicle" alone would do (except in the attribute family
    // of the generic corpus, which asks for it explicitly).
    if ((cue.type === 'size' || cue.type === 'ordinal' || cue.type === 'relational') && sameClass < 2) return false;
    return isUnique(resolve({ cls: t.cls, cue }, objects, imageSize), target);
  });
}
