/**
 * The optional native addon (`native/`, node-addon-api over OpenBLAS, built by
 * `npm run build:native`): loading it, and saying why it is unavailable when it is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, projectRequire } from '../files';

/** What native/src/blas.cc exports. Arrays are views on the wasm heap (zero copy). */
export type Native = {
  sgemmBatch(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batch: number,
    m: number,
    n: number,
    k: number,
    ta: boolean,
    tb: boolean,
    sa: number,
    sb: number,
  ): void;
  setThreads(n: number): void;
  config(): { threads: number; config: string };
  reduce(x: Float32Array, out: Float32Array, outer: number, r: number, inner: number, scale: number): void;
  copyBlocks(
    src: Float32Array,
    srcOff: number,
    srcStride: number,
    dst: Float32Array,
    dstOff: number,
    dstStride: number,
    count: number,
    len: number,
  ): void;
  binary(
    op: number,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    shape: number[],
    sa: number[],
    sb: number[],
  ): void;
  unary(op: number, x: Float32Array, out: Float32Array, n: number): void;
  layerNorm(
    x: Float32Array,
    g: Float32Array,
    b: Float32Array,
    out: Float32Array,
    rows: number,
    d: number,
    eps: number,
  ): void;
  biasAct(y: Float32Array, b: Float32Array, rows: number, n: number, gelu: boolean): void;
  logSoftmax(x: Float32Array, rows: number, n: number): void;
  selfAttention(
    qkv: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    N: number,
    L: number,
    t0: number,
    h: number,
    dh: number,
    T: number,
    scale: number,
    /** one-token steps head by head, not all heads of a row together (the same bits; for tests) */
    headByHead?: boolean,
  ): void;
  crossAttention(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    mask: Float32Array,
    out: Float32Array,
    meanProbs: Float32Array,
    B: number,
    M: number,
    h: number,
    dh: number,
    S: number,
    scale: number,
  ): void;
  lnForward(
    x: Float32Array,
    g: Float32Array,
    b: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    d: number,
    eps: number,
  ): void;
  /** layer norm's gradients; dx = res + LN's dx when res [rows, d] is given (the residual's gradient) */
  lnBackward(
    dy: Float32Array,
    x: Float32Array,
    g: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array,
    dg: Float32Array,
    db: Float32Array,
    rows: number,
    d: number,
    res?: Float32Array,
  ): void;
  /** z = x·w + b (x [rows, K], w [K, N]); y = res + gelu(z) (z kept) or res + z (z empty); res may be empty */
  linearForward(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    res: Float32Array,
    y: Float32Array,
    z: Float32Array,
    rows: number,
    K: number,
    N: number,
    gelu: boolean,
  ): void;
  /** gradients of linearForward; dz is scratch [rows, N] when gelu (else empty) */
  linearBackward(
    dy: Float32Array,
    x: Float32Array,
    w: Float32Array,
    z: Float32Array,
    dz: Float32Array,
    dx: Float32Array,
    dw: Float32Array,
    db: Float32Array,
    rows: number,
    K: number,
    N: number,
    gelu: boolean,
  ): void;
  /** y = (ctx·w + b) + [whereₓ·gate₀ | whereᵧ·gate₁] per row, both = [ctx | where] [rows, 2d], gate [rows, 2] */
  readoutForward(
    both: Float32Array,
    gate: Float32Array,
    w: Float32Array,
    b: Float32Array,
    y: Float32Array,
    rows: number,
    d: number,
  ): void;
  /** gradients of readoutForward */
  readoutBackward(
    dy: Float32Array,
    both: Float32Array,
    gate: Float32Array,
    w: Float32Array,
    dboth: Float32Array,
    dgate: Float32Array,
    dw: Float32Array,
    db: Float32Array,
    rows: number,
    d: number,
  ): void;
  geluForward(x: Float32Array, y: Float32Array, n: number): void;
  geluBackward(dy: Float32Array, x: Float32Array, dx: Float32Array, n: number): void;
  adamw(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    pOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    n: number,
    b1: number,
    b2: number,
    c1: number,
    c2: number,
    eps: number,
    lr: number,
    wd: number,
    scale: number,
  ): void;
  /**
   * adamw for a list of parameters in one call, written over ps, ms and vs (element i of each
   * list is one parameter; wds[i] its decay).
   */
  adamwInPlace(
    ps: Float32Array[],
    gs: Float32Array[],
    ms: Float32Array[],
    vs: Float32Array[],
    wds: Float64Array,
    b1: number,
    b2: number,
    c1: number,
    c2: number,
    eps: number,
    lr: number,
    scale: number,
  ): void;
  sumSquares(x: Float32Array): number;
  attnForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    mask: Float32Array,
    pos: Float32Array,
    out: Float32Array,
    probs: Float32Array,
    B: number,
    Tq: number,
    Tk: number,
    h: number,
    dh: number,
    scale: number,
    causal: boolean,
    ldq?: number,
    ldk?: number,
    ldv?: number,
  ): void;
  attnBackward(
    dout: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    probs: Float32Array,
    pos: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    B: number,
    Tq: number,
    Tk: number,
    h: number,
    dh: number,
    scale: number,
    ldq?: number,
    ldk?: number,
    ldv?: number,
    causal?: boolean,
  ): void;
  /**
   * One decoding step of the whole decoder (lib/native/decoder.ts `FastDecoder.step`): weights in
   * FastDecoder's order, dims [layers, d, h, V, S, G, Tmax, t0, L, readout, ffn, logSoftmax, eps].
   */
  decoderStep(
    w: Float32Array[],
    dims: Float64Array,
    ids: Int32Array,
    live: Int32Array,
    xk: Float32Array[],
    xv: Float32Array[],
    keyMask: Float32Array,
    pos: Float32Array,
    ck: Float32Array[],
    cv: Float32Array[],
    logits: Float32Array,
    lens?: Int32Array,
  ): void;
  /** log-softmax of each row of logits [rows, V] at its target: lp [rows]; lse [rows] kept for the gradient */
  tokenLogProbs(
    logits: Float32Array,
    targets: Int32Array,
    lp: Float32Array,
    lse: Float32Array,
    rows: number,
    V: number,
  ): void;
  /** dlogits [rows, V] = dy[r]·(1[j = target] − softmax) */
  tokenLogProbsGrad(
    dy: Float32Array,
    logits: Float32Array,
    targets: Int32Array,
    lse: Float32Array,
    dlogits: Float32Array,
    rows: number,
    V: number,
  ): void;
  /** out [rows, d] = rows ids of table [V, d] */
  embed(table: Float32Array, ids: Int32Array, out: Float32Array, rows: number, d: number): void;
  /** dtable [V, d] = Σ over rows r with ids[r] = v of dy[r], summed in row order */
  embedGrad(dy: Float32Array, ids: Int32Array, dtable: Float32Array, rows: number, V: number, d: number): void;
  /** out[i] = Math.exp(xs[i]), bit for bit */
  expLikeJs(xs: Float64Array, out: Float64Array): void;
  /** generate's token draw for each row of logProbs [rows, V] with u[r] ≥ 0 (see Decoder.draw) */
  drawTokens(logProbs: Float32Array, V: number, u: Float64Array, temperature: number, out: Int32Array): void;
  /**
   * Run the element-wise exp loops (softmax, GELU and its gradient) on their AVX-512 twins, the
   * same bits (on by default where the CPU has AVX-512F; off for tests); returns whether they run.
   */
  setWide(on: boolean): boolean;
  /**
   * Small products (an attention head's) with β = 0 handed to OpenBLAS directly, the same bits as
   * zeroing C first (by default on OpenBLAS's SkylakeX-class kernels, whose small-matrix kernels
   * take it without a pass); without an argument, reads the setting. Returns the setting in effect.
   */
  setDirectSmall(on?: boolean): boolean;
  /**
   * Matrix products (attention heads', linear layers') on the addon's own AVX-512 kernels, which
   * write OpenBLAS's bits, where they can (by default: AVX-512, OpenBLAS's SkylakeX-class kernels
   * and the load-time check against them passed), or all on OpenBLAS; without an argument, reads
   * the setting. Returns the setting in effect.
   */
  setOwnChains(on?: boolean): boolean;
  version: number;
};

