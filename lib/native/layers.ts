/**
 * A whole transformer layer as one tfjs op each way on the blas backend (`Ops.layer`).
 *
 * The forward pass runs the kernels lib/model/network.ts composes a layer from — layer norms,
 * linear layers with their GELU and residual, attention, the position readout, the sigmoid of its
 * gate and the residual Add — in the same order on the same inputs, calling the registered kernel
 * functions directly instead of through the engine. The backward pass runs their gradient kernels
 * in the order tfjs's tape would, and adds the two gradients of every tensor with two consumers
 * with the same Add kernel (two terms: the order of the sum cannot change a bit). So a layer's
 * values and gradients are the composed layer's bit for bit (test/native/layers.test.ts), without
 * what composing costs per layer and direction: ~20 dispatches, tape nodes and reshapes, and a
 * saved-tensor clone per input of every op.
 *
 * Tensors here are the backend's TensorInfos: a reshape is a new shape on the same data, and what
 * is made and not returned is freed at once. What the backward pass needs is handed to tfjs's
 * `save` (so the tape owns it and it is freed with the tape, or at once when no gradient is taken).
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerContext, LayerWeights, Pair } from '../model/ops';

type Info = tf.TensorInfo;
type Backend = { disposeData(dataId: unknown): boolean };

/** A kernel of the wasm backend (with the blas kernels installed) run on TensorInfos, no engine. */
function run(name: string, inputs: Record<string, Info | undefined>, attrs: object = {}): Info[] {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`Ops.layer: kernel ${name} is not registered (the blas backend installs it)`);
  const ins: Record<string, Info> = {};
  for (const [k, v] of Object.entries(inputs)) if (v) ins[k] = v;
  const out = kernel.kernelFunc({ inputs: ins, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap });
  return Array.isArray(out) ? out : [out];
}

/** The same data seen with another shape (what Reshape does, without a dispatch). */
const as = (t: Info, shape: number[]): Info => ({ dataId: t.dataId, shape, dtype: t.dtype });

function free(...ts: (Info | undefined)[]): void {
  const b = tf.backend() as unknown as Backend;
  for (const t of ts) if (t) b.disposeData(t.dataId);
}

/** The weights in the op's input order (after x): ln1, qkv, attn_out, [lnx, xq, x_gate, x_out], ln2, fc1, fc2. */
function flatWeights(w: LayerWeights): tf.Tensor[] {
  const pairs: Pair[] = [w.ln1, w.qkv, w.attnOut];
  if (w.cross) pairs.push(w.cross.ln, w.cross.q, ...(w.cross.gate ? [w.cross.gate] : []), w.cross.out);
  pairs.push(w.ln2, w.fc1, w.fc2);
  return pairs.flatMap((p) => [p[0], p[1]]);
}

/** What the forward pass keeps for the backward pass, in `save` order. */
const ACTS = [
  'm1',
  'r1',
  'xn1',
  'qkv',
  'p1',
  'att',
  'x1',
  'm2',
  'r2',
  'xn2',
  'q',
  'both',
  'p2',
  'gate',
  'x2',
  'm3',
  'r3',
  'xn3',
  'h',
  'z',
] as const;
type Acts = Partial<Record<(typeof ACTS)[number], Info>>;

/** Weights as [g, b] / [w, b] pairs again, from the flat list. */
type W = {
  ln1: Info[];
  qkv: Info[];
  attnOut: Info[];
  lnx?: Info[];
  xq?: Info[];
  gate?: Info[];
  out?: Info[];
  ln2: Info[];
  fc1: Info[];
  fc2: Info[];
};
function unflatten(ws: Info[], cross: boolean, gate: boolean): W {
  let i = 0;
  const next = () => [ws[i++], ws[i++]];
  const w: W = { ln1: next(), qkv: next(), attnOut: next() } as W;
  if (cross) {
    w.lnx = next();
    w.xq = next();
    if (gate) w.gate = next();
    w.out = next();
  }
  w.ln2 = next();
  w.fc1 = next();
  w.fc2 = next();
  return w;
}

type Cross = { k: Info; v: Info; mask: Info; pos: Info | null; G: number };

