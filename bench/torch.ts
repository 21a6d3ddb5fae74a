/**
 * The workbench against PyTorch on the same CPU: the GRPO step of the default policy in the
 * trainer's arithmetic (`blas` backend) and the same model written plainly in PyTorch
 * (bench/torch_grpo.py, Debian's `python3-torch`), same shapes, same phases, the same thread
 * count, rounds interleaved (one step of each per round) so that a slow spell hits both. With one
 * thread and with two (PyTorch at the faster of two splits of them between OpenMP and OpenBLAS);
 * then how cost grows with width, depth, group size and rollout length. PyTorch's process keeps
 * its freed memory (TORCH_MALLOC_ENV), which makes its step faster, never slower.
 *
 * Prints `grpo-step vs torch (N thread(s)): R.RRx` — PyTorch's step time over ours (higher is
 * better). Skipped, with one line, when PyTorch or the blas backend is missing.
 *
 *   npm run bench -- torch
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/backend';
import { blasAvailable } from '../lib/native/addon';
import { installBlasKernels } from '../lib/native/kernels';
import { Policy } from '../lib/model/policy';
import { AdamW, DEFAULT_OPTIM } from '../lib/model/optimizer';
import { DEFAULT_GRPO } from '../lib/train-grpo';
import { groundingSplit } from '../lib/data/splits';
import { Rng } from '../lib/rng';
import { SCALES } from '../experiments/scales';
import { PROJECT_ROOT } from '../lib/files';
import { countParameters, type PolicyArch } from '../lib/model/network';
import { fmtMs, table } from './harness';
import { grpoStep, type StepTiming } from './train';

/** Debian's interpreter: the one `apt-get install python3-torch` serves (a pyenv python3 on PATH may not). */
const PYTHON = process.env.RSG_TORCH_PYTHON ?? '/usr/bin/python3';
const PHASES = ['sample', 'ref', 'fwdbwd', 'optim', 'total'] as const;
type Phase = (typeof PHASES)[number];
const PHASE_LABEL: Record<Phase, string> = {
  sample: 'sample',
  ref: 'reference fwd',
  fwdbwd: 'fwd+bwd',
  optim: 'optimizer',
  total: 'GRPO step',
};
type Times = Record<Phase, number>;
type Shape = { arch: PolicyArch; group: number; maxLen: number; queries: number };

/**
 * glibc's malloc, at its defaults, serves PyTorch's large activations and gradients from fresh
 * mmap'd pages and returns them after every step, so each step page-faults them in again. With
 * the mmap threshold at its ceiling (32 MiB on 64-bit) and trimming off, they stay in the heap.
 * Measured here (one thread, default policy): PyTorch's step 640-770 ms → 395-455 ms, fwd+bwd
 * 350-480 → 145-190 ms; trimming off alone made it far slower (fwd+bwd ~2 s), the threshold
 * alone changed nothing. So PyTorch is compared at the best allocator setting found for it.
 * (Our tensors live in the wasm heap, which is never handed back.)
 */
export const TORCH_MALLOC_ENV = {
  MALLOC_MMAP_THRESHOLD_: String(32 << 20),
  MALLOC_TRIM_THRESHOLD_: String(2 ** 31),
};

/** Why PyTorch cannot be compared here, or null when it can. */
export function torchUnavailable(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0)
    return `${PYTHON} cannot import torch (on Debian: apt-get install python3-torch; or set RSG_TORCH_PYTHON)`;
  return null;
}

/** A PyTorch process running the same step on demand. */
class TorchWorker {
  private readonly lines: AsyncIterator<string>;
  /** the PyTorch model's parameter count (the same architecture has ours) */
  params = 0;
  private constructor(private readonly child: ReturnType<typeof spawn>) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  /** `blasThreads`: OpenBLAS's threads (Debian's torch runs its matmuls there), OpenMP's are `threads`. */
  static async start(shape: Shape, vocab: number, threads: number, blasThreads = threads): Promise<TorchWorker> {
    const cfg = {
      ...shape.arch,
      vocab,
      threads,
      queries: shape.queries,
      group: shape.group,
      maxLen: shape.maxLen,
    };
    const child = spawn(PYTHON, [join(PROJECT_ROOT, 'bench', 'torch_grpo.py'), JSON.stringify(cfg)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      // OpenMP (PyTorch's own kernels) and OpenBLAS (Debian's torch calls it for matmuls) set
      // explicitly; an inherited OPENBLAS_NUM_THREADS would otherwise override the choice.
      env: {
        ...process.env,
        ...TORCH_MALLOC_ENV,
        OMP_NUM_THREADS: String(threads),
        OPENBLAS_NUM_THREADS: String(blasThreads),
      },
    });
    const w = new TorchWorker(child);
    const first = await w.lines.next();
    const m = first.done ? null : /^ready (\d+)$/.exec(first.value);
    if (!m) throw new Error(`torch_grpo.py did not start (got ${first.value})`);
    w.params = Number(m[1]);
    return w;
  }

