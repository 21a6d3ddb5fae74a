/**
 * Does a supervised completion fit the policy's completion budget? A target cut at
 * `maxCompletionLen` tokens loses its `</answer>`, so SFT on it teaches a completion that never
 * answers. Geo-CoT traces list every candidate's box and run long.
 */
import { targetText } from '../train-sft';
import type { CotStyle } from './cot';
import type { TaskSample } from './samples';
import type { Tokenizer } from '../model/tokenizer';

/** Share of `samples` whose `style` completion has more than `maxLen` tokens. */
export function overBudget(samples: readonly TaskSample[], style: CotStyle, tok: Tokenizer, maxLen: number): number {
  if (samples.length === 0) return NaN;
  return samples.filter((s) => tok.encode(targetText(s, style)).length > maxLen).length / samples.length;
}