function forward(
  x: Info,
  w: W,
  heads: number,
  causal: boolean,
  mask: Info | null,
  cross: Cross | null,
  eps: number,
): [Info, Acts] {
  const [B, T, d] = x.shape,
    R = B * T;
  const X = as(x, [R, d]);
  const a: Acts = {};
  // self-attention: x + attn_out(SelfAttn(qkv(LN1 x)))
  [a.xn1, a.m1, a.r1] = run('RsgLayerNorm', { x, g: w.ln1[0], b: w.ln1[1] }, { eps });
  [a.qkv] = run('RsgLinear', { x: as(a.xn1, [R, d]), w: w.qkv[0], b: w.qkv[1] }, { gelu: false });
  [a.att, a.p1] = run('RsgAttention', { qkv: as(a.qkv, [B, T, 3 * d]), mask: mask ?? undefined }, { heads, causal });
  [a.x1] = run('RsgLinear', { x: as(a.att, [R, d]), w: w.attnOut[0], b: w.attnOut[1], res: X }, { gelu: false });
  let mid = a.x1;
  if (cross) {
    // cross-attention: x1 + CrossAttn(LNx x1), the G rows of a query folded into its query axis
    const Bq = B / cross.G;
    [a.xn2, a.m2, a.r2] = run('RsgLayerNorm', { x: as(a.x1, [B, T, d]), g: w.lnx![0], b: w.lnx![1] }, { eps });
    [a.q] = run('RsgLinear', { x: as(a.xn2, [R, d]), w: w.xq![0], b: w.xq![1] }, { gelu: false });
    const att = { q: as(a.q, [Bq, cross.G * T, d]), k: cross.k, v: cross.v, mask: cross.mask };
    [a.both, a.p2] = run('RsgAttention', { ...att, pos: cross.pos ?? undefined }, { heads, causal: false });
    let c: Info;
    if (cross.pos) {
      const [logit] = run('RsgLinear', { x: as(a.xn2, [R, d]), w: w.gate![0], b: w.gate![1] }, { gelu: false });
      [a.gate] = run('Sigmoid', { x: as(logit, [B, T, 2]) });
      free(logit);
      [c] = run('RsgReadout', { both: as(a.both, [R, 2 * d]), gate: as(a.gate, [R, 2]), w: w.out![0], b: w.out![1] });
    } else [c] = run('RsgLinear', { x: as(a.both, [R, d]), w: w.out![0], b: w.out![1] }, { gelu: false });
    [a.x2] = run('Add', { a: as(a.x1, [B, T, d]), b: as(c, [B, T, d]) });
    free(c);
    mid = a.x2;
  }
  // MLP: mid + fc2(GELU(fc1(LN2 mid)))
  [a.xn3, a.m3, a.r3] = run('RsgLayerNorm', { x: as(mid, [B, T, d]), g: w.ln2[0], b: w.ln2[1] }, { eps });
  [a.h, a.z] = run('RsgLinear', { x: as(a.xn3, [R, d]), w: w.fc1[0], b: w.fc1[1] }, { gelu: true });
  const [y] = run('RsgLinear', { x: a.h, w: w.fc2[0], b: w.fc2[1], res: as(mid, [R, d]) }, { gelu: false });
  return [as(y, [B, T, d]), a];
}

