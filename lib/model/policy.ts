/**
 * `Policy`: the model with everything it needs to read and write text — architecture config,
 * tokenizer, weights and the backend's ops — plus what the trainers and notebooks do with it:
 * encode a batch of samples, generate rollouts, save and load.
 */
import { join } from 'node:path';
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
  validatePolicy,
} from './network';
import type { Ops } from './ops';
import { generate, type Generation, type GenerateOptions } from './generate';
import { type Tokenizer, loadTokenizer, worldTokenizer } from './tokenizer';
import { type AdamW } from './optimizer';
import {
  type CheckpointState,
  checkpointProblem,
  hasCheckpoint,
  loadCheckpointState,
  loadWeightsInto,
  saveCheckpoint,
} from './checkpoint';
import { readJson } from '../files';
import type { Rng } from '../rng';

/** What a policy needs from a sample: its pixels and its query. */
export type PolicyInput = { image: { width: number; height: number; rgb?: Uint8Array }; query: string };

export type ArchitectureOverrides = Partial<Omit<PolicyConfig, 'vocabSize' | 'coordBase' | 'maxCoord'>>;

export class Policy implements Net {
  private constructor(
    readonly cfg: PolicyConfig,
    readonly tok: Tokenizer,
    readonly params: Params,
    readonly ops: Ops,
  ) {}

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
    const saved = readJson<{ policy: PolicyConfig }>(join(dir, 'config.json'));
    if (!saved.policy) throw new Error(`${join(dir, 'config.json')}: missing "policy" section`);
    const tok = await loadTokenizer(dir);
    const cfg = validatePolicy(saved.policy);
    if (cfg.vocabSize !== tok.size)
      throw new Error(`${dir}: config says vocabSize ${cfg.vocabSize}, tokenizer has ${tok.size} tokens`);
    const p = new Policy(cfg, tok, initPolicy(cfg, 0), ops);
    loadWeightsInto(dir, p.params);
    return p;
  }

  get numParameters(): number {
    return countParameters(this.params);
  }

  /** A frozen copy (reference model); the caller disposes it. */
  frozenCopy(): Policy {
    return new Policy(this.cfg, this.tok, cloneParams(this.params, false), this.ops);
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

  save(dir: string, state: CheckpointState, optimizer?: AdamW, extraConfig: Record<string, unknown> = {}): void {
    saveCheckpoint(dir, {
      params: this.params,
      optimizer,
      state,
      tokenizer: this.tok,
      config: { ...extraConfig, policy: this.cfg },
    });
  }

  /** Restore weights (and optimizer) from a checkpoint of this same architecture. */
  restore(dir: string, optimizer?: AdamW): CheckpointState {
    loadWeightsInto(dir, this.params);
    return loadCheckpointState(dir, optimizer);
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
