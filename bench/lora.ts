/**
 * LoRA against full fine-tuning (paper 002 trains rank-8 adapters, α 16): the GRPO step of the
 * default policy with adapters on every linear layer vs every weight trained, on each backend,
 * rounds interleaved; trainable parameters and the AdamW state they need. The training forward
 * adds x·A·B beside x·W (both through the backend's matMul); sampling merges W + (α/r)·A·B once per
 * call and the reference is a merged copy, so those two phases should cost what full fine-tuning's do.
 *
 *   npm run bench -- lora
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/backend';
import { blasAvailable } from '../lib/native/addon';
import { Policy } from '../lib/model/policy';
import { countParameters } from '../lib/model/network';
import { DEFAULT_LORA } from '../lib/model/lora';
import { AdamW, DEFAULT_OPTIM } from '../lib/model/optimizer';
import { DEFAULT_GRPO } from '../lib/train-grpo';
import { groundingSplit } from '../lib/data/splits';
import { Rng } from '../lib/rng';
import { SCALES } from '../experiments/scales';
import { fmtMs, table } from './harness';
import { grpoStep, type StepTiming } from './train';

const PHASES = ['sample', 'ref', 'fwdbwd', 'optim', 'total'] as const;

export async function benchLora(opts: { reps?: number } = {}): Promise<void> {
  const reps = opts.reps ?? 3;
  const backends = [...(blasAvailable() ? ['blas'] : []), 'wasm'];
  const queries = groundingSplit('train', { count: DEFAULT_GRPO.queriesPerStep });
  console.log(
    `\n## LoRA (rank ${DEFAULT_LORA.rank}, α ${DEFAULT_LORA.alpha}) vs full fine-tuning: the default GRPO step ` +
      `(B ${DEFAULT_GRPO.queriesPerStep} × G ${DEFAULT_GRPO.group})\n`,
  );
  const rows: string[][] = [
    ['backend', 'training', 'trainable', 'AdamW state', 'sample', 'ref fwd', 'fwd+bwd', 'optimizer', 'GRPO step'],
  ];
  const lines: string[] = [];
  for (const name of backends) {
    const { ops } = await selectBackend(name);
    const make = (lora: boolean) => {
      const policy = Policy.create(SCALES.default.arch, 1, ops);
      if (lora) policy.addLora(DEFAULT_LORA, 1);
      return {
        lora,
        policy,
        ref: policy.frozenCopy(),
        opt: new AdamW(policy.trainable, DEFAULT_OPTIM, ops),
        rng: new Rng(1),
        steps: [] as StepTiming[],
      };
    };
    const runs = [make(false), make(true)];
    for (const r of runs) await grpoStep(r.policy, r.ref, r.opt, queries, r.rng, false); // warm-up
    for (let i = 0; i < reps; i++)
      for (const r of runs) r.steps.push(await grpoStep(r.policy, r.ref, r.opt, queries, r.rng, false));
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const totals: number[] = [];
    for (const r of runs) {
      const n = countParameters(r.policy.trainable);
      const t = Object.fromEntries(PHASES.map((p) => [p, med(r.steps.map((s) => s[p]))])) as Record<string, number>;
      totals.push(t.total);
      rows.push([
        name,
        r.lora ? 'LoRA' : 'full',
        n.toLocaleString('en'),
        `${((2 * 4 * n) / 2 ** 20).toFixed(2)} MB`,
        ...PHASES.map((p) => fmtMs(t[p])),
      ]);
      tf.dispose([...r.policy.params.values(), ...r.ref.params.values()]);
      if (r.policy.lora) tf.dispose([...r.policy.lora.adapters.values()]);
      r.opt.dispose();
    }
    lines.push(`lora-step vs full (${name}): ${(totals[0] / totals[1]).toFixed(2)}x`);
  }
  console.log(`(medians of ${reps} interleaved rounds; AdamW state: its two moments, float32)`);
  console.log(table(rows));
  console.log(lines.join('\n'));
}
