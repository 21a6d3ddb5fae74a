import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Native,
  addonPath,
  blasAvailable,
  blasUnavailableReason,
  loadNative,
  nativeBuildName,
  openblasCoreType,
  openblasCoreTypeHint,
} from '../../lib/native/addon';
import { PROJECT_ROOT, projectRequire } from '../../lib/files';
import { Rng } from '../../lib/rng';
import { sameBits } from '../helpers';

const available = blasAvailable();
if (!available) console.log(`addon tests skipped: ${blasUnavailableReason()}`);
const t = available ? test : test.skip;

function withEnv<T>(vars: Record<string, string | undefined>, f: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  try {
    return f();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

const AVX512 = new Set(['avx2', 'fma', 'avx512f', 'avx512dq', 'avx512bw', 'avx512vl', 'avx512cd']);

test('OpenBLAS is asked for its SkylakeX kernels only on AVX-512 CPUs, and never over the user’s choice', () => {
  withEnv({ OPENBLAS_CORETYPE: undefined }, () => {
    assert.is(openblasCoreType(AVX512), 'SkylakeX');
    assert.is(openblasCoreType(new Set(['avx2', 'fma'])), null);
    const noBw = new Set(AVX512);
    noBw.delete('avx512bw');
    assert.is(openblasCoreType(noBw), null, 'AVX-512F without BW: the SkylakeX kernels would fault');
    assert.is(openblasCoreType(new Set()), null, 'no /proc/cpuinfo: leave OpenBLAS to detect');
  });
  withEnv({ OPENBLAS_CORETYPE: 'Haswell' }, () => assert.is(openblasCoreType(AVX512), null));
});

test('a core type pinned below an AVX-512 CPU is pointed out, and nothing else is', () => {
  const hint = openblasCoreTypeHint(AVX512, { OPENBLAS_CORETYPE: 'Haswell' });
  assert.ok(hint?.startsWith('OPENBLAS_CORETYPE=Haswell is set on a CPU with AVX-512'), String(hint));
  assert.match(hint!, /unset OPENBLAS_CORETYPE/);
  assert.is(openblasCoreTypeHint(AVX512, {}), null, 'not set: the addon asks for SkylakeX itself');
  for (const core of ['SkylakeX', 'skylakex', 'COOPERLAKE', 'SapphireRapids'])
    assert.is(openblasCoreTypeHint(AVX512, { OPENBLAS_CORETYPE: core }), null, core);
  assert.is(openblasCoreTypeHint(new Set(['avx2', 'fma']), { OPENBLAS_CORETYPE: 'Haswell' }), null, 'no AVX-512');
  const noVl = new Set(AVX512);
  noVl.delete('avx512vl');
  assert.is(openblasCoreTypeHint(noVl, { OPENBLAS_CORETYPE: 'Haswell' }), null, 'AVX-512 without VL');
});

test('the AVX2 build loads only where the CPU has AVX2 and FMA; RSG_NATIVE_BUILD chooses or is refused', () => {
  const base = join(PROJECT_ROOT, 'native', 'build', 'Release', 'rsg_blas.node');
  const avx2 = join(PROJECT_ROOT, 'native', 'build', 'Release', 'rsg_blas_avx2.node');
  withEnv({ RSG_NATIVE_BUILD: undefined }, () => {
    assert.is(addonPath(new Set(['sse2'])), base);
    assert.is(addonPath(new Set(['avx2'])), base, 'AVX2 without FMA');
    assert.is(addonPath(new Set(['avx2', 'fma'])), existsSync(avx2) ? avx2 : base);
  });
  withEnv({ RSG_NATIVE_BUILD: 'baseline' }, () => assert.is(addonPath(new Set(['avx2', 'fma'])), base));
  withEnv({ RSG_NATIVE_BUILD: 'avx2' }, () =>
    assert.throws(() => addonPath(new Set(['sse2'])), /RSG_NATIVE_BUILD=avx2: this CPU lacks AVX2 or FMA/),
  );
  withEnv({ RSG_NATIVE_BUILD: 'fast' }, () =>
    assert.throws(() => addonPath(new Set()), /RSG_NATIVE_BUILD=fast: must be auto, baseline or avx2/),
  );
});

function random(rng: Rng, n: number, s = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * s);
}

/** Every attention kernel's outputs for one set of inputs large enough to be split across threads. */
function attentionOutputs(nat: Native): Float32Array[] {
  const rng = new Rng(11);
  const B = 8,
    h = 4,
    dh = 24,
    d = h * dh,
    T = 64,
    S = 48; // every kernel's work is above the addon's threshold for splitting it across threads
  const q = random(rng, B * T * d),
    k = random(rng, B * T * d),
    v = random(rng, B * T * d),
    pos = random(rng, T * d),
    mask = Float32Array.from({ length: B * T }, (_, i) => (i % T > T - 5 ? -1e9 : 0));
  const out = new Float32Array(B * T * 2 * d),
    probs = new Float32Array(B * h * T * T);
  nat.attnForward(q, k, v, mask, pos, out, probs, B, T, T, h, dh, 0.2, true);
  const dout = random(rng, B * T * 2 * d);
  const dq = new Float32Array(q.length),
    dk = new Float32Array(k.length),
    dv = new Float32Array(v.length);
  nat.attnBackward(dout, q, k, v, probs, pos, dq, dk, dv, B, T, T, h, dh, 0.2);
  // the decoder's kernels: cross-attention to [B, h, S, dh] memories, causal self-attention over a cache
  const K = random(rng, B * h * S * dh),
    V = random(rng, B * h * S * dh),
    xmask = new Float32Array(B * S);
  const ctx = new Float32Array(B * T * d),
    meanProbs = new Float32Array(B * T * S);
  nat.crossAttention(q, K, V, xmask, ctx, meanProbs, B, T, h, dh, S, 0.2);
  const qkv = random(rng, B * T * 3 * d);
  const ck = new Float32Array(B * h * T * dh),
    cv = new Float32Array(B * h * T * dh),
    att = new Float32Array(B * T * d);
  nat.selfAttention(qkv, ck, cv, att, B, T, 0, h, dh, T, 0.2);
  // sampling's one-token steps, over enough rows and positions to be split across threads
  const R = 32,
    Tc = 64;
  const k1 = new Float32Array(R * h * Tc * dh),
    v1 = new Float32Array(R * h * Tc * dh),
    one = new Float32Array(R * d);
  const steps: Float32Array[] = [];
  for (let t0 = 0; t0 < Tc; t0++) {
    nat.selfAttention(random(rng, R * 3 * d), k1, v1, one, R, 1, t0, h, dh, Tc, 0.2);
    if (t0 >= Tc - 3) steps.push(Float32Array.from(one));
  }
  return [out, probs, dq, dk, dv, ctx, meanProbs, att, ...steps];
}

/**
 * Independent oracle for one-token self-attention: each row's new key and value join its cache,
 * and its output per head is softmax(q·kₛ·scale) over the cached positions, times their values.
 */
function oneTokenOracle(steps: Float32Array[], R: number, h: number, dh: number, scale: number): Float32Array[] {
  const d = h * dh;
  return steps.map((_, t0) => {
    const out = new Float32Array(R * d);
    for (let r = 0; r < R; r++)
      for (let hh = 0; hh < h; hh++) {
        const q = steps[t0].subarray(r * 3 * d + hh * dh, r * 3 * d + hh * dh + dh);
        const key = (s: number, j: number) => steps[s][r * 3 * d + d + hh * dh + j],
          val = (s: number, j: number) => steps[s][r * 3 * d + 2 * d + hh * dh + j];
        const a = Array.from({ length: t0 + 1 }, (_, s) => q.reduce((acc, x, j) => acc + x * key(s, j), 0) * scale);
        const m = Math.max(...a),
          e = a.map((x) => Math.exp(x - m)),
          z = e.reduce((x, y) => x + y, 0);
        for (let j = 0; j < dh; j++) out[r * d + hh * dh + j] = e.reduce((acc, p, s) => acc + (p / z) * val(s, j), 0);
      }
    return out;
  });
}

t('one-token self-attention over the cache equals an oracle (head widths with and without a vector path)', () => {
  const nat = loadNative()!;
  // 8-wide blocks of cached positions plus a remainder; dh 24 and 32 take the AVX2 path, 20 the plain loops
  for (const dh of [24, 20, 32]) {
    const rng = new Rng(dh),
      R = 5,
      h = 3,
      T = 19,
      d = h * dh;
    const steps = Array.from({ length: T }, () => random(rng, R * 3 * d));
    const K = new Float32Array(R * h * T * dh),
      V = new Float32Array(R * h * T * dh),
      out = new Float32Array(R * d);
    const want = oneTokenOracle(steps, R, h, dh, 0.3);
    steps.forEach((qkv, t0) => {
      nat.selfAttention(qkv, K, V, out, R, 1, t0, h, dh, T, 0.3);
      out.forEach((x, i) =>
        assert.ok(
          Math.abs(x - want[t0][i]) < 1e-5 * (1 + Math.abs(want[t0][i])),
          `dh ${dh} t ${t0} [${i}]: ${x} vs ${want[t0][i]}`,
        ),
      );
    });
  }
});

t('one-token self-attention: all heads of a row together give the bits of head by head', () => {
  const nat = loadNative()!;
  // head widths of the vector path (8 … 32) and one without (20); head counts around the four
  // interleaved; cache lengths across 8-wide blocks and remainders
  for (const dh of [8, 16, 24, 32, 20])
    for (const h of [1, 3, 4, 5, 8]) {
      const rng = new Rng(100 * dh + h),
        R = 3,
        T = 37,
        d = h * dh;
      const caches = () => [new Float32Array(R * h * T * dh), new Float32Array(R * h * T * dh)];
      const [K1, V1] = caches(),
        [K2, V2] = caches();
      const together = new Float32Array(R * d),
        byHead = new Float32Array(R * d);
      for (let t0 = 0; t0 < T; t0++) {
        // scores spread wide enough that some probabilities underflow towards exp's clamp
        const qkv = random(rng, R * 3 * d).map((x) => x * (1 + (t0 % 5)));
        nat.selfAttention(qkv, K1, V1, together, R, 1, t0, h, dh, T, 0.7);
        nat.selfAttention(qkv, K2, V2, byHead, R, 1, t0, h, dh, T, 0.7, true);
        const a = new Uint32Array(together.buffer),
          b = new Uint32Array(byHead.buffer);
        for (let i = 0; i < a.length; i++)
          if (a[i] !== b[i])
            assert.unreachable(`dh ${dh} h ${h} t ${t0} [${i}]: ${together[i]} vs ${byHead[i]} (head by head)`);
      }
    }
});

t(
  "the AVX-512 twins of the exp loops write the AVX2 loops' bits: GELU, linear layers, every attention's softmax",
  () => {
    const nat = loadNative()!;
    if (!nat.setWide(true)) {
      console.log('  AVX-512 twins: not on this CPU or build (nothing to compare)');
      return;
    }
    const rng = new Rng(41);
    // GELU's inputs: every scale, exp's clamps, subnormals, signed zeros, infinities, NaN; odd lengths (tails)
    const edges = [
      0,
      -0,
      Infinity,
      -Infinity,
      NaN,
      1e-40,
      -1e-40,
      1e-30,
      -1e-30,
      50,
      -50,
      52,
      -52,
      100,
      -100,
      1e30,
      -1e30,
    ];
    const x = Float32Array.from({ length: 10_007 }, (_, i) =>
      i < edges.length ? edges[i] : rng.normal() * 10 ** ((i % 7) - 3),
    );
    const dy = random(rng, x.length);
    const rows = 13,
      K = 24,
      N = 37;
    const lx = random(rng, rows * K, 2),
      lw = random(rng, K * N),
      lb = random(rng, N),
      res = random(rng, rows * N),
      ldy = random(rng, rows * N);
    const Tks = [1, 7, 8, 9, 15, 16, 17, 33];
    const run = (wide: boolean): Float32Array[] => {
      assert.is(nat.setWide(wide), wide);
      const gelu = new Float32Array(x.length),
        dgelu = new Float32Array(x.length);
      nat.geluForward(x, gelu, x.length);
      nat.geluBackward(dy, x, dgelu, x.length);
      const act = x.slice(0, rows * N);
      nat.biasAct(act, lb, rows, N, true);
      const y = new Float32Array(rows * N),
        z = new Float32Array(rows * N);
      nat.linearForward(lx, lw, lb, res, y, z, rows, K, N, true);
      const dz = new Float32Array(rows * N),
        dx = new Float32Array(rows * K),
        dw = new Float32Array(K * N),
        db = new Float32Array(N);
      nat.linearBackward(ldy, lx, lw, z, dz, dx, dw, db, rows, K, N, true);
      // attention over key counts across the 8- and 16-lane blocks and their tails, masked keys
      // (finite and −∞) and one row whose keys are all −∞
      const att: Float32Array[] = [];
      const ar = new Rng(42);
      for (const Tk of Tks) {
        const B = 3,
          h = 2,
          dh = 8,
          d = h * dh,
          Tq = 5;
        const q = random(ar, B * Tq * d, 3),
          k = random(ar, B * Tk * d, 3),
          v = random(ar, B * Tk * d);
        const mask = Float32Array.from({ length: B * Tk }, (_, i) =>
          i >= 2 * Tk ? -Infinity : i % 5 === 3 ? -1e9 : i % 7 === 4 ? -Infinity : 0,
        );
        const out = new Float32Array(B * Tq * d),
          probs = new Float32Array(B * h * Tq * Tk);
        nat.attnForward(q, k, v, mask, new Float32Array(0), out, probs, B, Tq, Tk, h, dh, 0.5, false);
        att.push(out, probs);
      }
      return [gelu, dgelu, act, y, z, dz, dx, dw, db, ...att, ...attentionOutputs(nat)];
    };
    try {
      const on = run(true),
        off = run(false);
      const names = ['geluForward', 'geluBackward', 'biasAct', 'linear y', 'linear z', 'linear dz', 'dx', 'dw', 'db'];
      for (const Tk of Tks) names.push(`attention out (Tk ${Tk})`, `attention probabilities (Tk ${Tk})`);
      while (names.length < on.length) names.push(`attention kernels' output ${names.length}`);
      sameBits(on, off, names);
      // the edges were reached: the row with every key at −∞ is NaN, the others are probabilities
      const probs = on[names.indexOf('attention probabilities (Tk 33)')];
      assert.ok(probs.some(Number.isNaN) && probs.some((p) => p > 0 && p < 1));
    } finally {
      nat.setWide(true);
    }
  },
);

t('small products with β = 0 directly give the bits of zeroing C first: heads, odd shapes, zero rows, edges', () => {
  const nat = loadNative()!;
  const rng = new Rng(43);
  // values of every sign and scale, signed zeros and subnormals (flushed by the addon's guard)
  const edge = (n: number) =>
    Float32Array.from({ length: n }, (_, i) =>
      i % 11 === 3 ? 0 : i % 13 === 5 ? -0 : i % 17 === 7 ? 1e-40 : rng.normal() * 10 ** ((i % 5) - 2),
    );
  const shapes: [number, number, number][] = [
    [64, 64, 24],
    [64, 80, 24],
    [64, 24, 64],
    [80, 80, 24],
    [1, 1, 1],
    [7, 13, 20],
    [5, 3, 33],
    [128, 128, 8],
    [4096, 2, 96], // 8192 entries: the position readout's gate
  ];
  const orients = [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ];
  const batch = 3;
  const inputs = shapes.flatMap(([M, N, K]) =>
    orients.map(([tA, tB]) => {
      const A = edge(batch * M * K),
        B = edge(batch * K * N).map((x) => -Math.abs(x));
      // whole rows of op(A) at zero against a negative B: sums of −0 terms
      for (let b = 0; b < batch; b++) for (let k = 0; k < K; k++) A[b * M * K + (tA ? k * M : k)] = b === 1 ? -0 : 0;
      return { M, N, K, tA, tB, A, B };
    }),
  );
  const before = nat.setDirectSmall();
  const run = (direct: boolean): Float32Array[] => {
    assert.is(nat.setDirectSmall(direct), direct);
    const outs = inputs.map(({ M, N, K, tA, tB, A, B }) => {
      const C = new Float32Array(batch * M * N).fill(NaN); // what C held must not matter
      nat.sgemmBatch(A, B, C, batch, M, N, K, tA, tB, M * K, K * N);
      return C;
    });
    return [...outs, ...attentionOutputs(nat)];
  };
  try {
    const direct = run(true),
      zeroed = run(false);
    const names = shapes.flatMap(([M, N, K]) => ['nn', 'nt', 'tn', 'tt'].map((o) => `${M}×${N}×${K} ${o}`));
    while (names.length < direct.length) names.push(`attention kernels' output ${names.length}`);
    sameBits(direct, zeroed, names, ['with β = 0 directly', 'with C zeroed first']);
    // the edge was reached: row 0 of A is zeros against a negative B (a sum of −0 terms), and is +0
    const c = direct[0];
    for (let j = 0; j < 64; j++) assert.ok(Object.is(c[j], 0), `row 0 of 64×64×24 nn [${j}] = ${c[j]}`);
  } finally {
    nat.setDirectSmall(before);
  }
});

t('expLikeJs is Math.exp bit for bit: sampling-sized arguments, the reduction ranges and the edges', () => {
  const nat = loadNative()!;
  const rng = new Rng(31);
  const n = 400_000;
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.float();
    // log-prob differences over temperatures, |x| around ln2/2 and 1.5·ln2 (k = 0, ±1), huge, tiny, near underflow
    xs[i] = [
      (Math.fround(-30 * u) - Math.fround(-10 * rng.float())) / (0.2 + 3 * rng.float()),
      (u - 0.5) * 3,
      (u - 0.5) * 1600,
      (u - 0.5) * 1e-7,
      -700 - 50 * u,
    ][i % 5];
  }
  const edges = [0, -0, 1, -1, 0.5, -0.5, Math.LN2 / 2, -Math.LN2 / 2, 1.5 * Math.LN2, -1.5 * Math.LN2, 2 ** -28];
  edges.push(-(2 ** -28), 1e-300, -709, 709.7, -745, -746, 700, -700, Infinity, -Infinity, NaN, 5e-324);
  xs.set(edges);
  const out = new Float64Array(n);
  nat.expLikeJs(xs, out);
  for (let i = 0; i < n; i++)
    if (!Object.is(out[i], Math.exp(xs[i])))
      assert.unreachable(`exp(${xs[i]}) = ${out[i]}, Math.exp: ${Math.exp(xs[i])}`);
});

