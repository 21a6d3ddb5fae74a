import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { worldTokenizer, loadTokenizer, corpusTokenizer } from '../../lib/model/tokenizer';
import { taskSplit, SPLIT_NAMES, splitSpec } from '../../lib/data/splits';
import { isGroundingSample } from '../../lib/data/samples';
import { formatReward, parseAnswer } from '../../lib/answer';

const tok = worldTokenizer(64);

test('coordinates are single tokens, one per integer pixel', () => {
  assert.is(tok.maxCoord, 64);
  for (const k of [0, 1, 37, 64]) assert.equal(tok.encode(String(k)), [tok.coordBase + k]);
  assert.equal(tok.encode('[12, 40, 20, 48]').length, 9);
  assert.is(
    tok.decode(tok.encode('<think>The vehicle.</think><answer>[12, 40, 20, 48]</answer>')),
    '<think> the vehicle . </think> <answer> [ 12 , 40 , 20 , 48 ] </answer>',
  );
});

test('every text the generator writes tokenizes without <unk>, and decoded text keeps its meaning', () => {
  for (const split of SPLIT_NAMES) {
    const task = splitSpec(split).task;
    const samples = taskSplit(split, { count: task === 'grounding' ? 150 : 100 });
    for (const s of samples) {
      const texts = [s.query, ...Object.values(s.meta!.cot as Record<string, string>)];
      for (const t of texts) assert.not.ok(tok.encode(t).includes(tok.unkId), `${split}: <unk> in "${t}"`);
    }
    if (task === 'grounding') {
      for (const s of samples.slice(0, 30).filter(isGroundingSample)) {
        const round = tok.decode(tok.encode((s.meta!.cot as Record<string, string>).rsground));
        assert.is(formatReward(round), 1);
        assert.equal(parseAnswer(round), s.gt);
      }
    }
  }
});

test('round trip through tokenizer.json and @huggingface/transformers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsg-tok-'));
  try {
    tok.save(dir);
    const loaded = await loadTokenizer(dir);
    assert.equal(loaded.vocab, tok.vocab);
    const { AutoTokenizer } = await import('@huggingface/transformers');
    const hf = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    const texts = [
      '<think>there are four vehicles . only one of them is at the top left .</think><answer>[3, 4, 12, 9]</answer>',
      'The SECOND storage tank from the left?',
      'zebra-crossing near (the) "bridge";',
      '  odd   spacing\tand\nnewlines ',
      '<THINK>x</THINK>',
    ];
    for (const t of texts) {
      const ids = hf.encode(t, { add_special_tokens: false }) as number[];
      assert.equal(ids, tok.encode(t), t);
      assert.is(hf.decode(ids), tok.decode(ids));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corpus tokenizer extends the world vocabulary with unseen words, keeping ids stable', () => {
  const c = corpusTokenizer(['The harbor near the dam', 'a baseballfield'], 64);
  assert.equal(c.vocab.slice(0, tok.size), tok.vocab);
  for (const w of ['harbor', 'dam', 'baseballfield', 'near']) assert.ok(c.encode(w)[0] !== c.unkId, w);
  assert.is(tok.encode('harbor')[0], tok.unkId);
});

test.run();
