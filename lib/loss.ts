/**
 * Losses on tensors: SFT (paper eq. 1) and the GRPO objective (SPEC §5, DeepSeekMath/VLM-R1)
 * with the spatial-consistency weight of RSGround-R1 eq. 9.
 *
 * Deliberate choices (SPEC §5): token losses are averaged per completion, then over
 * completions (TRL loss_type "grpo"); w multiplies every token loss of its group, KL included,
 * and is a constant (no gradient). On the first update of a batch of rollouts π_old = π_θ
 * numerically and the ratio is exp(logπ − stopgrad(logπ)) — 1 in value, ∇logπ in gradient;
 * further updates on the same rollouts (GrpoConfig.iterations > 1) pass π_old's log-probs.
 * SFT averages −log π over target tokens (eq. 1 sums; the mean only rescales the step size).
 */
import * as tf from '@tensorflow/tfjs';
import { type EncoderInput, type Net, crossKV, decode, encode, tokenLogProbs } from './model/network';

/** Identity in value, zero gradient (tfjs has no stop_gradient). */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

export type SequenceBatch = {
  enc: EncoderInput;
  /** rollouts per query (rows b·G … b·G + G − 1 belong to query b) */
  group: number;
  /** [N, T] decoder inputs: <bos>, c1 … c_{T−1} */
  inputIds: tf.Tensor2D;
  /** [N, T] targets: c1 … c_T */
  targets: tf.Tensor2D;
  /** [N, T] 1 on completion tokens (up to and including the end token), 0 on padding */
  mask: tf.Tensor2D;
};

/** Pad token sequences into decoder inputs/targets/mask tensors (JS arrays → tensors). */
export function sequenceTensors(completions: number[][], bosId: number, padId: number, T?: number) {
  const N = completions.length;
  const len = T ?? Math.max(1, ...completions.map((c) => c.length));
  const inp = new Int32Array(N * len).fill(padId),
    tgt = new Int32Array(N * len).fill(padId),
    mask = new Float32Array(N * len);
  completions.forEach((c, n) => {
    const L = Math.min(c.length, len);
    for (let t = 0; t < L; t++) {
      inp[n * len + t] = t === 0 ? bosId : c[t - 1];
      tgt[n * len + t] = c[t];
      mask[n * len + t] = 1;
    }
  });
  return {
    inputIds: tf.tensor2d(inp, [N, len], 'int32'),
    targets: tf.tensor2d(tgt, [N, len], 'int32'),
    mask: tf.tensor2d(mask, [N, len]),
  };
}

/** log π(c_t | …) for every completion token: [N, T] (0-masked rows are meaningless), with gradient. */
export function sequenceLogProbs(net: Net, b: SequenceBatch): tf.Tensor2D {
  const logits = decode(net, b.inputIds, crossKV(net, encode(net, b.enc)), b.enc.keyMask, b.group);
  return tokenLogProbs(net.ops, logits, b.targets);
}

/**
 * log π per completion token [N, T] without gradient (the frozen reference model, π_old), with
 * the backend's inference decoder: all positions in one pass; 0 past each completion's end (the
 * decoder skips those positions where it can).
 */
export function referenceLogProbs(net: Net, b: SequenceBatch): tf.Tensor2D {
  const [N, T] = b.inputIds.shape;
  const dec = net.ops.decoder(net, b.enc, b.group, T);
  try {
    // only each completion's own positions: the padding after it is masked out of every loss term
    const mask = b.mask.dataSync();
    const lens = Int32Array.from({ length: N }, (_, n) => {
      let len = 0;
      for (let t = 0; t < T; t++) if (mask[n * T + t] > 0) len = t + 1;
      return len;
    });
    const lp = dec.logProbs(b.inputIds.dataSync() as Int32Array, 0, T, lens); // [N·T, V]
    const targets = b.targets.dataSync();
    const V = net.cfg.vocabSize;
    const out = new Float32Array(N * T);
    for (let r = 0; r < out.length; r++) out[r] = mask[r] > 0 ? lp[r * V + targets[r]] : 0;
    return tf.tensor2d(out, [N, T]);
  } finally {
    dec.dispose();
  }
}