/** generate's draw in JavaScript (lib/model/generate.ts) for one row: the oracle of drawTokens */
function jsDraw(lp: Float32Array, V: number, u: number, T: number): number {
  let m = -Infinity;
  for (let j = 0; j < V; j++) m = Math.max(m, lp[j]);
  const w = Float64Array.from({ length: V }, (_, j) => Math.exp((lp[j] - m) / T));
  const fixed = { float: () => u } as unknown as Rng;
  try {
    return Rng.prototype.weighted.call(fixed, w, 0, V);
  } catch {
    return -2;
  }
}

t('drawTokens draws the tokens the JavaScript draw does, row by row, and skips the rows it is told to', () => {
  const nat = loadNative()!;
  const rng = new Rng(32);
  for (const [V, T] of [
    [169, 1],
    [169, 0.3],
    [50, 2.5],
    [7, 1],
    [1, 1],
  ]) {
    const rows = 400;
    // log-softmax-like rows: a few likely tokens, a long tail, some far below the rest
    const lp = new Float32Array(rows * V).map(() => -Math.abs(rng.normal()) * (rng.float() < 0.1 ? 60 : 6));
    lp.fill(NaN, 3 * V, 4 * V); // row 3: NaN weights (no token: −2)
    lp.fill(-1e30, 5 * V, 6 * V); // row 5: all equal
    const u = Float64Array.from({ length: rows }, (_, r) => (r % 9 === 4 ? -1 : rng.float()));
    u[7] = 0;
    u[8] = 1 - 2 ** -53;
    const out = new Int32Array(rows);
    nat.drawTokens(lp, V, u, T, out);
    let drawn = 0;
    for (let r = 0; r < rows; r++) {
      const want = u[r] < 0 ? -1 : jsDraw(lp.subarray(r * V, (r + 1) * V), V, u[r], T);
      assert.is(out[r], want, `V ${V} T ${T} row ${r} (u ${u[r]})`);
      if (want >= 0) drawn++;
    }
    assert.ok(drawn > 300);
    assert.is(out[3], -2);
  }
});