  async step(): Promise<Times> {
    this.child.stdin!.write('step\n');
    const r = await this.lines.next();
    if (r.done) throw new Error('torch_grpo.py exited');
    return JSON.parse(r.value) as Times;
  }

  stop(): void {
    this.child.stdin!.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medians = (xs: Times[]): Times =>
  Object.fromEntries(PHASES.map((p) => [p, median(xs.map((x) => x[p]))])) as Times;

/** Steps each side runs before the timed rounds (bench/torch_grpo.py's WARMUP_STEPS). */
const WARMUP_STEPS = 3;

/**
 * Interleaved rounds of our step and PyTorch's at one shape and thread count: medians per phase.
 * With several OpenBLAS thread counts for PyTorch (`torchBlas`), each runs in every round and the
 * comparison takes the one whose step is fastest: PyTorch at its best split of the threads.
 */
async function compare(
  shape: Shape,
  threads: number,
  reps: number,
  torchBlas: number[] = [threads],
): Promise<{
  ours: Times;
  torch: Times;
  torchBlas: number;
  others: { blas: number; total: number }[];
  rounds: number[];
}> {
  const { ops } = await selectBackend('blas');
  installBlasKernels(threads);
  const policy = Policy.create(shape.arch, 1, ops);
  const ref = policy.frozenCopy();
  const opt = new AdamW(policy.params, DEFAULT_OPTIM, ops);
  const rng = new Rng(1);
  const queries = groundingSplit('train', { count: shape.queries });
  const workers: TorchWorker[] = [];
  const run = () => grpoStep(policy, ref, opt, queries, rng, false, shape);
  const ours: StepTiming[] = [],
    theirs: Times[][] = torchBlas.map(() => []);
  try {
    for (const b of torchBlas) workers.push(await TorchWorker.start(shape, policy.cfg.vocabSize, threads, b));
    // the same architecture: the same parameters, to the number
    if (workers[0].params !== countParameters(policy.params))
      throw new Error(
        `torch_grpo.py has ${workers[0].params} parameters, the policy ${countParameters(policy.params)}`,
      );
    // warm-up: the first steps run slower (JIT, allocator); PyTorch warmed up as many on start
    for (let i = 0; i < WARMUP_STEPS; i++) await run();
    for (let i = 0; i < reps; i++) {
      ours.push(await run());
      for (let w = 0; w < workers.length; w++) theirs[w].push(await workers[w].step());
    }
  } finally {
    for (const w of workers) w.stop();
    tf.dispose([...policy.params.values(), ...ref.params.values()]);
    opt.dispose();
  }
  const all = theirs.map(medians);
  const best = all.reduce((b, t, i) => (t.total < all[b].total ? i : b), 0);
  return {
    ours: medians(ours),
    torch: all[best],
    torchBlas: torchBlas[best],
    others: all.flatMap((t, i) => (i === best ? [] : [{ blas: torchBlas[i], total: t.total }])),
    // each round's step ratio (PyTorch's over ours, the same round): how far the host's spells move it
    rounds: ours.map((o, i) => theirs[best][i].total / o.total),
  };
}

const ratio = (torch: number, ours: number) => `${(torch / ours).toFixed(2)}x`;

export async function benchTorch(opts: { reps?: number; scalingReps?: number } = {}): Promise<void> {
  console.log('\n## Against PyTorch: the GRPO step, same model, shapes and threads\n');
  const why = !blasAvailable() ? 'the blas backend is not built (bash scripts/setup.sh)' : torchUnavailable();
  if (why) {
    console.log(`torch: skipped — ${why}`);
    return;
  }
  const reps = opts.reps ?? 7;
  const base: Shape = {
    arch: SCALES.default.arch,
    group: DEFAULT_GRPO.group,
    maxLen: DEFAULT_GRPO.maxLen,
    queries: DEFAULT_GRPO.queriesPerStep,
  };
  const byThreads = new Map<number, Awaited<ReturnType<typeof compare>>>();
  // With two threads PyTorch may do better with OpenBLAS on one (its OpenMP kernels and OpenBLAS's
  // pool can contend for the two cores): both splits run, the faster is the one compared.
  for (const threads of [1, 2])
    byThreads.set(threads, await compare(base, threads, reps, threads === 1 ? [1] : [2, 1]));
  const header = ['phase'];
  for (const t of byThreads.keys()) header.push(`ours (${t}t)`, `torch (${t}t)`, `torch / ours (${t}t)`);
  const rows: string[][] = [header];
  for (const p of PHASES) {
    const row = [PHASE_LABEL[p]];
    for (const r of byThreads.values()) row.push(fmtMs(r.ours[p]), fmtMs(r.torch[p]), ratio(r.torch[p], r.ours[p]));
    rows.push(row);
  }
  console.log(
    `(default policy, B ${base.queries} × G ${base.group}, ${base.maxLen}-token rollouts of an untrained policy; ` +
      `medians of ${reps} interleaved rounds; ours: blas backend, its GRPO step also scores the rollouts)`,
  );
  console.log(table(rows));
  // The addon sets OPENBLAS_CORETYPE before OpenBLAS loads (lib/native/addon.ts); PyTorch's process
  // inherits this environment, so both sides run the same OpenBLAS kernels.
  console.log(`OpenBLAS kernels, both sides: ${process.env.OPENBLAS_CORETYPE ?? "OpenBLAS's own choice for this CPU"}`);
  for (const [t, r] of byThreads)
    for (const o of r.others)
      console.log(
        `torch (${t}t) is OpenMP ${t} × OpenBLAS ${r.torchBlas}, its faster split: with OpenBLAS ${o.blas} ` +
          `its step took ${fmtMs(o.total)}`,
      );
  for (const [t, r] of byThreads) {
    const rs = [...r.rounds].sort((a, b) => a - b);
    console.log(
      `round by round (${t}t): torch / ours ${rs[0].toFixed(2)}–${rs[rs.length - 1].toFixed(2)}x over ` +
        `${rs.length} rounds, median ${median(rs).toFixed(2)}x`,
    );
  }
  for (const [t, r] of byThreads)
    console.log(`grpo-step vs torch (${t} thread${t === 1 ? '' : 's'}): ${ratio(r.torch.total, r.ours.total)}`);

  // How cost grows: one thread, one knob at a time from the default.
  const sReps = opts.scalingReps ?? 3;
  if (sReps < 1) return; // the main table only
  const d = SCALES.default.arch;
  const grid: [string, Shape][] = [
    ['default', base],
    ['d 128', { ...base, arch: { ...d, dModel: 128 } }],
    ['d 256', { ...base, arch: { ...d, dModel: 256 } }],
    ['4+4 layers', { ...base, arch: { ...d, nEncLayers: 4, nDecLayers: 4 } }],
    ['d 256, 4+4 layers', { ...base, arch: { ...d, dModel: 256, nEncLayers: 4, nDecLayers: 4 } }],
    ['G 4', { ...base, group: 4 }],
    ['G 16', { ...base, group: 16 }],
    ['32 tokens', { ...base, maxLen: 32 }],
    ['128 tokens', { ...base, maxLen: 128, arch: { ...d, maxCompletionLen: 128 } }],
  ];
  const srows: string[][] = [['shape', 'ours', 'torch', 'torch / ours']];
  const measured: { name: string; ours: number; torch: number }[] = [];
  for (const [name, shape] of grid) {
    const r = name === 'default' ? byThreads.get(1)! : await compare(shape, 1, sReps);
    measured.push({ name, ours: r.ours.total, torch: r.torch.total });
    srows.push([name, fmtMs(r.ours.total), fmtMs(r.torch.total), ratio(r.torch.total, r.ours.total)]);
  }
  console.log(`\nHow the GRPO step grows (one thread; medians of ${sReps} rounds, the default row of ${reps}):`);
  console.log(table(srows));
  console.log(`\n${barChart(measured)}`);
}

/** The scaling table as a text bar chart in the bench output: ms per step, ours (#) and PyTorch (=). */
function barChart(rows: { name: string; ours: number; torch: number }[], width = 50): string {
  const max = Math.max(...rows.flatMap((r) => [r.ours, r.torch]));
  const label = Math.max(...rows.map((r) => r.name.length));
  const bar = (ms: number, ch: string) => ch.repeat(Math.max(1, Math.round((width * ms) / max)));
  return rows
    .flatMap((r) => [
      `${r.name.padEnd(label)}  ours  ${bar(r.ours, '#')} ${fmtMs(r.ours)}`,
      `${''.padEnd(label)}  torch ${bar(r.torch, '=')} ${fmtMs(r.torch)}`,
    ])
    .join('\n');
}
