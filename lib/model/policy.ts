/**
 * `Policy`: the model with everything it needs to read and write text — architecture config,
 * tokenizer, weights and the backend's ops — plus what the trainers and notebooks do with it:
 * encode a batch of samples, generate rollouts, save and load.
 */
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  DEFAULT_POLICY,
  type EncoderInput,
  type Net,
  type Params,
  type PolicyConfig,
  cloneParams,
  countParameters,
  disposeEncoderInput,
  disposeParams,
  encoderInput,
  initPolicy,
  ownedVariable,
  validatePolicy,
} from './network';
import type { Ops } from './ops';
import { generate, type Generation, type GenerateOptions } from './generate';
import { type Tokenizer, loadTokenizer, worldTokenizer } from './tokenizer';
import { type AdamW } from './optimizer';
import { type Lora, type LoraConfig, createLora, mergeLora } from './lora';
import {
  type CheckpointState,
  checkpointProblem,
  hasCheckpoint,
  loadCheckpointState,
  loadWeightsInto,
  saveCheckpoint,
} from './checkpoint';
import { readJson } from '../files';
import { Rng, deriveSeed } from '../rng';

/** What a policy needs from a sample: its pixels and its query. */
export type PolicyInput = { image: { width: number; height: number; rgb?: Uint8Array }; query: string };

export type ArchitectureOverrides = Partial<Omit<PolicyConfig, 'vocabSize' | 'coordBase' | 'maxCoord'>>;

export class Policy implements Net {
  /** low-rank adapters on the linear layers (`addLora`); the weights in `params` are then frozen */
  lora: Lora | null = null;
  /**
   * the full-weight checkpoint directory whose weights `params` hold (loaded from it, or the base of the
   * adapters loaded with them); adapters are saved against it. Null once the weights differ from it.
   */
  source: string | null = null;

  private constructor(
    readonly cfg: PolicyConfig,
    readonly tok: Tokenizer,
    readonly params: Params,
    readonly ops: Ops,
  ) {}

  /** What training updates: the adapters when the policy has them, else every weight. */
  get trainable(): Params {
    return this.lora ? this.lora.adapters : this.params;
  }

  /**
   * Attach fresh adapters (LoRA, lora.ts) to every linear layer: the function is unchanged until
   * they train, the weights stay frozen, and checkpoints hold only the adapters.
   */
  addLora(cfg: LoraConfig, seed: number): void {
    if (this.lora) throw new Error('Policy.addLora: the policy has adapters already (merge them first)');
    this.lora = createLora(this.params, cfg, seed);
  }

  /** Fold the adapters into the weights and drop them (merged forward = adapter forward). */
  mergeLora(): void {
    if (!this.lora) return;
    mergeLora(this.params, this.lora);
    this.source = null; // the weights are no longer those of any checkpoint
    disposeParams(this.lora.adapters);
    this.lora = null;
  }

  /**
   * A freshly initialised policy for the mini world (tokenizer with one token per pixel), run
   * with `ops` (from `selectBackend`).
   */
  static create(arch: ArchitectureOverrides, seed: number, ops: Ops, tok?: Tokenizer): Policy {
    const base = { ...DEFAULT_POLICY, ...arch };
    const t = tok ?? worldTokenizer(base.imageSize);
    const cfg = validatePolicy({ ...base, vocabSize: t.size, coordBase: t.coordBase, maxCoord: t.maxCoord });
    return new Policy(cfg, t, initPolicy(cfg, seed), ops);
  }

  /** Load a checkpoint directory written by `save` (weights, tokenizer via transformers.js, config). */
  static async load(dir: string, ops: Ops): Promise<Policy> {
    if (!hasCheckpoint(dir)) throw new Error(`${dir}: no checkpoint here (expected model.safetensors and state.json)`);
    const problem = checkpointProblem(dir);
    if (problem) throw new Error(`cannot load the policy at ${dir}: ${problem}`);
    const saved = readJson<{ policy: PolicyConfig; lora?: LoraConfig & { base: string } }>(join(dir, 'config.json'));
    if (!saved.policy) throw new Error(`${join(dir, 'config.json')}: missing "policy" section`);
    if (saved.lora) {
      // adapters only: the weights come from the base checkpoint it names (relative to this one), which
      // stays the policy's `source`, so that training the adapters further saves against the same base
      const base = await Policy.load(resolve(dir, saved.lora.base), ops);
      if (base.lora) {
        base.dispose();
        throw new Error(`${dir}: its base ${saved.lora.base} holds adapters too (a base must hold full weights)`);
      }
      base.addLora({ rank: saved.lora.rank, alpha: saved.lora.alpha }, 0);
      loadWeightsInto(dir, base.lora!.adapters);
      return base;
    }
    const tok = await loadTokenizer(dir);
    const cfg = validatePolicy(saved.policy);
    if (cfg.vocabSize !== tok.size)
      throw new Error(`${dir}: config says vocabSize ${cfg.vocabSize}, tokenizer has ${tok.size} tokens`);
    const p = new Policy(cfg, tok, initPolicy(cfg, 0), ops);
    loadWeightsInto(dir, p.params);
    p.source = dir;
    return p;
  }