/** Matrix products split by rows (tall C) and by columns (wide C), with transposes and a batch. */
function productOutputs(nat: Native): Float32Array[] {
  const rng = new Rng(13);
  const shapes: [number, number, number, boolean, boolean, number][] = [
    [1000, 97, 96, false, false, 1],
    [1000, 97, 96, true, true, 1],
    [96, 289, 1000, true, false, 1],
    [50, 300, 200, false, true, 3],
  ];
  return shapes.map(([M, N, K, ta, tb, batch]) => {
    const a = random(rng, batch * M * K),
      b = random(rng, batch * K * N),
      c = new Float32Array(batch * M * N);
    nat.sgemmBatch(a, b, c, batch, M, N, K, ta, tb, M * K, K * N);
    return c;
  });
}

/** f's outputs on one thread and on two (the addon's thread count restored after). */
function onOneAndTwoThreads(f: (nat: Native) => Float32Array[]): [Float32Array[], Float32Array[]] {
  const nat = loadNative()!;
  const before = nat.config().threads;
  try {
    nat.setThreads(1);
    const one = f(nat);
    nat.setThreads(2);
    assert.is(nat.config().threads, 2);
    return [one, f(nat)];
  } finally {
    nat.setThreads(before);
  }
}

t('matrix products split across two threads equal one thread’s (rows or columns, transposes, batch)', () => {
  const [one, two] = onOneAndTwoThreads(productOutputs);
  one.forEach((a, i) => {
    let worst = 0;
    a.forEach((x, n) => (worst = Math.max(worst, Math.abs(x - two[i][n]) / (1 + Math.abs(x)))));
    // sums of up to 1000 products of unit normals: a few float roundings apart at most
    assert.ok(worst < 1e-4, `product ${i}: max relative difference ${worst}`);
  });
});

