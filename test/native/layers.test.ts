/**
 * The blas backend's whole-layer op (lib/native/layers.ts, `Ops.layer`) against the same layers
 * composed op by op from the blas ops (the same `Ops` without `layer`): a policy's loss and every
 * parameter's gradient equal bit for bit (encoder with padded queries, decoder with G rows per
 * query, the position readout on and off), the forward pass alone too, and no tensor is left behind.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/backend';
import { blasAvailable, blasUnavailableReason } from '../../lib/native/addon';
import type { Ops } from '../../lib/model/ops';
import { Policy } from '../../lib/model/policy';
import { grpoLoss, sequenceLogProbs, sequenceTensors, sftLoss } from '../../lib/loss';
import { type Net, decode, crossKV, disposeEncoderInput, encode } from '../../lib/model/network';
import { groundingSplit } from '../../lib/data/splits';
import { Rng } from '../../lib/rng';
import { TINY } from '../helpers';

const available = blasAvailable();
if (!available) console.log(`blas layer tests skipped: ${blasUnavailableReason()}`);
const t = available ? test : test.skip;
const fused: Ops | null = available ? (await selectBackend('blas')).ops : null;
const composed: Ops | null = fused ? { ...fused, layer: undefined } : null;

/** A policy with perturbed weights (no zero gradients by symmetry), a batch of G rollouts per query. */
function setup(readout: boolean, G = 3) {
  const arch = { ...TINY, nEncLayers: 2, nDecLayers: 2, maxCompletionLen: 20, positionReadout: readout };
  const policy = Policy.create(arch, 5, fused!);
  let k = 0;
  for (const v of policy.params.values())
    v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 200 + k++))));
  // queries of different lengths: the encoder's key mask hides the padding
  const samples = groundingSplit('val', { count: 3 });
  const enc = policy.encoderInput(samples);
  const rng = new Rng(11);
  const seqs = Array.from({ length: 3 * G }, (_, n) =>
    Array.from({ length: 2 + (n % 5) }, () => rng.int(0, policy.tok.size - 1)),
  );
  const batch = { enc, group: G, ...sequenceTensors(seqs, policy.tok.bosId, policy.tok.padId) };
  const nets = {
    fused: { params: policy.params, cfg: policy.cfg, ops: fused! } as Net,
    composed: { params: policy.params, cfg: policy.cfg, ops: composed! } as Net,
  };
  const dispose = () => {
    tf.dispose([batch.inputIds, batch.targets, batch.mask]);
    disposeEncoderInput(enc);
    policy.dispose();
  };
  return { policy, batch, nets, G, dispose };
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

function sameBits(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.is(a.length, b.length, `${what}: as many outputs`);
  a.forEach((x, i) => {
    assert.is(x.length, b[i].length, `${what}: output ${i} has another size`);
    const [p, q] = [bits(x), bits(b[i])];
    const at = p.findIndex((v, j) => v !== q[j]);
    assert.is(at, -1, `${what}: output ${i} differs at ${at}: ${x[at]} vs ${b[i][at]}`);
  });
}

for (const readout of [true, false]) {
  t(`SFT and GRPO losses and every parameter's gradient equal the composed layers' bits (readout ${readout})`, () => {
    const { policy, batch, nets, dispose } = setup(readout);
    const vars = [...policy.params.values()];
    const N = batch.inputIds.shape[0];
    const adv = Float32Array.from({ length: N }, (_, i) => ((i * 7) % 5) - 2);
    const losses = {
      sft: (net: Net) => sftLoss(net, batch),
      grpo: (net: Net) =>
        grpoLoss(net, batch, {
          advantages: adv,
          weights: Float32Array.from({ length: N }, (_, i) => 0.5 + (i % 3) / 2),
          refLogProbs: null,
          epsilon: 0.2,
          betaKL: 0,
        }).loss,
    };
    for (const [name, loss] of Object.entries(losses)) {
      const run = (net: Net) =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => loss(net), vars);
          return [value.dataSync() as Float32Array, ...vars.map((v) => grads[v.name].dataSync() as Float32Array)];
        });
      const a = run(nets.composed),
        b = run(nets.fused);
      assert.ok(
        a.slice(1).every((g) => g.some((x) => x !== 0)),
        `${name}: every parameter gets a gradient`,
      );
      sameBits(a, b, name);
    }
    dispose();
  });
}

t('the forward pass alone (no gradient taken) equals the composed layers and frees what it made', () => {
  const { batch, nets, dispose } = setup(true, 2);
  const logits = (net: Net) =>
    tf.tidy(() => {
      const kv = crossKV(net, encode(net, batch.enc));
      const out = decode(net, batch.inputIds, kv, batch.enc.keyMask, batch.group);
      return [out.dataSync() as Float32Array, sequenceLogProbs(net, batch).dataSync() as Float32Array];
    });
  const a = logits(nets.composed);
  const before = tf.memory().numTensors;
  const b = logits(nets.fused);
  assert.is(tf.memory().numTensors, before, 'no tensor left behind');
  sameBits(a, b, 'logits');
  dispose();
});

t('a training pass through the fused layers leaves no tensor behind', () => {
  const { policy, batch, nets, dispose } = setup(true);
  const vars = [...policy.params.values()];
  const pass = () => {
    const { value, grads } = tf.variableGrads(() => sftLoss(nets.fused, batch), vars);
    tf.dispose([value, ...Object.values(grads)]);
  };
  pass(); // the first pass may make what later passes reuse
  const before = tf.memory().numTensors;
  pass();
  pass();
  assert.is(tf.memory().numTensors, before);
  dispose();
});

t('the layer refuses position codes without the readout gate (and the gate without codes)', () => {
  const { policy, nets, dispose } = setup(false, 1);
  const d = policy.cfg.dModel;
  const p = (s: string) => policy.params.get(s)!;
  const pair = (s: string, first = 'w') => [p(`dec0.${s}.${first}`), p(`dec0.${s}.b`)] as const;
  const w = {
    ln1: pair('ln1', 'g'),
    qkv: pair('qkv'),
    attnOut: pair('attn_out'),
    cross: { ln: pair('lnx', 'g'), q: pair('xq'), out: pair('x_out') },
    ln2: pair('ln2', 'g'),
    fc1: pair('fc1'),
    fc2: pair('fc2'),
  };
  tf.tidy(() => {
    const x = tf.zeros([2, 3, d]);
    const cross = {
      k: tf.zeros([2, 4, d]),
      v: tf.zeros([2, 4, d]),
      mask: tf.zeros([2, 4]),
      pos: tf.zeros([4, d]),
      G: 1,
    };
    assert.throws(
      () => nets.fused.ops.layer!(x, w, { heads: 2, eps: 1e-5, causal: true, mask: null, cross }),
      /position codes and the readout gate/,
    );
  });
  dispose();
});

test.run();
