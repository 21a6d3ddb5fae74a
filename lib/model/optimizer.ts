/**
 * AdamW with global-norm gradient clipping, written out so that its whole state (moments and
 * step) is plain tensors a checkpoint can save and restore exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { type Params, ownedVariable } from './network';
import type { Ops } from './ops';

export type OptimConfig = {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** clip the global gradient norm to this (0 = off) */
  clipNorm: number;
};

export const DEFAULT_OPTIM: Readonly<OptimConfig> = Object.freeze({
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.98,
  eps: 1e-8,
  weightDecay: 0.01,
  clipNorm: 1,
});

export class AdamW {
  step = 0;
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();

  constructor(
    readonly params: Params,
    public cfg: OptimConfig,
    private readonly ops: Ops,
  ) {
    for (const [k, p] of params) {
      this.m.set(k, ownedVariable(tf.zerosLike(p), false));
      this.v.set(k, ownedVariable(tf.zerosLike(p), false));
    }
  }

  /**
   * Apply one update with `grads` as `tf.variableGrads` returns them (keyed by variable name;
   * not disposed here) at learning rate `lr`. Every parameter must have a gradient. Returns the
   * global gradient norm before clipping.
   */
  apply(grads: Record<string, tf.Tensor>, lr = this.cfg.lr): number {
    for (const p of this.params.values()) {
      if (!grads[p.name]) throw new Error(`AdamW: no gradient for parameter ${p.name}`);
    }
    this.step++;
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, clipNorm } = this.cfg;
    const norm = this.ops.globalNorm(Object.values(grads));
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    const c1 = 1 - b1 ** this.step,
      c2 = 1 - b2 ** this.step;
    // Decoupled weight decay on matrices only: not on biases, norms, embeddings or position codes.
    const decays = (k: string, p: tf.Variable) => p.rank >= 2 && !k.endsWith('_emb') && !k.endsWith('_pos');
    const items = [...this.params].map(([k, p]) => ({
      p,
      g: grads[p.name],
      m: this.m.get(k)!,
      v: this.v.get(k)!,
      wd: decays(k, p) ? wd : 0,
    }));
    const step = { b1, b2, c1, c2, eps, lr, scale };
    if (this.ops.adamwAll) this.ops.adamwAll(items, step);
    else
      tf.tidy(() => {
        for (const { p, g, m, v, wd: w } of items) {
          const [p1, m1, v1] = this.ops.adamw(p, g, m, v, { ...step, wd: w });
          m.assign(m1);
          v.assign(v1);
          p.assign(p1);
        }
      });
    return norm;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** Linear warm-up then cosine decay to `minFrac`·lr over `total` steps. */
export function lrAt(step: number, total: number, lr: number, warmup: number, minFrac = 0.1): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return lr * (minFrac + (1 - minFrac) * 0.5 * (1 + Math.cos(Math.PI * t)));
}
