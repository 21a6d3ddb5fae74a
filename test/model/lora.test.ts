/** LoRA: a fresh adapter changes nothing, merging changes nothing, training moves only the adapters. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { selectBackend } from '../../lib/backend';
import { Policy } from '../../lib/model/policy';
import { linearLayers, loraParameters } from '../../lib/model/lora';
import { decodeSafetensors } from '../../lib/model/checkpoint';
import { referenceLogProbs, sequenceTensors } from '../../lib/loss';
import { disposeEncoderInput } from '../../lib/model/network';
import { trainGrpo, DEFAULT_GRPO } from '../../lib/train-grpo';
import { trainSft, DEFAULT_SFT } from '../../lib/train-sft';
import { RunDir } from '../../lib/runs';
import { groundingSplit } from '../../lib/data/splits';
import { Rng } from '../../lib/rng';
import { TINY } from '../helpers';

const backend = process.env.RSG_TEST_BACKEND ?? 'wasm';
const { ops } = await selectBackend(backend);
const samples = groundingSplit('val', { count: 3 });

/** Log-probabilities of fixed completions under `p` (the training forward's numbers). */
function logProbs(p: Policy): Float32Array {
  const enc = p.encoderInput(samples);
  const seqs = sequenceTensors(
    samples.map((s) => p.completionIds(`<think>find .</think><answer>[${s.gt.x1}, ${s.gt.y1}, 9, 9]</answer>`)),
    p.tok.bosId,
    p.tok.padId,
  );
  const lp = referenceLogProbs(p, { enc, group: 1, ...seqs });
  const out = lp.dataSync() as Float32Array;
  lp.dispose();
  disposeEncoderInput(enc);
  seqs.inputIds.dispose();
  seqs.targets.dispose();
  seqs.mask.dispose();
  return out.slice();
}

/** Sample text under a fixed seed (the inference decoder's path). */
const sample = (p: Policy) =>
  p.generate(samples, new Rng(3), { group: 2, temperature: 1, maxLen: 12, greedy: false }).texts;

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test(`adapters on every linear layer; fresh ones change nothing; merged = adapted (${backend})`, () => {
  const p = Policy.create(TINY, 1, ops);
  const before = logProbs(p);
  const texts = sample(p);
  p.addLora({ rank: 4, alpha: 8 }, 7);
  const layers = linearLayers(p.params);
  assert.ok(layers.includes('enc0.qkv') && layers.includes('dec0.fc2') && layers.includes('patch'), layers.join(','));
  assert.is(p.lora!.adapters.size, 2 * layers.length);
  // the LoRA paper's scaling α / r, and A drawn with variance 1/d_in (B starts at 0)
  assert.is(p.lora!.scale, 8 / 4);
  const a = p.lora!.adapters.get('dec0.fc2.lora_a')!;
  const av = [...a.dataSync()];
  const sd = Math.sqrt(av.reduce((t, v) => t + v * v, 0) / av.length);
  const din = a.shape[0];
  assert.ok(Math.abs(sd * Math.sqrt(din) - 1) < 0.25, `std ${sd} against 1/√${din}`);
  assert.is(p.trainable, p.lora!.adapters);
  // B = 0: the same function, in the training forward and in the sampler
  assert.ok(maxDiff(logProbs(p), before) < 1e-6);
  assert.equal(sample(p), texts);
  // move B, then the adapted policy differs, and merging reproduces it
  for (const [k, v] of p.lora!.adapters)
    if (k.endsWith('lora_b')) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 5));
  const adapted = logProbs(p);
  const adaptedTexts = sample(p);
  assert.ok(maxDiff(adapted, before) > 1e-2, 'the adapters do something');
  const frozen = p.frozenCopy();
  assert.ok(maxDiff(logProbs(frozen), adapted) < 1e-4, 'the reference copy computes the adapted function');
  frozen.dispose();
  p.mergeLora();
  assert.is(p.lora, null);
  assert.ok(maxDiff(logProbs(p), adapted) < 1e-4, `merged vs adapted: ${maxDiff(logProbs(p), adapted)}`);
  assert.equal(sample(p), adaptedTexts);
  p.dispose();
});

