/**
 * The addon's own product kernels (native/src/chains.h: attention heads, linear layers) against
 * OpenBLAS, bit for bit.
 *
 * They run only where OpenBLAS runs its SkylakeX-class kernels, so this file asks for those
 * whatever the environment pins (OpenBLAS reads OPENBLAS_CORETYPE as it loads, and each test file
 * runs in a process of its own): on an AVX-512 CPU the comparison then runs even where
 * OPENBLAS_CORETYPE=Haswell is set for everything else.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { type Native, blasAvailable, loadNative, openblasCoreType } from '../../lib/native/addon';
import { selectBackend } from '../../lib/backend';
import { Policy } from '../../lib/model/policy';
import { grpoLoss, referenceLogProbs, sequenceTensors } from '../../lib/loss';
import { groundingSplit } from '../../lib/data/splits';
import { SCALES } from '../../experiments/scales';
import { Rng } from '../../lib/rng';
import { sameBits } from '../helpers';

delete process.env.OPENBLAS_CORETYPE;
const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim().split(/\s+/) ?? []);
const skylakeX = openblasCoreType(flags, {}) !== null; // the addon asks OpenBLAS for SkylakeX here
const nat = blasAvailable() ? loadNative() : null;
const own = nat !== null && nat.setOwnChains();
const t = own ? test : test.skip;

test('the chain kernels are in use wherever OpenBLAS runs its SkylakeX kernels on AVX-512', () => {
  if (!nat) return console.log('  blas: not built here (nothing to check)');
  if (!skylakeX) return console.log('  no AVX-512 here: OpenBLAS keeps every product');
  // Debian's OpenBLAS 0.3.21 is what these kernels reproduce; the load-time check would turn them
  // off on an OpenBLAS that sums differently, which this asserts has not happened here
  assert.ok(own, `AVX-512 CPU, OpenBLAS ${nat.config().config.trim()}: the load-time check turned the kernels off`);
  assert.is(nat.setOwnChains(false), false);
  assert.is(nat.setOwnChains(), false);
  assert.is(nat.setOwnChains(true), true);
});

function normals(rng: Rng, n: number, s = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * s);
}

type Case = {
  what: string;
  B: number;
  Tq: number;
  Tk: number;
  h: number;
  dh: number;
  causal: boolean;
  pos: boolean;
  packed: boolean;
};

/** One attention forward and backward: out, probs, dq, dk, dv (fresh inputs from the case's seed). */
function attention(n: Native, c: Case, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const d = c.h * c.dh,
    W = c.pos ? 2 * d : d,
    ld = c.packed ? 3 * d : d;
  // packed: q, k, v are the columns of one [B, T, 3d] (self-attention), as the fused layer passes them
  const qkv = normals(rng, c.B * c.Tq * 3 * d);
  const q = c.packed ? qkv : normals(rng, c.B * c.Tq * d),
    k = c.packed ? qkv.subarray(d) : normals(rng, c.B * c.Tk * d),
    v = c.packed ? qkv.subarray(2 * d) : normals(rng, c.B * c.Tk * d, 2);
  // a query row of zeros (scores exactly 0) and, without a mask, nothing else special
  q.fill(0, 0, c.dh);
  const mask = c.pos
    ? Float32Array.from({ length: c.B * c.Tk }, (_, i) => ((i % c.Tk) % 5 === 3 ? -1e9 : 0))
    : new Float32Array(0);
  const pos = c.pos ? normals(rng, c.Tk * d) : new Float32Array(0);
  const out = new Float32Array(c.B * c.Tq * W),
    probs = new Float32Array(c.B * c.h * c.Tq * c.Tk);
  n.attnForward(q, k, v, mask, pos, out, probs, c.B, c.Tq, c.Tk, c.h, c.dh, 1 / Math.sqrt(c.dh), c.causal, ld, ld, ld);
  const dout = normals(rng, out.length);
  const dqkv = new Float32Array(qkv.length);
  const dq = c.packed ? dqkv : new Float32Array(q.length),
    dk = c.packed ? dqkv.subarray(d) : new Float32Array(k.length),
    dv = c.packed ? dqkv.subarray(2 * d) : new Float32Array(v.length);
  n.attnBackward(
    dout,
    q,
    k,
    v,
    probs,
    pos,
    dq,
    dk,
    dv,
    c.B,
    c.Tq,
    c.Tk,
    c.h,
    c.dh,
    1 / Math.sqrt(c.dh),
    ld,
    ld,
    ld,
    c.causal,
  );
  return c.packed ? [out, probs, dqkv] : [out, probs, dq, dk, dv];
}

