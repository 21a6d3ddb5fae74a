/**
 * Low-rank adapters (LoRA, Hu et al. 2022), as RemoteReasoner trains (rank 8, α 16, every linear
 * layer): a linear layer x·W + b becomes x·W + b + (α/r)·(x·A)·B with W frozen, A [d_in, r] drawn
 * N(0, 1/d_in) and B [r, d_out] zero, so a fresh adapter leaves the policy unchanged. Both products
 * go through the backend's matMul, so the blas fast path stays the fast path. Embeddings (the tied
 * token embedding) are not linear layers and stay frozen.
 */
import * as tf from '@tensorflow/tfjs';
import { ownedVariable, type Params } from './network';
import { Rng } from '../rng';
import { num, validate, z } from '../config';

export type LoraConfig = {
  /** r: the adapters' rank */
  rank: number;
  /** α: the update is scaled by α/r */
  alpha: number;
};

/** Paper 002's adapters: rank 8, α 16. */
export const DEFAULT_LORA: Readonly<LoraConfig> = Object.freeze({ rank: 8, alpha: 16 });

export const LORA_SCHEMA = z.strictObject({ rank: num.int(1), alpha: num.positive() }) satisfies z.ZodType<LoraConfig>;

export function validateLora(c: LoraConfig, where = 'lora'): LoraConfig {
  return validate(LORA_SCHEMA, c, where);
}

/** A policy's adapters: `<layer>.lora_a` and `<layer>.lora_b` for every linear layer, and α/r. */
export type Lora = { cfg: LoraConfig; scale: number; adapters: Params };

/** The linear layers of a policy: every `<name>.w` weight matrix (layer norms hold `.g`, embeddings no `.w`). */
export function linearLayers(params: Params): string[] {
  return [...params.keys()].filter((k) => k.endsWith('.w') && params.get(k)!.rank === 2).map((k) => k.slice(0, -2));
}

let counter = 0;

/** Fresh adapters for every linear layer of `params` (B = 0: the policy's function is unchanged). */
export function createLora(params: Params, cfg: LoraConfig, seed: number): Lora {
  validateLora(cfg);
  const rng = new Rng(seed);
  const prefix = `lora${counter++}/`;
  const adapters: Params = new Map();
  for (const layer of linearLayers(params)) {
    const [din, dout] = params.get(`${layer}.w`)!.shape as [number, number];
    const a = new Float32Array(din * cfg.rank).map(() => rng.normal() / Math.sqrt(din));
    adapters.set(`${layer}.lora_a`, ownedVariable(tf.tensor(a, [din, cfg.rank]), true, `${prefix}${layer}.lora_a`));
    adapters.set(`${layer}.lora_b`, ownedVariable(tf.zeros([cfg.rank, dout]), true, `${prefix}${layer}.lora_b`));
  }
  return { cfg, scale: cfg.alpha / cfg.rank, adapters };
}

/** Fold the adapters into the weights: W ← W + (α/r)·A·B. The adapters are left as they are. */
export function mergeLora(params: Params, lora: Lora): void {
  for (const layer of linearLayers(params)) {
    const a = lora.adapters.get(`${layer}.lora_a`),
      b = lora.adapters.get(`${layer}.lora_b`);
    if (!a || !b) continue;
    const w = params.get(`${layer}.w`)!;
    const merged = tf.tidy(() => tf.add(w, tf.mul(tf.matMul(a, b), lora.scale)));
    w.assign(merged);
    merged.dispose();
  }
}

/** Number of adapter parameters. */
export function loraParameters(lora: Lora): number {
  let n = 0;
  for (const v of lora.adapters.values()) n += v.size;
  return n;
}