/** SFT, eq. 1: mean over target tokens of −log π. Returns a scalar. */
export function sftLoss(net: Net, b: SequenceBatch): tf.Scalar {
  const lp = sequenceLogProbs(net, b);
  return tf.neg(tf.div(tf.sum(tf.mul(lp, b.mask)), tf.sum(b.mask))) as tf.Scalar;
}

export type GrpoLossInputs = {
  /** A_i per row [N] (SPEC §4) */
  advantages: Float32Array;
  /** w of each row's group [N] (eq. 8; 1 without L_SC) */
  weights: Float32Array;
  /** log π_ref per token [N, T], or null when β_KL = 0 */
  refLogProbs: tf.Tensor2D | null;
  /**
   * log π_old per token [N, T] (the policy that sampled the rollouts), needed from the second
   * update on the same rollouts; absent or null on the first, where π_old = π_θ.
   */
  oldLogProbs?: tf.Tensor2D | null;
  /** ε: clip range */
  epsilon: number;
  /** β_KL: weight of the k3 KL estimator */
  betaKL: number;
};

export type GrpoLossParts = { loss: tf.Scalar; kl: tf.Scalar; clipFrac: tf.Scalar };

/**
 * SPEC §5 / eq. 9:
 *   ρ = exp(logπθ − logπold),  ℓ_{i,t} = −min(ρ·A_i, clip(ρ, 1−ε, 1+ε)·A_i) + β_KL·k3_{i,t},
 *   k3 = exp(logπref − logπθ) − (logπref − logπθ) − 1,
 *   L = mean_i [ w_{g(i)} · mean_t ℓ_{i,t} ].
 */
export function grpoLoss(net: Net, b: SequenceBatch, x: GrpoLossInputs): GrpoLossParts {
  const N = b.inputIds.shape[0];
  const logp = sequenceLogProbs(net, b); // [N, T]
  // ρ: exactly 1 in value on the first update of a batch (π_old = π_θ), ∇logπ in gradient.
  const ratio = tf.exp(tf.sub(logp, x.oldLogProbs ?? stopGradient(logp)));
  const A = tf.tensor2d(x.advantages, [N, 1]);
  const pg = tf.neg(tf.minimum(tf.mul(ratio, A), tf.mul(tf.clipByValue(ratio, 1 - x.epsilon, 1 + x.epsilon), A)));
  let tokenLoss = pg; // [N, T]
  let k3: tf.Tensor = tf.zerosLike(logp);
  if (x.refLogProbs && x.betaKL !== 0) {
    // 0 past a completion's end, where the reference log-probs are not computed (0 there): k3 is
    // then 0 before the mask multiplies it, never exp of a large gap (an overflow would make 0·∞)
    const d = tf.mul(tf.sub(x.refLogProbs, logp), b.mask);
    k3 = tf.sub(tf.sub(tf.exp(d), d), 1);
    tokenLoss = tf.add(tokenLoss, tf.mul(k3, x.betaKL));
  }
  const w = tf.tensor2d(x.weights, [N, 1]); // eq. 9, a constant
  tokenLoss = tf.mul(tokenLoss, w);
  const perRollout = tf.div(tf.sum(tf.mul(tokenLoss, b.mask), 1), tf.maximum(tf.sum(b.mask, 1), 1)); // [N]
  const loss = tf.mean(perRollout) as tf.Scalar;
  // Diagnostics (no gradient needed): mean k3 over completion tokens, fraction of clipped tokens.
  const tokens = tf.maximum(tf.sum(b.mask), 1);
  const kl = tf.div(tf.sum(tf.mul(k3, b.mask)), tokens) as tf.Scalar;
  const clipped = tf.logicalOr(tf.less(ratio, 1 - x.epsilon), tf.greater(ratio, 1 + x.epsilon)).cast('float32');
  const clipFrac = tf.div(tf.sum(tf.mul(clipped, b.mask)), tokens) as tf.Scalar;
  return { loss, kl, clipFrac };
}