test(`GRPO with LoRA trains only the adapters, leaks nothing, and checkpoints only them (${backend})`, async () => {
  const root = mkdtempSync(join(tmpdir(), 'rsg-lora-'));
  const base = Policy.create(TINY, 2, ops);
  base.save(join(root, 'base'), { step: 0, extra: {} });
  base.dispose();
  const p = await Policy.load(join(root, 'base'), ops);
  const weights = new Map([...p.params].map(([k, v]) => [k, v.dataSync().slice()]));
  const n0 = tf.memory().numTensors;
  await trainGrpo({
    policy: p,
    run: new RunDir(join(root, 'grpo')),
    train: groundingSplit('train', { count: 8 }),
    config: {
      ...DEFAULT_GRPO,
      steps: 2,
      queriesPerStep: 2,
      group: 3,
      maxLen: 24,
      evalEvery: 0,
      checkpointEvery: 2,
      lr: 1e-2,
      lora: { rank: 4, alpha: 8 },
    },
    seed: 1,
    quiet: true,
  });
  // the adapters were added by the trainer and are the only new tensors (besides nothing leaked)
  assert.is(tf.memory().numTensors, n0 + p.lora!.adapters.size);
  for (const [k, v] of p.params) assert.equal(v.dataSync(), weights.get(k), `${k} must stay frozen`);
  // the checkpoint holds the adapters only, and names its base
  const dir = join(root, 'grpo', 'checkpoint');
  const tensors = decodeSafetensors(readFileSync(join(dir, 'model.safetensors')));
  assert.equal([...tensors.keys()].sort(), [...p.lora!.adapters.keys()].sort());
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.lora, { rank: 4, alpha: 8, base: join('..', '..', 'base') });
  assert.ok(loraParameters(p.lora!) < p.numParameters / 4, `${loraParameters(p.lora!)} vs ${p.numParameters}`);
  // loading it back gives the same function
  const q = await Policy.load(dir, ops);
  assert.ok(maxDiff(logProbs(q), logProbs(p)) < 1e-6);
  // training loaded adapters further saves them against the same base (not on top of the old adapters)
  const randomB = (x: Policy, seed: number) => {
    for (const [k, v] of x.lora!.adapters)
      if (k.endsWith('lora_b')) v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', seed));
  };
  randomB(q, 9);
  q.save(join(root, 'second'), { step: 0, extra: {} });
  const q2 = await Policy.load(join(root, 'second'), ops);
  assert.ok(maxDiff(logProbs(q2), logProbs(q)) < 1e-6);
  randomB(q2, 10);
  const continued = logProbs(q2);
  q2.save(join(root, 'third'), { step: 0, extra: {} });
  assert.is(JSON.parse(readFileSync(join(root, 'third', 'config.json'), 'utf8')).lora.base, join('..', 'base'));
  const q3 = await Policy.load(join(root, 'third'), ops);
  assert.ok(maxDiff(logProbs(q3), continued) < 1e-6, `continued: ${maxDiff(logProbs(q3), continued)}`);
  q3.dispose();
  // merged weights belong to no checkpoint: adapters on them cannot be saved
  q2.mergeLora();
  q2.addLora({ rank: 2, alpha: 2 }, 1);
  assert.throws(() => q2.save(join(root, 'fourth'), { step: 0, extra: {} }), /base checkpoint/);
  q2.dispose();
  q.dispose();
  p.dispose();
  // an untrained policy earns no GRPO reward, so let SFT show that gradients reach the adapters
  const r = await Policy.load(join(root, 'base'), ops);
  r.addLora({ rank: 4, alpha: 8 }, 3);
  await trainSft({
    policy: r,
    run: new RunDir(join(root, 'sft')),
    train: groundingSplit('train', { count: 8 }),
    config: { ...DEFAULT_SFT, steps: 3, batchSize: 4, lr: 1e-2, checkpointEvery: 3 },
    seed: 1,
    quiet: true,
  });
  for (const [k, v] of r.params) assert.equal(v.dataSync(), weights.get(k), `${k} must stay frozen in SFT too`);
  const bs = [...r.lora!.adapters].filter(([k]) => k.endsWith('lora_b'));
  assert.ok(
    bs.every(([, v]) => v.dataSync().some((x) => x !== 0)),
    'every B moved',
  );
  r.dispose();
  rmSync(root, { recursive: true, force: true });
});

test.run();
