/**
 * Where a training step's time goes, per tfjs kernel: the default GRPO step's sampling loop
 * (a pass of incremental decoding) and its forward+backward, and an SFT step's forward+backward,
 * profiled with tf.profile on each backend. Kernels are grouped into families (matmul,
 * elementwise, softmax/reductions, layout, …) and the remainder of the wall time is reported as
 * per-op overhead outside kernels (dispatch, tape, memory management).
 *
 *   npm run bench -- profile              (blas, wasm and cpu)
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/backend';
import { blasAvailable } from '../lib/native/addon';
import { Policy } from '../lib/model/policy';
import { grpoLoss, referenceLogProbs, sequenceTensors, sftLoss } from '../lib/loss';
import { DEFAULT_GRPO } from '../lib/train-grpo';
import { targetText } from '../lib/train-sft';
import { groundingSplit } from '../lib/data/splits';
import { Rng } from '../lib/rng';
import { SCALES } from '../experiments/scales';
import { table } from './harness';
import { composedLayers } from './train';

const FAMILY: [RegExp, string][] = [
  // the fused linear layers are products with a bias / GELU / residual epilogue
  [/MatMul|Conv|^RsgLinear|^RsgReadout/, 'matmul'],
  [/^Rsg/, 'fused (blas)'],
  [/Softmax|Max$|Sum|Mean|Prod|Min$|ArgMax|LogSoftmax|Cumsum/, 'softmax / reductions'],
  [
    new RegExp(
      'Transpose|Reshape|Concat|Slice|Gather|Pad|Tile|Pack|Unpack|Split|Reverse|ScatterNd|Identity|Cast|Fill|Range|' +
        'OneHot|ZerosLike|OnesLike|BroadcastTo',
    ),
    'layout / gather',
  ],
  [/.*/, 'elementwise'],
];
const family = (name: string) => FAMILY.find(([re]) => re.test(name))![1];

type Profile = { wall: number; byFamily: Map<string, number>; kernels: number };

async function profileOf(f: () => tf.TensorContainer): Promise<Profile> {
  const t0 = performance.now();
  const info = await tf.profile(() => {
    const r = f();
    tf.dispose(r as tf.Tensor);
  });
  const wall = performance.now() - t0;
  const byFamily = new Map<string, number>();
  for (const k of info.kernels) {
    if (k.name === 'forward') continue; // tf.customGrad's wrapper: its time is its inner kernel's
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byFamily.set(family(k.name), (byFamily.get(family(k.name)) ?? 0) + ms);
  }
  return { wall, byFamily, kernels: info.kernels.filter((k) => k.name !== 'forward').length };
}

export async function benchProfile(backends = [...(blasAvailable() ? ['blas'] : []), 'wasm', 'cpu']): Promise<void> {
  const arch = SCALES.default.arch;
  const G = DEFAULT_GRPO.group;
  const queries = groundingSplit('train', { count: DEFAULT_GRPO.queriesPerStep });
  const sftBatch = groundingSplit('train', { start: 100, count: SCALES.default.sft.batchSize });
  const families = ['matmul', 'fused (blas)', 'softmax / reductions', 'layout / gather', 'elementwise'];
  const rows: (string | number)[][] = [['backend', 'part', 'wall', 'kernels', ...families, 'outside kernels']];
  for (const name of backends) {
    const { ops } = await selectBackend(name);
    const policy = Policy.create(arch, 1, ops);
    // Rollouts to train on (sampling itself is timed by `npm run bench -- train`; here its
    // per-token decoding pass is profiled once at full batch).
    const gen = policy.generate(queries, new Rng(1), {
      group: G,
      temperature: 1,
      maxLen: DEFAULT_GRPO.maxLen,
      greedy: false,
    });
    const enc = policy.encoderInput(queries);
    const seqs = sequenceTensors(gen.ids, policy.tok.bosId, policy.tok.padId);
    const batch = { enc, group: G, ...seqs };
    const refLp = referenceLogProbs(policy, batch);
    const adv = new Float32Array(gen.ids.length).map((_, i) => (i % 2 ? 1 : -1));
    const w = new Float32Array(gen.ids.length).fill(1);
    const vars = [...policy.params.values()];
    // blas's whole-layer op runs its kernels out of tf.profile's sight: profile the layers composed
    // op by op (the same kernels; the dispatch share is then the composed path's)
    const net = composedLayers(policy);
    const grpo = () => {
      const g = tf.variableGrads(
        () =>
          grpoLoss(net, batch, { advantages: adv, weights: w, refLogProbs: refLp, epsilon: 0.2, betaKL: 0.04 }).loss,
        vars,
      );
      return [g.value, ...Object.values(g.grads)];
    };
    const sEnc = policy.encoderInput(sftBatch);
    const sSeqs = sequenceTensors(
      sftBatch.map((s) => policy.completionIds(targetText(s, 'rsground'))),
      policy.tok.bosId,
      policy.tok.padId,
    );
    const sft = () => {
      const g = tf.variableGrads(() => sftLoss(net, { enc: sEnc, group: 1, ...sSeqs }), vars);
      return [g.value, ...Object.values(g.grads)];
    };
    const sample = () => {
      policy.generate(queries, new Rng(2), { group: G, temperature: 1, maxLen: 8, greedy: false });
      return [];
    };
    for (const [part, f] of [
      ['sampling (8 tokens)', sample],
      ['GRPO fwd+bwd', grpo],
      ['SFT fwd+bwd', sft],
    ] as const) {
      tf.dispose(f() as tf.Tensor[]); // warm-up
      const p = await profileOf(f);
      const inK = [...p.byFamily.values()].reduce((a, b) => a + b, 0);
      const pct = (ms: number) => `${((100 * ms) / p.wall).toFixed(0)}%`;
      rows.push([
        name,
        part,
        `${p.wall.toFixed(0)} ms`,
        p.kernels,
        ...families.map((fam) => pct(p.byFamily.get(fam) ?? 0)),
        pct(Math.max(0, p.wall - inK)),
      ]);
    }
    tf.dispose([
      refLp,
      enc.patches,
      enc.queryIds,
      enc.keyMask,
      seqs.inputIds,
      seqs.targets,
      seqs.mask,
      sEnc.patches,
      sEnc.queryIds,
      sEnc.keyMask,
      sSeqs.inputIds,
      sSeqs.targets,
      sSeqs.mask,
      ...vars,
    ]);
  }
  console.log(
    `\n## Profile: share of wall time per kernel family (default policy; GRPO ` +
      `B=${DEFAULT_GRPO.queriesPerStep}×G=${G}; SFT batch ${sftBatch.length}, rsground CoT targets)\n`,
  );
  console.log(table(rows));
  console.log(
    '\n(kernel times from tf.profile; "outside kernels" is wall time not inside any kernel: op dispatch, autodiff ' +
      'tape, allocation, JS between ops.',
  );
  console.log(' On blas, "matmul" includes the fused linear layers (products with their bias, GELU and residual).');
  console.log(
    " On blas the passes are profiled with the layers composed op by op: training runs each layer's kernels as one " +
      'op each way (lib/native/layers.ts), which tf.profile cannot see into and which spends less outside them.',
  );
  console.log(
    ' On blas, sampling runs in lib/native/decoder.ts after the encoder — native calls, no tfjs kernels — so its ' +
      'decoding shows as "outside kernels".)',
  );
}
