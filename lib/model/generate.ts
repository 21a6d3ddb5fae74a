/**
 * Batched generation: G rollouts for each of B queries at once, with temperature, a maximum
 * length, and a stop at `</answer>`; greedy decoding for evaluation. A KV cache makes each
 * step cost one token per row; the cross-attention keys/values are computed once per query.
 * Token draws happen in JS with the project's seeded RNG, so rollouts are reproducible on any
 * backend and resume exactly from a checkpoint.
 */
import type { EncoderInput, Net } from './network';
import type { Rng } from '../rng';
import type { Tokenizer } from './tokenizer';
import type { Decoder } from './ops';

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

/** G completions for each of the B queries of `enc`, with the backend's inference decoder. */
export function generate(net: Net, tok: Tokenizer, enc: EncoderInput, rng: Rng, opts: GenerateOptions): Generation {
  const B = enc.patches.shape[0],
    G = opts.group,
    N = B * G,
    V = net.cfg.vocabSize;
  const maxLen = Math.min(opts.maxLen, net.cfg.maxCompletionLen);
  const dec = net.ops.decoder(net, enc, G, maxLen);
  try {
    return drawTokens(tok, N, V, maxLen, rng, opts, dec);
  } finally {
    dec.dispose();
  }
}

/**
 * The decoding loop: the decoder gives log π [rows, V] for each computed row's current token at
 * position t; tokens are drawn with the seeded RNG, row by row in ascending order — in JS, or by the
 * decoder's `draw` when it has one (the blas decoder's runs the same arithmetic in the addon). A
 * finished row gets pad tokens and no draws; when a quarter of the computed rows have finished and
 * the decoder can `retain`, it stops computing them (rows never interact, so the tokens drawn are
 * the same up to sgemm's rounding of a smaller batch; the quarter bounds how often its cache is
 * compacted).
 */
function drawTokens(
  tok: Tokenizer,
  N: number,
  V: number,
  maxLen: number,
  rng: Rng,
  opts: GenerateOptions,
  dec: Decoder,
): Generation {
  const ids: number[][] = Array.from({ length: N }, () => []);
  const logProbs: number[][] = Array.from({ length: N }, () => []);
  const finished = new Array<boolean>(N).fill(false);
  /** the rows the decoder computes, and each one's current token */
  let live = Int32Array.from({ length: N }, (_, n) => n);
  let cur = new Int32Array(N).fill(tok.bosId);
  let open = N;
  const probs = new Float64Array(V);
  // the decoder's own draw, when it has one: one uniform per open row, in row order — the calls
  // rng.weighted makes below — and the same tokens
  const draw = opts.greedy ? undefined : dec.draw?.bind(dec);
  const uniforms = new Float64Array(N),
    drawn = new Int32Array(N);
  for (let t = 0; t < maxLen; t++) {
    const lpData = dec.logProbs(cur, t, 1);
    const next = new Int32Array(live.length);
    if (draw) {
      const u = uniforms.subarray(0, live.length);
      for (let i = 0; i < live.length; i++) u[i] = finished[live[i]] ? -1 : rng.float();
      draw(lpData, V, u, opts.temperature, drawn);
    }
    for (let i = 0; i < live.length; i++) {
      const n = live[i];
      if (finished[n]) {
        next[i] = tok.padId;
        continue;
      }
      const row = i * V;
      let k = 0;
      if (draw) {
        k = drawn[i];
        if (k < 0) throw new Error('Rng.weighted: all weights are zero');
      } else if (opts.greedy) {
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
      next[i] = k;
      if (k === tok.answerCloseId) {
        finished[n] = true;
        open--;
      }
    }
    cur = next;
    if (!open) break;
    if (dec.retain && 4 * open <= 3 * live.length) {
      const keep = live.filter((n) => !finished[n]);
      dec.retain(keep);
      cur = cur.filter((_, i) => !finished[live[i]]);
      live = keep;
    }
  }
  return { ids, logProbs, finished, texts: ids.map((r) => tok.decode(r)) };
}