t('the attention kernels give the same bits on one thread and on two', () => {
  const [one, two] = onOneAndTwoThreads(attentionOutputs);
  one.forEach((a, i) => {
    assert.ok(
      a.some((x) => x !== 0),
      `output ${i} is not all zeros`,
    );
    const j = a.findIndex((x, n) => !Object.is(x, two[i][n]));
    assert.is(j, -1, `output ${i} differs at ${j}: ${a[j]} vs ${two[i][j]}`);
  });
});

t('the AdamW update of a parameter split across two threads gives the bits of one thread', () => {
  const rng = new Rng(17);
  const n = 30000; // above the addon's threshold for splitting an element-wise update
  const p = random(rng, n),
    g = random(rng, n),
    m = random(rng, n, 0.1),
    v = Float32Array.from(random(rng, n, 0.1), (x) => x * x);
  const [one, two] = onOneAndTwoThreads((nat) => {
    const out = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    nat.adamw(p, g, m, v, out[0], out[1], out[2], n, 0.9, 0.999, 0.1, 0.002, 1e-8, 1e-3, 0.01, 0.5);
    return out;
  });
  one.forEach((a, i) => {
    assert.ok(
      a.some((x, j) => x !== [p, m, v][i][j]),
      `output ${i} was written`,
    );
    const j = a.findIndex((x, k) => !Object.is(x, two[i][k]));
    assert.is(j, -1, `output ${i} differs at ${j}`);
  });
});

