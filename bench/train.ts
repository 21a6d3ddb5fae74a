/**
 * Training speed on each available backend, measured in one run:
 * - a GRPO step at the default config, split into sampling, rewards, reference forward,
 *   forward+backward and optimizer; rollout tokens per second;
 * - an SFT step;
 * - the step's matmul FLOPs (counted from the kernels tfjs runs for it, on the layers composed op
 *   by op: blas's whole-layer op runs the same kernels out of tf.profile's sight) per second of
 *   the forward+backward as trained, against a matmul peak (1024³) measured on the same backend;
 * - every backend as a ratio to wasm, and one line `grpo-step speedup vs wasm: N.NNx`.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/backend';
import { blasAvailable } from '../lib/native/addon';
import { Policy } from '../lib/model/policy';
import type { Net } from '../lib/model/network';
import { grpoLoss, referenceLogProbs, sequenceTensors, sftLoss } from '../lib/loss';
import { AdamW, DEFAULT_OPTIM } from '../lib/model/optimizer';
import { groundingReward } from '../lib/rewards';
import { groupAdvantages, spatialConsistencyWeight } from '../lib/grpo';
import { DEFAULT_GRPO } from '../lib/train-grpo';
import { targetText } from '../lib/train-sft';
import { groundingSplit } from '../lib/data/splits';
import { Rng } from '../lib/rng';
import { SCALES } from '../experiments/scales';
import { fmtMs, table } from './harness';

export type StepTiming = {
  sample: number;
  score: number;
  ref: number;
  fwdbwd: number;
  optim: number;
  total: number;
  tokens: number;
  mmFlops: number;
};

/**
 * The network with its layers composed op by op (no `Ops.layer`): the same products on the same
 * shapes as the whole-layer op, each a kernel that tf.profile sees, so its FLOPs can be counted.
 */
export function composedLayers(net: Net): Net {
  return { params: net.params, cfg: net.cfg, ops: { ...net.ops, layer: undefined }, lora: net.lora };
}

/** FLOPs of the matMul kernels a profile ran: 2·batch·M·N·K, with M, N from the output and K = |A| / (batch_A·M). */
export function matmulFlops(kernels: { name: string; inputShapes: number[][]; outputShapes: number[][] }[]): number {
  let f = 0;
  for (const k of kernels) {
    // The fused attention kernels (blas) do their products inside: QKᵀ and PV forward, four
    // backward, per (batch, head), plus the position readout when the output is 2d wide.
    // q may come packed with k and v as one qkv [B, T, 3d] (self-attention, no readout).
    if (k.name === 'RsgAttention' || k.name === 'RsgAttentionGrad') {
      const fwd = k.name === 'RsgAttention';
      const probs = fwd ? k.outputShapes[1] : k.inputShapes.find((s) => s.length === 4)!;
      const W = fwd ? k.outputShapes[0][2] : k.inputShapes[0][2]; // the output's width: d, or 2d with the readout
      const qWidth = k.inputShapes[fwd ? 0 : 1][2];
      const d = qWidth === 3 * W ? W : qWidth; // Σ_heads Tq·Tk·dh = Tq·Tk·d
      const [B, , Tq, Tk] = probs;
      f += 2 * (fwd ? 2 : 4) * B * Tq * Tk * d + (W === 2 * d ? 2 * B * Tq * Tk * d : 0);
      continue;
    }
    // The fused linear layer (blas): x [rows, K]·w [K, N] forward; dz·wᵀ and xᵀ·dz backward.
    if (k.name === 'RsgLinear' || k.name === 'RsgLinearGrad') {
      const fwd = k.name === 'RsgLinear';
      const [rows, K] = k.inputShapes[fwd ? 0 : 1],
        N = k.inputShapes[fwd ? 1 : 2][1];
      f += (fwd ? 2 : 4) * rows * K * N;
      continue;
    }
    if (k.name !== 'BatchMatMul' && k.name !== '_FusedMatMul') continue;
    const a = k.inputShapes[0],
      out = k.outputShapes[0];
    const M = out[out.length - 2],
      N = out[out.length - 1];
    const batch = out.slice(0, -2).reduce((x, y) => x * y, 1);
    const batchA = a.slice(0, -2).reduce((x, y) => x * y, 1);
    const K = a.reduce((x, y) => x * y, 1) / (batchA * M);
    f += 2 * batch * M * N * K;
  }
  return f;
}

