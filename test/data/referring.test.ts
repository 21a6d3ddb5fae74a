import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  resolve,
  isUnique,
  renderExpression,
  uniqueCues,
  regionOf,
  margin,
  type Expression,
} from '../../lib/data/referring';
import type { SceneObject, ObjectClass, ColorName } from '../../lib/data/world';
import { center } from '../../lib/boxes';
import { groundingSplit } from '../../lib/data/splits';

const obj = (cls: ObjectClass, x: number, y: number, w = 4, h = 4, color: ColorName = 'white'): SceneObject => ({
  cls,
  color,
  box: { x1: x, y1: y, x2: x + w, y2: y + h },
  angle: 0,
  mask: new Uint8Array(w * h).fill(1),
  area: w * h,
});

// Three vehicles in a row at x = 4, 20, 40 (centres 6, 22, 42), one airplane at the bottom right.
const scene = [
  obj('vehicle', 4, 4),
  obj('vehicle', 20, 30, 4, 4, 'red'),
  obj('vehicle', 40, 8, 6, 6),
  obj('airplane', 50, 50, 10, 10),
];
const S = 64;

test('hand-made scene: each cue resolves to the object a reader would pick', () => {
  const r = (e: Expression) => resolve(e, scene, S);
  assert.equal(r({ cls: 'vehicle', cue: { type: 'ordinal', side: 'left', rank: 1 } }).definite, [0]);
  assert.equal(r({ cls: 'vehicle', cue: { type: 'ordinal', side: 'right', rank: 2 } }).definite, [1]);
  assert.equal(r({ cls: 'vehicle', cue: { type: 'ordinal', side: 'bottom', rank: 1 } }).definite, [1]);
  assert.equal(r({ cls: 'vehicle', cue: { type: 'color', color: 'red' } }).definite, [1]);
  assert.equal(r({ cls: 'vehicle', cue: { type: 'size', which: 'largest' } }).definite, [2]); // 36 px vs 16
  assert.equal(r({ cls: 'vehicle', cue: { type: 'absolute', region: 'top left' } }).definite, [0]);
  // Airplane centre (55, 55): vehicle 1 at (22, 32) is √(33² + 23²) ≈ 40.2 away, vehicle 2 at (43, 11) ≈ 45.6.
  assert.equal(
    r({ cls: 'vehicle', cue: { type: 'relational', relation: 'closest to', landmark: 'airplane' } }).definite,
    [1],
  );
  assert.equal(
    r({ cls: 'vehicle', cue: { type: 'relational', relation: 'above', landmark: 'airplane' } }).definite,
    [0, 1, 2],
  );
  assert.equal(r({ cls: 'airplane', cue: { type: 'category' } }).definite, [3]);
  assert.equal(r({ cls: 'vehicle', cue: { type: 'ordinal', side: 'left', rank: 4 } }).possible, []);
});

test('ties within the margin are ambiguous, not resolved', () => {
  const m = margin(S);
  const twins = [obj('ship', 10, 10), obj('ship', 10 + m / 2, 40), obj('ship', 40, 20)];
  const res = resolve({ cls: 'ship', cue: { type: 'ordinal', side: 'left', rank: 1 } }, twins, S);
  assert.is(isUnique(res), false);
  assert.equal(res.possible.sort(), [0, 1]);
  // Similar sizes are not "the largest".
  const sizes = [obj('storage tank', 0, 0, 5, 5), obj('storage tank', 30, 30, 5, 6)];
  assert.is(isUnique(resolve({ cls: 'storage tank', cue: { type: 'size', which: 'largest' } }, sizes, S)), false);
  // A landmark that is not unique cannot anchor a relation.
  const two = [...scene, obj('airplane', 2, 50, 8, 8)];
  assert.is(
    isUnique(
      resolve({ cls: 'vehicle', cue: { type: 'relational', relation: 'closest to', landmark: 'airplane' } }, two, S),
    ),
    false,
  );
});

test('rendered queries', () => {
  assert.is(
    renderExpression({ cls: 'vehicle', cue: { type: 'ordinal', side: 'right', rank: 2 } }),
    'the second vehicle from the right',
  );
  assert.is(
    renderExpression({ cls: 'vehicle', cue: { type: 'ordinal', side: 'top', rank: 1 } }),
    'the topmost vehicle',
  );
  assert.is(
    renderExpression({ cls: 'storage tank', cue: { type: 'absolute', region: 'left' } }),
    'the storage tank on the left',
  );
  assert.is(
    renderExpression({ cls: 'ship', cue: { type: 'relational', relation: 'below', landmark: 'airplane' } }),
    'the ship below the airplane',
  );
  assert.is(regionOf(63, 0, 64), 'top right');
  assert.is(regionOf(32, 32, 64), 'center');
});

test('uniqueCues only offers cues that pick out the target', () => {
  for (const fam of ['category', 'attribute', 'absolute', 'ordinal', 'relational'] as const) {
    for (let t = 0; t < scene.length; t++) {
      for (const cue of uniqueCues(fam, t, scene, S)) {
        assert.ok(isUnique(resolve({ cls: scene[t].cls, cue }, scene, S), t));
      }
    }
  }
});

test('every generated query resolves to exactly its target; ordinal cues agree with a brute-force sort', () => {
  const xs = groundingSplit('train', { count: 300 });
  for (const s of xs) {
    const objects = s.meta!.objects as SceneObject[];
    const e = s.meta!.expression as Expression;
    const t = s.meta!.targetIndex as number;
    assert.ok(isUnique(resolve(e, objects, s.image.width), t), `${s.id}: ${s.query}`);
    assert.equal(objects[t].box, s.gt);
    if (e.cue.type === 'ordinal') {
      const { side, rank } = e.cue;
      const same = objects.filter((o) => o.cls === e.cls);
      const key = (o: SceneObject) => {
        const [x, y] = center(o.box);
        return side === 'left' ? x : side === 'right' ? -x : side === 'top' ? y : -y;
      };
      same.sort((a, b) => key(a) - key(b));
      assert.equal(same[rank - 1].box, s.gt, `${s.id}: ${s.query}`);
    }
  }
});

test.run();
