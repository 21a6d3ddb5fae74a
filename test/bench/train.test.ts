/**
 * The bench's matmul FLOP count (bench/train.ts), which turns a profile into GFLOP/s against the
 * sgemm peak: hand-computed counts for plain products, the fused linear layer and the fused attention
 * kernels in each layout, and a real blas profile of a policy's forward+backward that it must read
 * (with the layers composed op by op, as the bench profiles them: the whole-layer op hides its kernels).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { composedLayers, matmulFlops } from '../../bench/train';
import { selectBackend } from '../../lib/backend';
import { blasAvailable } from '../../lib/native/addon';
import { Policy } from '../../lib/model/policy';
import { sequenceTensors, sftLoss } from '../../lib/loss';
import { groundingSplit } from '../../lib/data/splits';
import { TINY } from '../helpers';

const k = (name: string, inputShapes: number[][], outputShapes: number[][]) => ({ name, inputShapes, outputShapes });

test('plain products: 2·batch·M·N·K', () => {
  assert.is(
    matmulFlops([
      k(
        'BatchMatMul',
        [
          [2, 3],
          [3, 4],
        ],
        [[2, 4]],
      ),
    ]),
    2 * 2 * 4 * 3,
  );
  assert.is(
    matmulFlops([
      k(
        'BatchMatMul',
        [
          [5, 2, 3],
          [3, 4],
        ],
        [[5, 2, 4]],
      ),
    ]),
    2 * 5 * 2 * 4 * 3,
  );
  assert.is(
    matmulFlops([
      k(
        'Add',
        [
          [2, 3],
          [2, 3],
        ],
        [[2, 3]],
      ),
    ]),
    0,
  );
});

test('attention: QKᵀ and PV forward, four products backward, the readout, packed or not', () => {
  // B 2, Tq 5, Tk 7, d 8 (4 heads); with the position readout the output is 2d wide
  const cross = k(
    'RsgAttention',
    [
      [2, 5, 8],
      [2, 7, 8],
      [2, 7, 8],
      [2, 7],
      [7, 8],
    ],
    [
      [2, 5, 16],
      [2, 4, 5, 7],
    ],
  );
  assert.is(matmulFlops([cross]), 2 * 2 * 2 * 5 * 7 * 8 + 2 * 2 * 5 * 7 * 8);
  const crossGrad = k(
    'RsgAttentionGrad',
    [
      [2, 5, 16],
      [2, 5, 8],
      [2, 7, 8],
      [2, 7, 8],
      [2, 4, 5, 7],
      [7, 8],
    ],
    [
      [2, 5, 8],
      [2, 7, 8],
      [2, 7, 8],
    ],
  );
  assert.is(matmulFlops([crossGrad]), 2 * 4 * 2 * 5 * 7 * 8 + 2 * 2 * 5 * 7 * 8);
  // self-attention on a packed qkv [2, 5, 24]: d is a third of its width, no readout
  const self = k(
    'RsgAttention',
    [[2, 5, 24]],
    [
      [2, 5, 8],
      [2, 4, 5, 5],
    ],
  );
  assert.is(matmulFlops([self]), 2 * 2 * 2 * 5 * 5 * 8);
  const selfGrad = k(
    'RsgAttentionGrad',
    [
      [2, 5, 8],
      [2, 5, 24],
      [2, 4, 5, 5],
    ],
    [[2, 5, 24]],
  );
  assert.is(matmulFlops([selfGrad]), 2 * 4 * 2 * 5 * 5 * 8);
});

test('the fused linear layer: 2·rows·K·N forward, twice that backward (x, w, b[, res]; dy, x, w[, z])', () => {
  const x = [6, 4],
    w = [4, 3],
    y = [6, 3];
  for (const [kernel, inputs, want] of [
    [k('RsgLinear', [x, w, [3]], [y]), 'x, w, b', 2 * 6 * 4 * 3],
    [k('RsgLinear', [x, w, [3], y], [y, y]), 'x, w, b, res', 2 * 6 * 4 * 3],
    [k('RsgLinearGrad', [y, x, w], [x, w, [3]]), 'dy, x, w', 4 * 6 * 4 * 3],
    [k('RsgLinearGrad', [y, x, w, y], [x, w, [3]]), 'dy, x, w, z', 4 * 6 * 4 * 3],
  ] as const)
    assert.is(matmulFlops([kernel]), want, `${kernel.name} (${inputs})`);
});

(blasAvailable() ? test : test.skip)(
  'a real forward+backward profile on blas is read, every product counted',
  async () => {
    const { ops } = await selectBackend('blas');
    const p = Policy.create(TINY, 1, ops);
    const samples = groundingSplit('train', { count: 2 });
    const enc = p.encoderInput(samples);
    const seq = sequenceTensors(
      [
        [30, 31, 5],
        [40, 7],
      ],
      p.tok.bosId,
      p.tok.padId,
    );
    const info = await tf.profile(() => {
      const g = tf.variableGrads(() => sftLoss(composedLayers(p), { enc, group: 1, ...seq }), [...p.params.values()]);
      tf.dispose([g.value, ...Object.values(g.grads)]);
    });
    const kernels = info.kernels as unknown as Parameters<typeof matmulFlops>[0];
    const attention = kernels.filter((x) => x.name.startsWith('RsgAttention'));
    assert.ok(attention.length > 0, 'the profile has fused attention kernels');
    assert.ok(
      kernels.some((x) => x.name === 'RsgLinear') && kernels.some((x) => x.name === 'RsgLinearGrad'),
      'the profile has fused linear kernels',
    );
    const f = matmulFlops(kernels);
    for (const family of ['RsgAttention', 'RsgLinear'])
      assert.ok(f > matmulFlops(kernels.filter((x) => !x.name.startsWith(family))), `${family} counted: ${f}`);
    // every product of the step is one of the counted kernels: none is left to a plain matMul but the tied head
    assert.ok(kernels.filter((x) => x.name === 'BatchMatMul').length <= 3, 'only the tied head runs as matMul');
    // as trained, the layers are whole ops each way whose products the profile cannot see: hence composedLayers
    const fusedInfo = await tf.profile(() => {
      const g = tf.variableGrads(() => sftLoss(p, { enc, group: 1, ...seq }), [...p.params.values()]);
      tf.dispose([g.value, ...Object.values(g.grads)]);
    });
    const seen = matmulFlops(fusedInfo.kernels as unknown as Parameters<typeof matmulFlops>[0]);
    assert.ok(seen < f, `the whole-layer op hides its layers' products from the profile: ${seen} of ${f}`);
    tf.dispose([enc.patches, enc.queryIds, enc.keyMask, seq.inputIds, seq.targets, seq.mask, ...p.params.values()]);
  },
);

test.run();