t('AdamW over a list of parameters in place: adamw’s bits for each, on one thread and across two', () => {
  const rng = new Rng(19);
  // a split over all 14 307 elements falls inside the third parameter on two threads
  const sizes = [5000, 7, 9000, 300],
    wds = [0.01, 0, 0.01, 0];
  const start = sizes.map((n) => ({
    p: random(rng, n),
    g: random(rng, n),
    m: random(rng, n, 0.1),
    v: Float32Array.from(random(rng, n, 0.1), (x) => x * x),
  }));
  const consts = [0.9, 0.999, 0.1, 0.002, 1e-8, 1e-3] as const;
  const nat = loadNative()!;
  // the oracle: adamw on each parameter into new arrays (one thread)
  const want = start.flatMap(({ p, g, m, v }, i) => {
    const out = [new Float32Array(p.length), new Float32Array(p.length), new Float32Array(p.length)];
    nat.adamw(p, g, m, v, out[0], out[1], out[2], p.length, ...consts, wds[i], 0.5);
    return out;
  });
  const [one, two] = onOneAndTwoThreads((n) => {
    const cp = start.map((x) => ({ p: x.p.slice(), g: x.g, m: x.m.slice(), v: x.v.slice() }));
    n.adamwInPlace(
      cp.map((x) => x.p),
      cp.map((x) => x.g),
      cp.map((x) => x.m),
      cp.map((x) => x.v),
      Float64Array.from(wds),
      ...consts,
      0.5,
    );
    return cp.flatMap((x) => [x.p, x.m, x.v]);
  });
  for (const got of [one, two])
    got.forEach((a, i) => {
      const j = a.findIndex((x, k) => !Object.is(x, want[i][k]));
      assert.is(j, -1, `array ${i} differs at ${j}`);
    });
  assert.throws(
    () => nat.adamwInPlace([start[0].p], [start[1].g], [start[0].m], [start[0].v], Float64Array.of(0), ...consts, 1),
    /parameter 0's p, g, m, v differ in length/,
  );
  assert.throws(
    () => nat.adamwInPlace([start[0].p], [], [start[0].m], [start[0].v], Float64Array.of(0), ...consts, 1),
    /lists differ in length/,
  );
});

