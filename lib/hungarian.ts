/**
 * Maximum-weight assignment (the Hungarian / Kuhn–Munkres algorithm, O(n³)), for matching
 * predicted boxes to ground truths by IoU (RemoteReasoner eq. 4, SPEC §3.6).
 */

/**
 * Given weights[r][c] (r rows, c columns, any shape), pick at most one column per row and one
 * row per column so that the sum of chosen weights is maximal. Returns, for each row, its
 * column or −1. Weights must be finite.
 */
export function maxWeightAssignment(weights: readonly (readonly number[])[]): number[] {
  const rows = weights.length;
  const cols = rows === 0 ? 0 : weights[0].length;
  if (rows === 0 || cols === 0) return new Array(rows).fill(-1);
  const n = Math.max(rows, cols);
  let max = 0;
  for (const row of weights) {
    if (row.length !== cols) throw new Error('maxWeightAssignment: ragged weight matrix');
    for (const w of row) {
      if (!Number.isFinite(w)) throw new Error(`maxWeightAssignment: non-finite weight ${w}`);
      max = Math.max(max, w);
    }
  }
  // Minimise cost = max − weight on the square n×n matrix padded with cost `max` (weight 0),
  // so padded pairs never beat a real pair with a positive weight.
  const cost = (i: number, j: number) => (i < rows && j < cols ? max - weights[i][j] : max);
  // Potentials-based O(n³) Hungarian (1-indexed; p[j] = row matched to column j).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= n; j++) {
    const i = p[j] - 1;
    if (i < rows && j - 1 < cols) out[i] = j - 1;
  }
  return out;
}
