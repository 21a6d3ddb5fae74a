/**
 * A word-level tokenizer for queries, reasoning and answers, saved as a standard Hugging Face
 * `tokenizer.json` (WordLevel model, Lowercase normaliser, whitespace + punctuation split) and
 * loadable with `@huggingface/transformers`' AutoTokenizer.
 *
 * Coordinates are single tokens, one per integer pixel (Pix2Seq): "0" … "<maxCoord>".
 * The four tags are tokens of their own. Decoding joins tokens with single spaces, exactly as
 * the HF tokenizer decodes (no clean-up), so the policy writes e.g.
 * `<think> find the vehicle . </think> <answer> [ 12 , 40 , 20 , 48 ] </answer>` — which
 * parses and formats exactly like the compact form (SPEC §3.1 allows the spaces).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../files';
import { CLASS_SPECS, COLORS, OBJECT_CLASSES, PLURAL } from '../data/world';
import { REGIONS, RELATIONS } from '../data/referring';

export const SPECIAL = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;
export const TAGS = ['<think>', '</think>', '<answer>', '</answer>'] as const;
export const PUNCT = ['[', ']', ',', '.', ':', ';', '?', '!', '(', ')', '{', '}', '"', "'", '-'] as const;
/** The characters split off as tokens of their own (HF `Split` pre-tokenizer, behaviour Isolated). */
const PUNCT_RE = /([\[\],.:;?!(){}"'\-])/;
const PUNCT_PATTERN = String.raw`[\[\],.:;?!(){}"'\-]`;

export class Tokenizer {
  readonly vocab: readonly string[];
  private readonly index: Map<string, number>;
  readonly padId = 0;
  readonly bosId = 1;
  readonly eosId = 2;
  readonly unkId = 3;
  readonly thinkOpenId: number;
  readonly thinkCloseId: number;
  readonly answerOpenId: number;
  readonly answerCloseId: number;
  /** the largest coordinate token */
  readonly maxCoord: number;
  /** id of the token for integer k (0 ≤ k ≤ maxCoord) */
  readonly coordBase: number;

  constructor(vocab: readonly string[]) {
    SPECIAL.forEach((s, i) => {
      if (vocab[i] !== s) throw new Error(`tokenizer: vocab[${i}] must be ${s}, got ${vocab[i]}`);
    });
    this.vocab = vocab;
    this.index = new Map(vocab.map((w, i) => [w, i]));
    if (this.index.size !== vocab.length) throw new Error('tokenizer: duplicate tokens in the vocabulary');
    const id = (t: string) => {
      const i = this.index.get(t);
      if (i === undefined) throw new Error(`tokenizer: vocabulary lacks ${t}`);
      return i;
    };
    this.thinkOpenId = id('<think>');
    this.thinkCloseId = id('</think>');
    this.answerOpenId = id('<answer>');
    this.answerCloseId = id('</answer>');
    this.coordBase = id('0');
    let k = 0;
    while (this.index.get(String(k + 1)) === this.coordBase + k + 1) k++;
    this.maxCoord = k;
  }

  get size(): number {
    return this.vocab.length;
  }

  tokenId(t: string): number {
    return this.index.get(t) ?? this.unkId;
  }

  /** Pieces as the HF pipeline makes them: tags split out, the rest lowercased and split. */
  pieces(text: string): string[] {
    const out: string[] = [];
    for (const part of text.split(/(<\/?think>|<\/?answer>|<pad>|<bos>|<eos>|<unk>)/)) {
      if (part === '') continue;
      if (/^(<\/?think>|<\/?answer>|<pad>|<bos>|<eos>|<unk>)$/.test(part)) {
        out.push(part);
        continue;
      }
      for (const w of part.toLowerCase().split(/\s+/)) {
        if (w === '') continue;
        for (const p of w.split(PUNCT_RE)) if (p !== '') out.push(p);
      }
    }
    return out;
  }

  encode(text: string): number[] {
    return this.pieces(text).map((p) => this.tokenId(p));
  }

  /** Tokens joined by single spaces (HF decode with no clean-up). */
  decode(ids: readonly number[]): string {
    return ids.map((i) => this.vocab[i] ?? '<unk>').join(' ');
  }

  /** The Hugging Face `tokenizer.json` object. */
  toHuggingFace(): Record<string, unknown> {
    const added = [...SPECIAL, ...TAGS].map((content) => ({
      id: this.index.get(content)!,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: (SPECIAL as readonly string[]).includes(content),
    }));
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: { type: 'Lowercase' },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'WhitespaceSplit' },
          { type: 'Split', pattern: { Regex: PUNCT_PATTERN }, behavior: 'Isolated', invert: false },
        ],
      },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab: Object.fromEntries(this.vocab.map((w, i) => [w, i])), unk_token: '<unk>' },
    };
  }

  /** Write `tokenizer.json` and `tokenizer_config.json` into `dir`. */
  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(join(dir, 'tokenizer.json'), this.toHuggingFace());
    writeJsonAtomic(join(dir, 'tokenizer_config.json'), {
      tokenizer_class: 'PreTrainedTokenizer',
      clean_up_tokenization_spaces: false,
      model_max_length: 1024,
      pad_token: '<pad>',
      bos_token: '<bos>',
      eos_token: '<eos>',
      unk_token: '<unk>',
    });
  }
}