/** The input gradients in the op's input order: dx, the weights' (flatWeights order), then dk, dv. */
function backward(dy: Info, x: Info, w: W, a: Acts, heads: number, causal: boolean, cross: Cross | null): Info[] {
  const [B, T, d] = x.shape,
    R = B * T;
  const DY = as(dy, [R, d]);
  const mid = cross ? a.x2! : a.x1!;
  // MLP; the residual's gradient is dy
  const [dh, dW2, db2] = run('RsgLinearGrad', { dy: DY, x: a.h, w: w.fc2[0] });
  const [dxn3, dW1, db1] = run('RsgLinearGrad', { dy: dh, x: as(a.xn3!, [R, d]), w: w.fc1[0], z: a.z });
  // the layer norm's gradient with the residual's added (the Add's bits, in the same pass)
  const [dmidLn, dg2, dbeta2] = run('RsgLayerNormGrad', {
    dy: as(dxn3, [B, T, d]),
    x: as(mid, [B, T, d]),
    g: w.ln2[0],
    mean: a.m3,
    rstd: a.r3,
    res: DY,
  });
  const dmid = as(dmidLn, [R, d]);
  free(dh, dxn3);
  let dx1 = dmid;
  let crossGrads: Info[] = [];
  let dkv: Info[] = [];
  if (cross) {
    // x2 = x1 + c: c's gradient is x2's
    const Bq = B / cross.G;
    const dW: Info[] = [];
    let dboth: Info;
    let dxn2: Info;
    let dxn2Gate: Info | undefined;
    if (cross.pos) {
      const [db, dgate, dWo, dbo] = run('RsgReadoutGrad', {
        dy: dmid,
        both: as(a.both!, [R, 2 * d]),
        gate: as(a.gate!, [R, 2]),
        w: w.out![0],
      });
      dboth = db;
      // the sigmoid's gradient as tfjs writes it: dy · (y · (1 − y))
      const one = tf.scalar(1);
      const [oneMinus] = run('Sub', { a: one, b: a.gate });
      const [slope] = run('Multiply', { a: a.gate, b: oneMinus });
      const [dlogit] = run('Multiply', { a: as(dgate, [B, T, 2]), b: slope });
      one.dispose();
      free(oneMinus, slope, dgate);
      const [dxg, dWg, dbg] = run('RsgLinearGrad', { dy: as(dlogit, [R, 2]), x: as(a.xn2!, [R, d]), w: w.gate![0] });
      free(dlogit);
      dxn2Gate = dxg;
      dW.push(dWg, dbg, dWo, dbo);
    } else {
      const [db, dWo, dbo] = run('RsgLinearGrad', { dy: dmid, x: as(a.both!, [R, d]), w: w.out![0] });
      dboth = db;
      dW.push(dWo, dbo);
    }
    const attGrad = {
      dy: as(dboth, [Bq, cross.G * T, cross.pos ? 2 * d : d]),
      q: as(a.q!, [Bq, cross.G * T, d]),
      k: cross.k,
      v: cross.v,
      probs: a.p2,
      pos: cross.pos ?? undefined,
    };
    const [dq, dk, dv] = run('RsgAttentionGrad', attGrad, { heads });
    free(dboth);
    const [dxq, dWq, dbq] = run('RsgLinearGrad', { dy: as(dq, [R, d]), x: as(a.xn2!, [R, d]), w: w.xq![0] });
    free(dq);
    if (dxn2Gate) {
      [dxn2] = run('Add', { a: dxn2Gate, b: dxq });
      free(dxn2Gate, dxq);
    } else dxn2 = dxq;
    const [dx1Ln, dgx, dbx] = run('RsgLayerNormGrad', {
      dy: as(dxn2, [B, T, d]),
      x: as(a.x1!, [B, T, d]),
      g: w.lnx![0],
      mean: a.m2,
      rstd: a.r2,
      res: dmid,
    });
    free(dxn2, dmid);
    dx1 = dx1Ln;
    crossGrads = [dgx, dbx, dWq, dbq, ...dW];
    dkv = [dk, dv];
  }
  // self-attention; the residual's gradient is dx1
  const [datt, dWo, dbo] = run('RsgLinearGrad', { dy: as(dx1, [R, d]), x: as(a.att!, [R, d]), w: w.attnOut[0] });
  const [dqkv] = run(
    'RsgAttentionGrad',
    { dy: as(datt, [B, T, d]), qkv: as(a.qkv!, [B, T, 3 * d]), probs: a.p1 },
    { heads, causal },
  );
  free(datt);
  const [dxn1, dWqkv, dbqkv] = run('RsgLinearGrad', { dy: as(dqkv, [R, 3 * d]), x: as(a.xn1!, [R, d]), w: w.qkv[0] });
  free(dqkv);
  const [dx, dg1, db1Ln] = run('RsgLayerNormGrad', {
    dy: as(dxn1, [B, T, d]),
    x,
    g: w.ln1[0],
    mean: a.m1,
    rstd: a.r1,
    res: dx1,
  });
  free(dxn1, dx1);
  return [
    as(dx, [B, T, d]),
    dg1,
    db1Ln,
    dWqkv,
    dbqkv,
    dWo,
    dbo,
    ...crossGrads,
    dg2,
    dbeta2,
    dW1,
    db1,
    dW2,
    db2,
    ...dkv,
  ];
}

/** `Ops.layer` on blas: one op each way (see the file's comment). */
export function fusedLayer(x: tf.Tensor, weights: LayerWeights, c: LayerContext): tf.Tensor {
  const ws = flatWeights(weights);
  const cross = c.cross;
  const gate = !!weights.cross?.gate;
  if (cross && !!cross.pos !== gate)
    throw new Error('Ops.layer: position codes and the readout gate come together (both or neither)');
  const consts = [...(c.mask ? [c.mask] : []), ...(cross ? [cross.mask, ...(cross.pos ? [cross.pos] : [])] : [])];
  const engine = tf.engine();
  const f = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as (ts: tf.Tensor[]) => void;
    const ins = args as tf.Tensor[];
    const xx = ins[0],
      wIn = ins.slice(1, 1 + ws.length),
      kv = ins.slice(1 + ws.length);
    const W = unflatten(wIn, !!cross, gate);
    const ctx = cross ? { k: kv[0], v: kv[1], mask: cross.mask, pos: cross.pos, G: cross.G } : null;
    const [y, acts] = forward(xx, W, c.heads, c.causal, c.mask, ctx, c.eps);
    const present = ACTS.filter((k) => acts[k]);
    const kept = present.map((k) => engine.makeTensorFromTensorInfo(acts[k]!));
    save([...ins, ...consts, ...kept]);
    return {
      value: engine.makeTensorFromTensorInfo(y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const sx = saved[0],
          sw = saved.slice(1, 1 + ws.length),
          skv = saved.slice(1 + ws.length, ins.length),
          sc = saved.slice(ins.length, ins.length + consts.length),
          sa = saved.slice(ins.length + consts.length);
        const a: Acts = {};
        present.forEach((k, i) => (a[k] = sa[i]));
        const sctx = cross
          ? { k: skv[0], v: skv[1], mask: sc[c.mask ? 1 : 0], pos: cross.pos ? sc[sc.length - 1] : null, G: cross.G }
          : null;
        const grads = backward(dy, sx, unflatten(sw, !!cross, gate), a, c.heads, c.causal, sctx);
        return grads.map((g) => engine.makeTensorFromTensorInfo(g));
      },
    };
  }) as never) as unknown as (...ts: tf.Tensor[]) => tf.Tensor;
  return f(x, ...ws, ...(cross ? [cross.k, cross.v] : []));
}
