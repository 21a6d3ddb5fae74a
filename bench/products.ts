/**
 * How fast the default policy's matrix products run, one by one, on one thread of the blas backend:
 * the GRPO step's linear layers (rows = B·G·tokens) in the three orientations training uses, and
 * one attention head's products (batched as the attention kernels call them, one sgemm per head),
 * each against the 1024³ product measured in the same rounds. Where forward+backward's share of
 * the peak (`npm run bench -- train`) is lost: products that run near the peak cannot be the gap.
 *
 *   npm run bench -- products
 */
import { selectBackend } from '../lib/backend';
import { blasAvailable, blasUnavailableReason, loadNative } from '../lib/native/addon';
import { DEFAULT_GRPO } from '../lib/train-grpo';
import { SCALES } from '../experiments/scales';
import { fmtMs, table } from './harness';

type Product = { name: string; batch: number; M: number; N: number; K: number; tA: boolean; tB: boolean };

/** The products of one default GRPO step's forward+backward, by shape. */
export function policyProducts(): Product[] {
  const a = SCALES.default.arch;
  const rows = DEFAULT_GRPO.queriesPerStep * DEFAULT_GRPO.group * DEFAULT_GRPO.maxLen;
  const d = a.dModel,
    f = a.dModel * a.ffnMult,
    dh = a.dModel / a.nHeads,
    T = DEFAULT_GRPO.maxLen,
    S = (a.imageSize / a.patchSize) ** 2 + a.maxQueryLen;
  const heads = 256; // one call, many heads: the attention kernels' loop over (row, head)
  const p = (name: string, M: number, N: number, K: number, tA = false, tB = false, batch = 1): Product => ({
    name,
    batch,
    M,
    N,
    K,
    tA,
    tB,
  });
  return [
    p(`linear d→ffn, forward (${rows}×${f}×${d})`, rows, f, d),
    p(`linear ffn→d, forward (${rows}×${d}×${f})`, rows, d, f),
    p(`linear d→d, forward (${rows}×${d}×${d})`, rows, d, d),
    p(`linear d→ffn, input gradient (${rows}×${d}×${f}, Bᵀ)`, rows, d, f, false, true),
    p(`linear d→ffn, weight gradient (${d}×${f}×${rows}, Aᵀ)`, d, f, rows, true, false),
    p(`self-attention scores (${T}×${T}×${dh}, Bᵀ)`, T, T, dh, false, true, heads),
    p(`self-attention output (${T}×${dh}×${T})`, T, dh, T, false, false, heads),
    p(`self-attention key gradient (${T}×${dh}×${T}, Aᵀ)`, T, dh, T, true, false, heads),
    p(`cross-attention scores (${T}×${S}×${dh}, Bᵀ)`, T, S, dh, false, true, heads),
  ];
}

export async function benchProducts(rounds = 5): Promise<void> {
  console.log('\n## The policy’s matrix products, one thread (blas)\n');
  if (!blasAvailable()) {
    console.log(`products: skipped — ${blasUnavailableReason()}`);
    return;
  }
  await selectBackend('blas'); // one thread: the addon's and OpenBLAS's
  const n = loadNative()!;
  const all = [...policyProducts(), { name: 'peak: 1024³', batch: 1, M: 1024, N: 1024, K: 1024, tA: false, tB: false }];
  const data = all.map((p) => {
    const fill = (k: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(i) * 0.5);
    return { A: fill(p.batch * p.M * p.K), B: fill(p.batch * p.K * p.N), C: new Float32Array(p.batch * p.M * p.N) };
  });
  const run = (i: number) => {
    const p = all[i],
      x = data[i];
    n.sgemmBatch(x.A, x.B, x.C, p.batch, p.M, p.N, p.K, p.tA, p.tB, p.M * p.K, p.K * p.N);
  };
  const flops = all.map((p) => 2 * p.batch * p.M * p.N * p.K);
  // Each product repeated to ~20 ms a sample; rounds interleave every shape with the peak.
  const reps = flops.map((fl) => Math.max(1, Math.round(3e9 / fl)));
  all.forEach((_, i) => run(i)); // warm-up
  const samples: number[][] = all.map(() => []);
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < all.length; i++) {
      const t0 = performance.now();
      for (let k = 0; k < reps[i]; k++) run(i);
      samples[i].push((performance.now() - t0) / reps[i]);
    }
  const med = samples.map((s) => [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)]);
  const gflops = med.map((ms, i) => flops[i] / (ms / 1000) / 1e9);
  const peak = gflops[all.length - 1];
  const rows: string[][] = [['product', 'calls', 'time per call', 'GFLOP/s', 'of peak']];
  all.forEach((p, i) =>
    rows.push([
      p.name,
      p.batch > 1 ? `${p.batch} heads` : '1',
      fmtMs(med[i]),
      gflops[i].toFixed(1),
      `${((100 * gflops[i]) / peak).toFixed(1)}%`,
    ]),
  );
  console.log(`(medians of ${rounds} interleaved rounds; peak: the 1024³ product in the same rounds)`);
  console.log(table(rows));
}
