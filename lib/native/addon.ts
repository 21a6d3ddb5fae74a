/**
 * The optional native addon (`native/`, node-addon-api over OpenBLAS, built by
 * `npm run build:native`): loading it, and saying why it is unavailable when it is.
 */
import { existsSync } from 'node:fs';
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
  ): void;
  version: number;
};

/** The addon's interface version this code expects (native/src/blas.cc exports it). */
const NATIVE_VERSION = 7;

const ADDON = join(PROJECT_ROOT, 'native', 'build', 'Release', 'rsg_blas.node');
let native: Native | null | undefined;

/** The addon, or null when it is not built or cannot load. */
export function loadNative(): Native | null {
  if (native !== undefined) return native;
  try {
    native = existsSync(ADDON) ? (projectRequire(ADDON) as Native) : null;
    if (native && native.version !== NATIVE_VERSION) native = null; // built from older sources
  } catch {
    native = null;
  }
  return native;
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
  return `wasm + OpenBLAS sgemm (${c.config.trim()}, ${c.threads} thread${c.threads === 1 ? '' : 's'})`;
}