// The policy's three attentions at the default width, then other lengths (odd ones: every kernel's
// tails) and head widths: the last columns of P·V summed by lanes in eights (8, 24) or fours (20),
// all chained (16, 28, 32, 48), or lane sums left to OpenBLAS (18); and long rows.
const cases: Case[] = [
  { what: 'decoder self-attention', B: 6, Tq: 64, Tk: 64, h: 4, dh: 24, causal: true, pos: false, packed: true },
  {
    what: 'cross-attention with the readout',
    B: 2,
    Tq: 512,
    Tk: 80,
    h: 4,
    dh: 24,
    causal: false,
    pos: true,
    packed: false,
  },
  { what: 'encoder self-attention', B: 2, Tq: 80, Tk: 80, h: 4, dh: 24, causal: false, pos: false, packed: true },
  ...[1, 5, 17, 33, 100].map((T) => ({
    what: `causal T ${T}`,
    B: 2,
    Tq: T,
    Tk: T,
    h: 2,
    dh: 24,
    causal: true,
    pos: false,
    packed: true,
  })),
  ...[8, 16, 18, 20, 28, 32, 48].flatMap((dh) => [
    { what: `causal dh ${dh}`, B: 2, Tq: 40, Tk: 40, h: 2, dh, causal: true, pos: false, packed: true },
    { what: `cross dh ${dh}`, B: 2, Tq: 37, Tk: 19, h: 2, dh, causal: false, pos: true, packed: false },
  ]),
  { what: 'long keys', B: 1, Tq: 9, Tk: 300, h: 2, dh: 24, causal: false, pos: false, packed: false },
  // 256: past OpenBLAS's small kernels, on its general path within one block; 300: past that block
  ...[256, 300].map((T) => ({
    what: `causal T ${T}`,
    B: 1,
    Tq: T,
    Tk: T,
    h: 1,
    dh: 24,
    causal: true,
    pos: false,
    packed: true,
  })),
];

t(
  "attention with the chain kernels writes OpenBLAS's bits (forward and backward, causal or not, one or two threads)",
  () => {
    const n = nat!;
    const before = n.config().threads;
    try {
      cases.forEach((c, i) => {
        n.setOwnChains(false);
        n.setThreads(1);
        const ref = attention(n, c, 100 + i);
        n.setOwnChains(true);
        const mine = attention(n, c, 100 + i);
        n.setThreads(2);
        const mine2 = attention(n, c, 100 + i);
        const names = (c.packed ? ['out', 'probs', 'dqkv'] : ['out', 'probs', 'dq', 'dk', 'dv']).map(
          (x) => `${c.what}: ${x}`,
        );
        for (const a of ref)
          assert.ok(
            a.some((x) => x !== 0),
            `${names[ref.indexOf(a)]} is not all zeros`,
          );
        sameBits(mine, ref, names, ['with the chain kernels', 'on OpenBLAS']);
        sameBits(mine2, ref, names, ['with the chain kernels on two threads', 'on OpenBLAS']);
      });
    } finally {
      n.setThreads(before);
      n.setOwnChains(true);
    }
  },
);

/** f's outputs with the chain kernels and on OpenBLAS, at one thread and at two (settings restored). */
function bothWays(n: Native, f: () => Float32Array[]): { mine: Float32Array[]; ref: Float32Array[] }[] {
  const before = n.config().threads;
  try {
    return [1, 2].map((threads) => {
      n.setThreads(threads);
      n.setOwnChains(false);
      const ref = f();
      n.setOwnChains(true);
      return { mine: f(), ref };
    });
  } finally {
    n.setThreads(before);
    n.setOwnChains(true);
  }
}