/** The addon's interface version this code expects (native/src/blas.cc exports it). */
const NATIVE_VERSION = 21;

const BUILD = join(PROJECT_ROOT, 'native', 'build', 'Release');
/** The portable build (x86-64 baseline, or whatever the compiler targets elsewhere). */
const ADDON = join(BUILD, 'rsg_blas.node');
/** The same sources compiled with AVX2 + FMA (x86-64 only): 2–4× faster element-wise kernels. */
const ADDON_AVX2 = join(BUILD, 'rsg_blas_avx2.node');

/** The CPU's feature flags (Linux), or an empty set where /proc/cpuinfo does not say. */
function cpuFlags(): Set<string> {
  try {
    const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set(line ? line[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/**
 * Which build of the addon this process loads: the AVX2 + FMA one when the CPU has both and it
 * was built, unless RSG_NATIVE_BUILD=baseline asks for the portable one (tests compare the two).
 */
export function addonPath(flags = cpuFlags()): string {
  const want = process.env.RSG_NATIVE_BUILD ?? 'auto';
  if (want !== 'auto' && want !== 'baseline' && want !== 'avx2')
    throw new Error(`RSG_NATIVE_BUILD=${want}: must be auto, baseline or avx2`);
  const cpuHasAvx2 = flags.has('avx2') && flags.has('fma');
  if (want === 'avx2' && !cpuHasAvx2) throw new Error('RSG_NATIVE_BUILD=avx2: this CPU lacks AVX2 or FMA');
  if (want === 'baseline' || !cpuHasAvx2 || !existsSync(ADDON_AVX2)) return ADDON;
  return ADDON_AVX2;
}

/**
 * OpenBLAS picks its kernels from the CPU at load time, and 0.3.21 (Debian 12's) takes AVX-512
 * AMD processors (Zen 4 and later) for Haswell: its sgemm then runs at about half the speed the
 * SkylakeX kernels reach on them (measured: 106 vs 196 GFLOP/s at 1024³, one thread). On any CPU
 * with the AVX-512 subsets those kernels use, and unless the user chose a core with
 * OPENBLAS_CORETYPE, the addon asks for SkylakeX before the library loads. Intel parts with AVX-512
 * are detected as SkylakeX or a superset whose sgemm is the same.
 */
export function openblasCoreType(flags = cpuFlags(), env = process.env): string | null {
  if (env.OPENBLAS_CORETYPE) return null;
  return ['avx512f', 'avx512dq', 'avx512bw', 'avx512vl', 'avx512cd'].every((f) => flags.has(f)) ? 'SkylakeX' : null;
}

/** OpenBLAS's core types whose sgemm uses AVX-512 (its SkylakeX kernels or their successors). */
const AVX512_CORES = ['skylakex', 'cooperlake', 'sapphirerapids'];

/**
 * One line for the user when OPENBLAS_CORETYPE pins OpenBLAS below what this CPU runs: set to a
 * core without AVX-512 on a CPU with the subsets SkylakeX's kernels use. Measured on this
 * project's AMD EPYC, one thread: an SFT step's forward+backward 112 → 68 ms and a GRPO step's
 * 170 → 115 ms with SkylakeX's kernels instead of Haswell's; the one-seed suite's training, 75.5 →
 * 62.5 min (1.21×). Null when nothing is to be said.
 */
export function openblasCoreTypeHint(flags = cpuFlags(), env = process.env): string | null {
  const set = env.OPENBLAS_CORETYPE;
  if (!set || AVX512_CORES.includes(set.toLowerCase()) || !openblasCoreType(flags, {})) return null;
  return (
    `OPENBLAS_CORETYPE=${set} is set on a CPU with AVX-512: OpenBLAS's SkylakeX kernels ran a training ` +
    "step's forward+backward about 1.5× faster here (unset OPENBLAS_CORETYPE and the blas backend asks for " +
    `them; results then differ from ${set}'s in the last bits)`
  );
}

let native: Native | null | undefined;

/** The addon, or null when it is not built or cannot load. */
export function loadNative(): Native | null {
  if (native !== undefined) return native;
  try {
    const flags = cpuFlags();
    const path = addonPath(flags);
    const core = openblasCoreType(flags);
    if (core && existsSync(path)) process.env.OPENBLAS_CORETYPE = core; // read by libopenblas as it loads
    native = existsSync(path) ? (projectRequire(path) as Native) : null;
    if (native && native.version !== NATIVE_VERSION) native = null; // built from older sources
    if (native) nativeBuild = path === ADDON_AVX2 ? 'AVX2+FMA' : 'baseline';
  } catch (e) {
    if ((e as Error).message.startsWith('RSG_NATIVE_BUILD')) throw e;
    native = null;
  }
  return native;
}

let nativeBuild = '';

/** Which build loaded: 'AVX2+FMA' or 'baseline' ('' before loadNative succeeds). */
export function nativeBuildName(): string {
  return nativeBuild;
}

export function blasAvailable(): boolean {
  return loadNative() !== null;
}

/** Why the addon is unavailable, for the one log line. */
export function blasUnavailableReason(): string {
  if (!existsSync(ADDON)) return `${ADDON} is not built (run \`npm run build:native\`; needs g++ and libopenblas-dev)`;
  try {
    const n = projectRequire(ADDON) as Partial<Native>;
    if (n.version !== NATIVE_VERSION) {
      return (
        `${ADDON} was built from older sources (interface ${n.version ?? 1}, expected ${NATIVE_VERSION}); run ` +
        `\`npm run build:native\``
      );
    }
    return 'unknown';
  } catch (e) {
    return `cannot load ${ADDON}: ${(e as Error).message.split('\n')[0]}`;
  }
}

export function blasDescription(n: Native): string {
  const c = n.config();
  const threads = `${c.threads} thread${c.threads === 1 ? '' : 's'}`;
  return `wasm + OpenBLAS sgemm (${c.config.trim()}, ${threads}; ${nativeBuild} kernels)`;
}