/**
 * The backend's 1024³ matMul in GFLOP/s: the best of three products. Each is waited for by reading
 * one entry of its result (a backend may run kernels asynchronously); reading all of it would time
 * a 4 MB copy into a fresh array as well, which on this VM took as long again as the product.
 */
async function peakGflops(): Promise<number> {
  const n = 1024;
  const a = tf.randomNormal([n, n]),
    b = tf.randomNormal([n, n]);
  tf.matMul(a, b).dispose();
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    const one = c.slice([0, 0], [1, 1]);
    one.dataSync();
    best = Math.min(best, performance.now() - t0);
    tf.dispose([c, one]);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

/** One GRPO step of the trainer's arithmetic, timed by phase (group and rollout length default to DEFAULT_GRPO's). */
export async function grpoStep(
  policy: Policy,
  ref: Policy,
  opt: AdamW,
  queries: ReturnType<typeof groundingSplit>,
  rng: Rng,
  profile: boolean,
  shape: { group?: number; maxLen?: number } = {},
): Promise<StepTiming> {
  const G = shape.group ?? DEFAULT_GRPO.group,
    cfg = DEFAULT_GRPO;
  const t0 = performance.now();
  const gen = policy.generate(queries, rng, {
    group: G,
    temperature: 1,
    maxLen: shape.maxLen ?? cfg.maxLen,
    greedy: false,
  });
  const t1 = performance.now();
  const scores = gen.texts.map((text, n) =>
    groundingReward(text, queries[Math.floor(n / G)].gt, { imageWidth: 64, imageHeight: 64 }, cfg.reward),
  );
  const adv = new Float32Array(scores.length),
    w = new Float32Array(scores.length);
  for (let b = 0; b < queries.length; b++) {
    const grp = scores.slice(b * G, (b + 1) * G);
    groupAdvantages(grp.map((r) => r.total)).forEach((a, g) => (adv[b * G + g] = a));
    w.fill(spatialConsistencyWeight(grp.map((r) => r.iou)), b * G, (b + 1) * G);
  }
  const t2 = performance.now();
  const enc = policy.encoderInput(queries);
  const seqs = sequenceTensors(gen.ids, policy.tok.bosId, policy.tok.padId);
  const batch = { enc, group: G, ...seqs };
  const refLp = referenceLogProbs(ref, batch); // as lib/train-grpo.ts: the backend's inference decoder
  refLp.dataSync();
  const t3 = performance.now();
  const update = (net: Net) =>
    tf.variableGrads(
      () => grpoLoss(net, batch, { advantages: adv, weights: w, refLogProbs: refLp, epsilon: 0.2, betaKL: 0.04 }).loss,
      [...policy.trainable.values()],
    );
  const g = update(policy);
  g.value.dataSync();
  const t4 = performance.now();
  opt.apply(g.grads);
  const t5 = performance.now();
  let mmFlops = 0;
  if (profile) {
    // untimed: the same pass's products, counted on the composed layers
    const info = await tf.profile(() => {
      const c = update(composedLayers(policy));
      c.value.dataSync();
      tf.dispose([c.value, ...Object.values(c.grads)]);
    });
    mmFlops = matmulFlops(info.kernels as never);
  }
  tf.dispose([
    g.value,
    ...Object.values(g.grads),
    refLp,
    enc.patches,
    enc.queryIds,
    enc.keyMask,
    seqs.inputIds,
    seqs.targets,
    seqs.mask,
  ]);
  const tokens = gen.ids.reduce((s, r) => s + r.length, 0);
  return {
    sample: t1 - t0,
    score: t2 - t1,
    ref: t3 - t2,
    fwdbwd: t4 - t3,
    optim: t5 - t4,
    total: t5 - t0,
    tokens,
    mmFlops,
  };
}

function sftStep(policy: Policy, opt: AdamW, batch: ReturnType<typeof groundingSplit>): number {
  const t0 = performance.now();
  const enc = policy.encoderInput(batch);
  const seqs = sequenceTensors(
    batch.map((s) => policy.completionIds(targetText(s, 'rsground'))),
    policy.tok.bosId,
    policy.tok.padId,
  );
  const { value, grads } = tf.variableGrads(
    () => sftLoss(policy, { enc, group: 1, ...seqs }),
    [...policy.params.values()],
  );
  value.dataSync();
  opt.apply(grads);
  tf.dispose([
    value,
    ...Object.values(grads),
    enc.patches,
    enc.queryIds,
    enc.keyMask,
    seqs.inputIds,
    seqs.targets,
    seqs.mask,
  ]);
  return performance.now() - t0;
}

export async function benchTrain(
  opts: { backends?: string[]; reps?: number } = {},
): Promise<Record<string, { grpo: number; sft: number }>> {
  const arch = SCALES.default.arch;
  const backends = opts.backends ?? [...(blasAvailable() ? ['blas'] : []), 'wasm', 'cpu'];
  const queries = groundingSplit('train', { count: DEFAULT_GRPO.queriesPerStep });
  const sftBatch = groundingSplit('train', { start: 100, count: SCALES.default.sft.batchSize });
  console.log(
    `\n## Training steps (default config: policy ${JSON.stringify(arch)}; GRPO B=${DEFAULT_GRPO.queriesPerStep}, ` +
      `G=${DEFAULT_GRPO.group}, maxLen ${DEFAULT_GRPO.maxLen}; SFT batch ${sftBatch.length})\n`,
  );
  const rows: (string | number)[][] = [
    [
      'backend',
      'sample',
      'rewards',
      'ref fwd',
      'fwd+bwd',
      'optimizer',
      'GRPO step',
      'SFT step',
      'tokens/s',
      'matmul GFLOP/s',
      'peak GFLOP/s',
      'of peak',
    ],
  ];
  const res: Record<string, { grpo: number; sft: number }> = {};
  type State = {
    policy: Policy;
    ref: Policy;
    opt: AdamW;
    rng: Rng;
    steps: StepTiming[];
    sft: number[];
    peak: number[];
  };
  const states = new Map<string, State>();
  const start = async (name: string) => {
    const { ops } = await selectBackend(name);
    const policy = Policy.create(arch, 1, ops);
    const st: State = {
      policy,
      ref: policy.frozenCopy(),
      opt: new AdamW(policy.params, DEFAULT_OPTIM, ops),
      rng: new Rng(1),
      steps: [],
      sft: [],
      peak: [],
    };
    await grpoStep(st.policy, st.ref, st.opt, queries, st.rng, false); // warm-up
    sftStep(st.policy, st.opt, sftBatch);
    states.set(name, st);
  };
  const round = async (name: string, st: State) => {
    await selectBackend(name);
    st.steps.push(await grpoStep(st.policy, st.ref, st.opt, queries, st.rng, st.steps.length === 0));
    st.sft.push(sftStep(st.policy, st.opt, sftBatch));
    st.peak.push(await peakGflops());
  };
  // Rounds: one GRPO step, one SFT step and one peak measurement per backend each round, so a
  // slow spell of the machine (shared hosts) hits every backend alike. cpu gets one round, after
  // the others' rounds: its tensors are JavaScript arrays, and steps measured after its steps in
  // the same process ran ~15% slower (bench/run.ts).
  for (const name of backends) if (name !== 'cpu') await start(name);
  const reps = opts.reps ?? 5;
  for (let i = 0; i < reps; i++) for (const [name, st] of states) await round(name, st);
  if (backends.includes('cpu')) {
    await start('cpu');
    await round('cpu', states.get('cpu')!);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [name, st] of states) {
    const med = (k: keyof StepTiming) => median(st.steps.map((s) => s[k]));
    const sft = median(st.sft),
      peak = Math.max(...st.peak);
    const gflops = st.steps[0].mmFlops / (med('fwdbwd') / 1000) / 1e9;
    res[name] = { grpo: med('total'), sft };
    rows.push([
      name,
      fmtMs(med('sample')),
      fmtMs(med('score')),
      fmtMs(med('ref')),
      fmtMs(med('fwdbwd')),
      fmtMs(med('optim')),
      fmtMs(med('total')),
      fmtMs(sft),
      (med('tokens') / (med('sample') / 1000)).toFixed(0),
      gflops.toFixed(2),
      peak.toFixed(1),
      `${((100 * gflops) / peak).toFixed(1)}%`,
    ]);
  }
  for (const [name, st] of states) {
    await selectBackend(name);
    tf.dispose([...st.policy.params.values(), ...st.ref.params.values()]);
    st.opt.dispose();
  }
  console.log(
    `(medians of ${reps} interleaved rounds; cpu: one round; ` +
      'peak: the fastest 1024³ matMul of the rounds, three a round)',
  );
  console.log(table(rows));
  console.log(
    '\n(tokens/s: rollout tokens generated per second of sampling; matmul GFLOP/s: FLOPs of the matMul kernels in ' +
      'the forward+backward pass over its time)',
  );
  if (res.wasm) {
    for (const [name, r] of Object.entries(res))
      if (name !== 'wasm')
        console.log(
          `${name}: GRPO step ${(res.wasm.grpo / r.grpo).toFixed(2)}x, SFT step ` +
            `${(res.wasm.sft / r.sft).toFixed(2)}x the speed of wasm`,
        );
    const best = Object.entries(res)
      .filter(([n]) => n !== 'wasm')
      .sort((a, b) => a[1].grpo - b[1].grpo)[0];
    if (best) console.log(`grpo-step speedup vs wasm: ${(res.wasm.grpo / best[1].grpo).toFixed(2)}x`);
  }
  return res;
}

/**
 * Training time of an experiment at default scale on each backend, estimated from the step
 * times just measured × the experiment's optimizer steps (SFT-like stages × SFT step, GRPO ×
 * GRPO step; evaluation excluded), serial and with `jobs` worker processes. The measured
 * end-to-end wall time of a real run is in the run logs; this is the same-run comparison.
 */
export async function benchSuiteEstimate(res: Record<string, { grpo: number; sft: number }>, jobs = 2): Promise<void> {
  const { PAPER_SUITE, findExperiment } = await import('../experiments/registry');
  const { resolveConfig } = await import('../experiments/runner');
  const { lineage, stageName } = await import('../lib/pipeline');
  const stepsOf = (names: string[]) => {
    const all = new Map<string, import('../lib/pipeline').StageSpec>();
    for (const n of names)
      for (const s of findExperiment(n).specs(resolveConfig(n).config))
        for (const x of lineage(s)) all.set(stageName(x), x);
    let sft = 0,
      grpo = 0,
      base = 0;
    for (const s of all.values()) {
      if (s.kind === 'grpo') grpo += s.grpo.steps;
      else if (s.kind === 'base') base += s.sft.steps;
      else sft += s.sft.steps;
    }
    return { base, sft, grpo };
  };
  const rows: (string | number)[][] = [
    ['backend', 'table3-components (serial)', `(${jobs} jobs)`, 'nine-experiment suite (serial)', `(${jobs} jobs)`],
  ];
  const t3 = stepsOf(['table3-components']);
  const suite = stepsOf(PAPER_SUITE.map((e) => e.name));
  // The base stage runs alone (everything waits for it); the rest spreads over the jobs.
  const time = (s: { base: number; sft: number; grpo: number }, r: { grpo: number; sft: number }, j: number) =>
    (s.base * r.sft + (s.sft * r.sft + s.grpo * r.grpo) / j) / 1000;
  const h = (sec: number) => `${(sec / 3600).toFixed(2)} h`;
  for (const [name, r] of Object.entries(res))
    rows.push([name, h(time(t3, r, 1)), h(time(t3, r, jobs)), h(time(suite, r, 1)), h(time(suite, r, jobs))]);
  console.log(
    `\n## Default-scale training time, estimated from the step times above (table3-components: ${t3.base} base + ` +
      `${t3.sft} SFT + ${t3.grpo} GRPO steps; the paper's nine experiments: ${suite.base} + ${suite.sft} + ` +
      `${suite.grpo})\n\n(a comparison of backends, not a forecast: the bench's GRPO step samples an untrained ` +
      "policy's full 64-token rollouts, longer than a trained policy's, and the bases are counted one after " +
      'another; `npm run experiment suite -- --plan` prices a run from the stages measured in a runs directory)\n',
  );
  console.log(table(rows));
  if (res.wasm) {
    const best = Object.entries(res)
      .filter(([n]) => n !== 'wasm')
      .sort((a, b) => a[1].grpo - b[1].grpo)[0];
    // before: the wasm backend, one process; after: the best backend with one process per core
    if (best)
      console.log(
        `suite speedup vs wasm (1 process → ${best[0]}, ${jobs} jobs): ` +
          `${(time(suite, res.wasm, 1) / time(suite, best[1], jobs)).toFixed(2)}x; table3-components: ` +
          `${(time(t3, res.wasm, 1) / time(t3, best[1], jobs)).toFixed(2)}x`,
      );
  }
}
