/**
 * Batched generation: G rollouts for each of B queries at once, with temperature, a maximum
 * length, and a stop at `</answer>`; greedy decoding for evaluation. A KV cache makes each
 * step cost one token per row; the cross-attention keys/values are computed once per query.
 * Token draws happen in JS with the project's seeded RNG, so rollouts are reproducible on any
 * backend and resume exactly from a checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type CrossKV, type EncoderInput, type KVCache, type Params, type PolicyConfig, crossKV, decodeStep, encode,
} from './network';
import type { Rng } from '../rng';
import { FastDecoder, fastInferenceAvailable } from '../native/decoder';
import type { Tokenizer } from './tokenizer';

export type GenerateOptions = {
  /** rollouts per query (G) */
  group: number;
  /** softmax temperature (ignored when greedy) */
  temperature: number;
  /** maximum completion length in tokens */
  maxLen: number;
  greedy: boolean;
};

export type Generation = {
  /** completion token ids per row (N = B·G), up to and including `</answer>` when it came */
  ids: number[][];
  /** log π(token) at temperature 1 for each generated token */
  logProbs: number[][];
  /** whether the row ended with `</answer>` (else it hit maxLen) */
  finished: boolean[];
  texts: string[];
};

export function generate(
  params: Params, cfg: PolicyConfig, tok: Tokenizer, enc: EncoderInput, rng: Rng, opts: GenerateOptions,
): Generation {
  const B = enc.patches.shape[0], G = opts.group, N = B * G, V = cfg.vocabSize;
  const maxLen = Math.min(opts.maxLen, cfg.maxCompletionLen);
  if (fastInferenceAvailable()) {
    // blas backend: the decoder without per-op dispatch (lib/infer.ts).
    const dec = new FastDecoder(params, cfg, enc, G, maxLen);
    return drawTokens(tok, N, V, maxLen, rng, opts, (cur, t) => dec.logSoftmax(dec.step(cur, t, 1)));
  }
  // Encoder and cross-attention keys/values once per query; kept across decoding steps.
  let kv: CrossKV = [];
  tf.tidy(() => {
    kv = crossKV(params, cfg, encode(params, cfg, enc));
    for (const x of kv) { tf.keep(x.k); tf.keep(x.v); if (x.pos) tf.keep(x.pos); }
  });
  const keyMask = enc.keyMask;
  const cache: KVCache = Array.from({ length: cfg.nDecLayers }, () => ({ k: null, v: null }));
  try {
    return drawTokens(tok, N, V, maxLen, rng, opts, (cur, t) => {
      const lp = tf.tidy(() => tf.logSoftmax(decodeStep(params, cfg, tf.tensor1d(cur, 'int32'), t, cache, kv, keyMask, G))); // [N, V]
      const data = lp.dataSync() as Float32Array;
      lp.dispose();
      return data;
    });
  } finally {
    for (const c of cache) { c.k?.dispose(); c.v?.dispose(); }
    for (const x of kv) { x.k.dispose(); x.v.dispose(); x.pos?.dispose(); }
  }
}

/**
 * The decoding loop shared by both paths: `logProbsAt(cur, t)` gives log π [N, V] for the
 * tokens `cur` at position t; tokens are drawn in JS with the seeded RNG.
 */
function drawTokens(
  tok: Tokenizer, N: number, V: number, maxLen: number, rng: Rng, opts: GenerateOptions,
  logProbsAt: (cur: Int32Array, t: number) => Float32Array,
): Generation {
  const ids: number[][] = Array.from({ length: N }, () => []);
  const logProbs: number[][] = Array.from({ length: N }, () => []);
  const finished = new Array<boolean>(N).fill(false);
  let cur = new Int32Array(N).fill(tok.bosId);
  const probs = new Float64Array(V);
  for (let t = 0; t < maxLen; t++) {
    const lpData = logProbsAt(cur, t);
    const next = new Int32Array(N);
    for (let n = 0; n < N; n++) {
      if (finished[n]) { next[n] = tok.padId; continue; }
      const row = n * V;
      let k = 0;
      if (opts.greedy) {
        for (let j = 1; j < V; j++) if (lpData[row + j] > lpData[row + k]) k = j;
      } else {
        // π^(1/T): exp(logπ / T), shifted by the row max for stability.
        let m = -Infinity;
        for (let j = 0; j < V; j++) m = Math.max(m, lpData[row + j]);
        for (let j = 0; j < V; j++) probs[j] = Math.exp((lpData[row + j] - m) / opts.temperature);
        k = rng.weighted(probs, 0, V);
      }
      ids[n].push(k);
      logProbs[n].push(lpData[row + k]);
      next[n] = k;
      if (k === tok.answerCloseId) finished[n] = true;
    }
    cur = next;
    if (finished.every(Boolean)) break;
  }
  return { ids, logProbs, finished, texts: ids.map((r) => tok.decode(r)) };
}