/**
 * Load a tokenizer saved by `Tokenizer.save` through @huggingface/transformers (offline), and
 * check that it tokenizes a probe text exactly as this class does.
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new Error(`${dir}/tokenizer.json not found`);
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  const hf = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const vocabMap = hf.get_vocab() as Map<string, number> | Record<string, number>;
  const entries = vocabMap instanceof Map ? [...vocabMap.entries()] : Object.entries(vocabMap);
  const vocab: string[] = [];
  for (const [w, i] of entries) vocab[i] = w;
  const tok = new Tokenizer(vocab);
  const probe = '<think>The second vehicle from the LEFT, at [3, 4, 12, 9].</think><answer>[3, 4, 12, 9]</answer>';
  const a = hf.encode(probe, { add_special_tokens: false }) as number[];
  const b = tok.encode(probe);
  if (a.join() !== b.join())
    throw new Error(`${dir}: the Hugging Face tokenizer and rsground-lab's disagree on a probe (${a} vs ${b})`);
  return tok;
}

/** Every word the mini world's generator can write (queries, both CoT styles, tasks). */
export function worldWords(): string[] {
  const words = new Set<string>();
  const add = (s: string) => s.split(/\s+/).forEach((w) => w && words.add(w));
  OBJECT_CLASSES.forEach((c) => {
    add(c);
    add(PLURAL[c]);
    CLASS_SPECS[c].colors.forEach(add);
  });
  Object.keys(COLORS).forEach(add);
  REGIONS.forEach(add);
  RELATIONS.forEach(add);
  add('leftmost rightmost topmost bottommost first second third fourth largest smallest');
  add('no one two three four five six seven eight nine ten eleven twelve');
  add('the at on in from of there is are only them it so target find counting');
  add('plan every then pick evidence synthesis how many all half');
  return [...words].sort();
}

/** The tokenizer of the mini world for images up to `maxCoord` pixels. */
export function worldTokenizer(maxCoord: number): Tokenizer {
  if (!Number.isInteger(maxCoord) || maxCoord < 1)
    throw new Error(`worldTokenizer: maxCoord must be a positive integer, got ${maxCoord}`);
  const coords = Array.from({ length: maxCoord + 1 }, (_, k) => String(k));
  const words = worldWords().filter((w) => !coords.includes(w));
  return new Tokenizer([...SPECIAL, ...TAGS, ...PUNCT, ...coords, ...words]);
}

/** A tokenizer over an arbitrary corpus (real datasets): every word seen, plus coordinates. */
export function corpusTokenizer(texts: readonly string[], maxCoord: number): Tokenizer {
  const base = worldTokenizer(maxCoord);
  const seen = new Set(base.vocab);
  const extra: string[] = [];
  for (const t of texts)
    for (const p of base.pieces(t))
      if (!seen.has(p)) {
        seen.add(p);
        extra.push(p);
      }
  return new Tokenizer([...base.vocab, ...extra.sort()]);
}