  get numParameters(): number {
    return countParameters(this.params);
  }

  /** A frozen copy (reference model); the caller disposes it. */
  frozenCopy(): Policy {
    const params = cloneParams(this.params, false);
    if (this.lora) mergeLora(params, this.lora); // the copy computes what the adapted policy computes
    return new Policy(this.cfg, this.tok, params, this.ops);
  }

  /**
   * This policy with room for completions of `n` tokens (n ≥ its budget): the decoder's position
   * table keeps its rows and gains fresh ones for the new positions, drawn as at initialisation
   * (N(0, 0.02), from `seed`), so every completion it could write before is scored as before. The
   * returned policy takes over this one's weights: use it, and dispose it, instead of this one.
   * Why: a budget longer than base pretraining's targets ever reach leaves the extra positions at
   * their initial values anyway, so a longer-budget model can start from the same base.
   */
  withCompletionBudget(n: number, seed: number): Policy {
    const old = this.cfg.maxCompletionLen;
    if (!Number.isInteger(n) || n < old)
      throw new Error(`withCompletionBudget: ${n} must be an integer ≥ the policy's budget, ${old}`);
    if (this.lora) throw new Error('withCompletionBudget: merge the adapters first');
    if (n === old) return this;
    const cfg = validatePolicy({ ...this.cfg, maxCompletionLen: n });
    const table = this.params.get('dec_pos')!;
    const d = this.cfg.dModel;
    const rng = new Rng(deriveSeed(seed, 'dec_pos', old, n));
    const rows = new Float32Array((n + 1) * d);
    rows.set(table.dataSync() as Float32Array);
    for (let i = (old + 1) * d; i < rows.length; i++) rows[i] = rng.normal() * 0.02;
    const name = table.name;
    table.dispose(); // frees the name for its successor
    const params: Params = new Map(this.params);
    params.set('dec_pos', ownedVariable(tf.tensor(rows, [n + 1, d]), true, name));
    this.params.clear(); // this policy no longer owns anything
    return new Policy(cfg, this.tok, params, this.ops);
  }

  /** Copy another policy's weights into this one (same architecture). */
  assignFrom(other: Policy): void {
    for (const [k, v] of this.params) v.assign(other.params.get(k)!);
  }

  /** Token ids of a query, cut to maxQueryLen. */
  queryIds(query: string): number[] {
    return this.tok.encode(query).slice(0, this.cfg.maxQueryLen);
  }

  encoderInput(samples: readonly PolicyInput[]): EncoderInput {
    for (const s of samples) {
      if (!s.image.rgb) throw new Error('Policy: sample image is not decoded (call imageRgb first)');
      if (s.image.width !== this.cfg.imageSize || s.image.height !== this.cfg.imageSize) {
        throw new Error(
          `Policy: image is ${s.image.width}×${s.image.height}, the model reads ` +
            `${this.cfg.imageSize}×${this.cfg.imageSize} (resize first)`,
        );
      }
    }
    return encoderInput(
      this.cfg,
      samples.map((s) => s.image.rgb!),
      samples.map((s) => this.queryIds(s.query)),
    );
  }

  /** Generate `opts.group` completions for each sample (rows grouped by sample). */
  generate(samples: readonly PolicyInput[], rng: Rng, opts: GenerateOptions): Generation {
    const enc = this.encoderInput(samples);
    try {
      return generate(this, this.tok, enc, rng, opts);
    } finally {
      disposeEncoderInput(enc);
    }
  }

  /** Completion text → token ids, ending at (and including) the first `</answer>`. */
  completionIds(text: string): number[] {
    const ids = this.tok.encode(text);
    const end = ids.indexOf(this.tok.answerCloseId);
    return (end >= 0 ? ids.slice(0, end + 1) : ids).slice(0, this.cfg.maxCompletionLen);
  }

  /**
   * Write a checkpoint: every weight, or with adapters only the adapters and the path of the base
   * checkpoint they sit on (relative, so a runs directory can move as a whole).
   */
  save(dir: string, state: CheckpointState, optimizer?: AdamW, extraConfig: Record<string, unknown> = {}): void {
    if (this.lora && !this.source)
      throw new Error('Policy.save: adapters need a base checkpoint to refer to (load the policy from one)');
    const lora = this.lora ? { lora: { ...this.lora.cfg, base: relative(dir, this.source!) } } : {};
    saveCheckpoint(dir, {
      params: this.trainable,
      optimizer,
      state,
      tokenizer: this.tok,
      config: { ...extraConfig, policy: this.cfg, ...lora },
    });
  }

  /** Restore what trains (weights, or adapters) and the optimizer from a checkpoint of this same architecture. */
  restore(dir: string, optimizer?: AdamW): CheckpointState {
    loadWeightsInto(dir, this.trainable);
    return loadCheckpointState(dir, optimizer);
  }

  dispose(): void {
    disposeParams(this.params);
    if (this.lora) disposeParams(this.lora.adapters);
    this.lora = null;
  }
}