t(
  "matrix products with the chain kernels write OpenBLAS's bits (a linear layer's shapes, small and general paths)",
  () => {
    const n = nat!;
    const rng = new Rng(7);
    // rows × columns × K: the policy's linear layers (training and one-token steps), the head (169
    // columns), K at and past OpenBLAS's one-block limits (320 on its Cooperlake kernels, 448 on
    // SkylakeX's), K of several blocks (a weight's gradient: K = 4096 rows; 1000 and 897 end in two
    // near-halves, on a ragged C), shapes under its small-kernel limit with lane sums (24, 20 columns)
    // and without, one with K past 320 (its small kernels do not cut K); two threads split rows or
    // columns into halves of each
    const shapes = [
      [4096, 288, 96],
      [4096, 96, 288],
      [640, 96, 192],
      [64, 288, 96],
      [37, 169, 96],
      [64, 96, 320],
      [64, 96, 321],
      [64, 96, 448],
      [64, 96, 449],
      [96, 288, 4096],
      [288, 96, 1000],
      [100, 50, 897],
      [40, 40, 400],
      [64, 24, 64],
      [50, 20, 80],
      [7, 5, 3],
    ];
    const orients = [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ];
    const inputs = shapes.flatMap(([M, N, K]) =>
      orients.map(([tA, tB]) => ({ M, N, K, tA, tB, A: normals(rng, 2 * M * K), B: normals(rng, 2 * K * N) })),
    );
    const run = () =>
      inputs.map(({ M, N, K, tA, tB, A, B }) => {
        const C = new Float32Array(2 * M * N).fill(NaN); // what C held must not matter
        n.sgemmBatch(A, B, C, 2, M, N, K, tA, tB, M * K, K * N);
        return C;
      });
    const names = shapes.flatMap(([M, N, K]) => ['nn', 'nt', 'tn', 'tt'].map((o) => `${M}×${N}×${K} ${o}`));
    for (const [i, { mine, ref }] of bothWays(n, run).entries())
      sameBits(mine, ref, names, [`with the chain kernels (${i + 1} thread)`, 'on OpenBLAS']);
  },
);

t("a GRPO step's sampling, reference pass, loss and gradients: the same bits with the chain kernels", async () => {
  const { ops } = await selectBackend('blas');
  const queries = groundingSplit('train', { count: 2 });
  const G = 4;
  const step = (): Float32Array[] => {
    const policy = Policy.create(SCALES.default.arch, 3, ops);
    const gen = policy.generate(queries, new Rng(5), { group: G, temperature: 1, maxLen: 64, greedy: false });
    const enc = policy.encoderInput(queries);
    const seqs = sequenceTensors(gen.ids, policy.tok.bosId, policy.tok.padId);
    const batch = { enc, group: G, ...seqs };
    const refLp = referenceLogProbs(policy, batch);
    const adv = Float32Array.from(gen.ids, (_, i) => Math.sin(i + 1));
    const w = new Float32Array(gen.ids.length).fill(1);
    const g = tf.variableGrads(
      () =>
        grpoLoss(policy, batch, { advantages: adv, weights: w, refLogProbs: refLp, epsilon: 0.2, betaKL: 0.04 }).loss,
      [...policy.trainable.values()],
    );
    const out = [
      Float32Array.from(gen.ids.flat()),
      refLp.dataSync() as Float32Array,
      g.value.dataSync() as Float32Array,
      ...Object.values(g.grads).map((x) => x.dataSync() as Float32Array),
    ].map((x) => Float32Array.from(x));
    tf.dispose([g.value, ...Object.values(g.grads), refLp, enc.patches, enc.queryIds, enc.keyMask]);
    tf.dispose([seqs.inputIds, seqs.targets, seqs.mask]);
    policy.dispose();
    return out;
  };
  for (const [i, { mine, ref }] of bothWays(nat!, step).entries()) {
    const names = mine.map((_, j) => ['sampled tokens', 'reference log-probs', 'loss'][j] ?? `gradient ${j - 3}`);
    assert.ok(ref[0].length > 8, 'tokens were sampled');
    sameBits(mine, ref, names, [`with the chain kernels (${i + 1} thread)`, 'on OpenBLAS']);
  }
});

test.run();