const avx2Path = join(PROJECT_ROOT, 'native', 'build', 'Release', 'rsg_blas_avx2.node');
const basePath = join(PROJECT_ROOT, 'native', 'build', 'Release', 'rsg_blas.node');
(available && existsSync(avx2Path) && addonPath() === avx2Path ? test : test.skip)(
  'the AVX2 build agrees with the portable one (element-wise kernels and attention, to float rounding)',
  () => {
    assert.is(nativeBuildName(), 'AVX2+FMA');
    const fast = projectRequire(avx2Path) as Native,
      base = projectRequire(basePath) as Native;
    const rng = new Rng(5);
    const rows = 64,
      n = 96;
    const x = random(rng, rows * n, 3),
      g = random(rng, n),
      b = random(rng, n),
      dy = random(rng, rows * n);
    const kernels = (nat: Native): Float32Array[] => {
      const ln = new Float32Array(rows * n);
      nat.layerNorm(x, g, b, ln, rows, n, 1e-5);
      const act = Float32Array.from(x);
      nat.biasAct(act, b, rows, n, true);
      const ls = Float32Array.from(x);
      nat.logSoftmax(ls, rows, n);
      const gelu = new Float32Array(x.length),
        dgelu = new Float32Array(x.length);
      nat.geluForward(x, gelu, x.length);
      nat.geluBackward(dy, x, dgelu, x.length);
      const ex = new Float32Array(x.length);
      nat.unary(0, x, ex, x.length);
      return [ln, act, ls, gelu, dgelu, ex, ...attentionOutputs(nat)];
    };
    const a = kernels(base),
      c = kernels(fast);
    a.forEach((u, i) => {
      let worst = 0;
      u.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - c[i][j]) / (1 + Math.abs(v)))));
      assert.ok(worst < 1e-5, `kernel output ${i}: max relative difference ${worst}`);
    });
  },
);

test.run();
