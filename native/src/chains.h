// rsg_blas: matrix products as FMA chains on AVX-512, with the bits OpenBLAS's SkylakeX-class
// kernels give them (included by blas.cc).
//
// The policy's products are small or skinny: an attention head's are 64 × 64 × 24, a linear
// layer's thousands of rows against 96–288 columns with K = 96–288. OpenBLAS spends much of each
// head's call on its interface and packing, cannot know that a causal head's probabilities are zero
// above the diagonal, and packs and zeroes the output for every linear product. The kernels here do
// the same arithmetic in the same order without those costs, and skip terms that are ±0. The order
// OpenBLAS 0.3 follows depends on the path that takes the product (for a row-major call, the
// column-major product C' = op(B)ᵀ·op(A)ᵀ it becomes, M' = N, N' = M):
//
// - its general path: each entry of C one chain of FMAs in k order from +0 per block of K (GEMM_Q:
//   448 with its SkylakeX kernels, 320 with Cooperlake's), each block's chain added into C (kBlock);
// - its small-matrix kernels, permitted when M·N·K ≤ 10⁶, and the column-major TN kernel only when
//   also M'·N' ≤ 1200 and K ≥ 32. The NT kernel chains the same way. The NN kernel chains too,
//   except for the last mm = M' mod 16 rows of C' when mm ≤ 8 and K ≥ 32: each of those entries
//   is sixteen chains (lane l takes k ≡ l mod 16) summed as ((l0 + l1) + (l2 + l3)) and so on in
//   groups of four lanes, then as (g0 + g1) + (g2 + g3). The TN kernel is left to OpenBLAS.
//
// `chainsPlan` says which products these kernels can write: every product on the general path (a
// linear layer's forward, input gradient and weight gradient, whose K is the thousands of rows),
// and on the small kernels A·Bᵀ with K within one block (QKᵀ, dO·Vᵀ), A·B (P·V, dS·K) and Aᵀ·B
// on OpenBLAS's NT kernel (Pᵀ·dO, dSᵀ·Q). An attention head's P·V and dS·K run here only in causal
// heads: without zeros to skip, these kernels were slower there than OpenBLAS's. Chains from +0
// never produce −0, so the β = 0 and memset paths agree with these too. A check at load time runs
// each path against OpenBLAS and turns the kernels off at the first bit that differs (another
// OpenBLAS, other kernels); tests compare products, attention and a whole GRPO step with them on
// and off.

enum class ChainOp { NT, NN, TN };  // row-major C = A·Bᵀ, A·B, Aᵀ·B
struct ChainPlan {
  bool own;     // the kernels here write OpenBLAS's bits for this product
  int64_t dot;  // NN: the columns from `dot` on are lane sums (N when none are)
  bool split;   // OpenBLAS's general path with K past one block: C is summed block by block
};

// OpenBLAS's GEMM_Q for sgemm, K's block on its general path: 448 with its SkylakeX kernels, 320
// with Cooperlake's. Set once at load time to the value its products agree with (chainsAgree);
// where none does, K past one block stays with OpenBLAS (splitK false) and one block is K ≤ 320.
static int64_t gemmQ = 320;
static bool splitK = true;

// How OpenBLAS 0.3's general path (driver/level3/level3.c) cuts K: blocks of Q while at least 2Q
// remain, then the rest in two near-halves rounded up to its unroll (16 on both kernels), or whole
// when it fits one block. Each block's chain starts from +0 and is then added into C.
static inline int64_t kBlock(int64_t rest) {
  constexpr int64_t kUnroll = 16;
  if (rest >= 2 * gemmQ) return gemmQ;
  if (rest > gemmQ) return (rest / 2 + kUnroll - 1) / kUnroll * kUnroll;
  return rest;
}

// For a row-major product M × N × K.
static ChainPlan chainsPlan(ChainOp op, int64_t M, int64_t N, int64_t K) {
  const bool small = (double)M * (double)N * (double)K <= 1e6;
  if (!small) return {K <= gemmQ || splitK, N, K > gemmQ};  // the general path, in one block or several
  if (op == ChainOp::NT) return {!(N * M <= 1200 && K >= 32) && K <= gemmQ, N, false};
  if (op == ChainOp::TN) return {true, N, false};
  const int64_t mm = N % 16;
  if (mm == 0 || mm > 8 || K < 32) return {true, N, false};
  return {mm == 4 || mm == 8, N - mm, false};
}

// What a causal attention's zeros let a product skip (query i sees keys 0 … i). Skipping a term
// that is ±0 keeps a chain's bits: a chain from +0 is +0 until its first nonzero term, and adding
// ±0 to anything else leaves it as it is.
enum class Cut {
  None,
  Cols,   // only C[i, j ≤ i] is read (QKᵀ, dO·Vᵀ): the rest is written as 0, not computed
  KFrom,  // a(r, k) = ±0 for k < r (Pᵀ·dO, dSᵀ·Q)
  KTo,    // a(i, k) = ±0 for k > i (P·V, dS·K)
};

// Scratch for one thread's products: the transposes chainNT and chainNN make.
struct ChainScratch {
  std::vector<float> t;
  float* get(size_t n) {
    if (t.size() < n) t.resize(n);
    return t.data();
  }
};

#if defined(__x86_64__) && defined(__GNUC__)
#define RSG_CHAINS 1
#define RSG_AVX512 __attribute__((target("avx512f")))

static inline __mmask16 laneMask(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

// C[R rows, NV·16 columns (the last vector masked by `last`)] = Σₖ a(r, k)·B[k, ·] over k0 ≤ k < k1,
// one FMA chain per entry in k order from +0; a(r, k) = A[r·ar + k·ak], B's rows ldb apart. With
// `Add`, C += that chain (one rounding), as OpenBLAS adds each block of K after the first.
template <int R, int NV, bool Add = false>
RSG_AVX512 static inline void chainTile(int64_t k0, int64_t k1, const float* A, int64_t ar, int64_t ak, const float* B,
                                        int64_t ldb, float* C, int64_t ldc, __mmask16 last) {
  __m512 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
  for (int64_t k = k0; k < k1; k++) {
    const float* b = B + k * ldb;
    __m512 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++)
      bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
    const float* a = A + k * ak;
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const __m512 av = _mm512_set1_ps(a[r * ar]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
      float* c = C + r * ldc + 16 * v;
      if (v == NV - 1) {
        if constexpr (Add) acc[r][v] = _mm512_add_ps(_mm512_maskz_loadu_ps(last, c), acc[r][v]);
        _mm512_mask_storeu_ps(c, last, acc[r][v]);
      } else {
        if constexpr (Add) acc[r][v] = _mm512_add_ps(_mm512_loadu_ps(c), acc[r][v]);
        _mm512_storeu_ps(c, acc[r][v]);
      }
    }
}

// Rows i … i + R − 1 of C's columns j0 … jn − 1 (at most 16·NVMAX of them).
template <int R, int NVMAX, bool Add = false>
RSG_AVX512 static void chainRows(int64_t i, int64_t j0, int64_t jn, int64_t K, const float* A, int64_t ar, int64_t ak,
                                 const float* B, int64_t ldb, float* C, int64_t ldc, Cut cut) {
  static_assert(NVMAX >= 1 && NVMAX <= 5, "up to five vectors");
  const int64_t k0 = cut == Cut::KFrom ? std::min(i, K) : 0, k1 = cut == Cut::KTo ? std::min(K, i + R) : K;
  const int64_t je = cut == Cut::Cols ? std::min(jn, i + R) : jn;
  const int nv = je > j0 ? (int)((je - j0 + 15) / 16) : 0;
  const __mmask16 last = laneMask(jn - j0 - 16 * (nv - 1));
  A += i * ar;
  B += j0;
  C += i * ldc;
  switch (nv) {
    case 1: chainTile<R, 1, Add>(k0, k1, A, ar, ak, B, ldb, C + j0, ldc, last); break;
    case 2: if constexpr (NVMAX >= 2) chainTile<R, 2, Add>(k0, k1, A, ar, ak, B, ldb, C + j0, ldc, last); break;
    case 3: if constexpr (NVMAX >= 3) chainTile<R, 3, Add>(k0, k1, A, ar, ak, B, ldb, C + j0, ldc, last); break;
    case 4: if constexpr (NVMAX >= 4) chainTile<R, 4, Add>(k0, k1, A, ar, ak, B, ldb, C + j0, ldc, last); break;
    case 5: if constexpr (NVMAX >= 5) chainTile<R, 5, Add>(k0, k1, A, ar, ak, B, ldb, C + j0, ldc, last); break;
  }
  if (cut == Cut::Cols)
    for (int r = 0; r < R; r++) std::fill(C + r * ldc + std::min(jn, j0 + 16 * nv), C + r * ldc + jn, 0.f);
}

// C[M, N] (ldc) = Σₖ a(i, k)·B[k, j], each entry one chain in k order (less what `cut` skips): rows
// R at a time, columns 16·NVMAX at a time.
template <int R, int NVMAX, bool Add = false>
RSG_AVX512 static void chainProduct(int64_t M, int64_t N, int64_t K, const float* A, int64_t ar, int64_t ak,
                                    const float* B, int64_t ldb, float* C, int64_t ldc, Cut cut = Cut::None) {
  for (int64_t j0 = 0; j0 < N; j0 += 16 * NVMAX) {
    const int64_t jn = std::min(N, j0 + 16 * NVMAX);
    int64_t i = 0;
    for (; i + R <= M; i += R) chainRows<R, NVMAX, Add>(i, j0, jn, K, A, ar, ak, B, ldb, C, ldc, cut);
    for (; i < M; i++) chainRows<1, NVMAX, Add>(i, j0, jn, K, A, ar, ak, B, ldb, C, ldc, cut);
  }
}

// T[c, r] = S[r, c] for r < rows, c < cols (S's rows lds apart, T's ldt): 8 × 8 blocks through
// registers, the edges one by one.
RSG_AVX512 static void transposeInto(const float* S, int64_t lds, int64_t rows, int64_t cols, float* T, int64_t ldt) {
  int64_t r = 0;
  for (; r + 8 <= rows; r += 8) {
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      const float* s = S + r * lds + c;
      __m256 x[8], y[8];
      for (int q = 0; q < 8; q++) x[q] = _mm256_loadu_ps(s + q * lds);
      for (int q = 0; q < 8; q += 2) {
        y[q] = _mm256_unpacklo_ps(x[q], x[q + 1]);
        y[q + 1] = _mm256_unpackhi_ps(x[q], x[q + 1]);
      }
      for (int q = 0; q < 8; q += 4) {
        x[q] = _mm256_shuffle_ps(y[q], y[q + 2], 0x44);
        x[q + 1] = _mm256_shuffle_ps(y[q], y[q + 2], 0xEE);
        x[q + 2] = _mm256_shuffle_ps(y[q + 1], y[q + 3], 0x44);
        x[q + 3] = _mm256_shuffle_ps(y[q + 1], y[q + 3], 0xEE);
      }
      for (int q = 0; q < 4; q++) {
        _mm256_storeu_ps(T + (c + q) * ldt + r, _mm256_permute2f128_ps(x[q], x[q + 4], 0x20));
        _mm256_storeu_ps(T + (c + q + 4) * ldt + r, _mm256_permute2f128_ps(x[q], x[q + 4], 0x31));
      }
    }
    for (; c < cols; c++)
      for (int64_t q = r; q < r + 8; q++) T[c * ldt + q] = S[q * lds + c];
  }
  for (; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) T[c * ldt + r] = S[r * lds + c];
}

// Four columns' lane sums in lane q of the result: per 128-bit group g of column q's lanes
// (l[4g] + l[4g+1]) + (l[4g+2] + l[4g+3]), then the groups as (g0 + g1) + (g2 + g3).
RSG_AVX512 static inline __m128 laneSums4(__m512 l0, __m512 l1, __m512 l2, __m512 l3) {
  const __m512 u0 = _mm512_unpacklo_ps(l0, l1), u1 = _mm512_unpackhi_ps(l0, l1);
  const __m512 u2 = _mm512_unpacklo_ps(l2, l3), u3 = _mm512_unpackhi_ps(l2, l3);
  const __m512 s01 = _mm512_add_ps(_mm512_shuffle_ps(u0, u2, 0x44), _mm512_shuffle_ps(u0, u2, 0xEE));
  const __m512 s23 = _mm512_add_ps(_mm512_shuffle_ps(u1, u3, 0x44), _mm512_shuffle_ps(u1, u3, 0xEE));
  const __m512 g = _mm512_add_ps(s01, s23);
  return _mm_add_ps(_mm_add_ps(_mm512_extractf32x4_ps(g, 0), _mm512_extractf32x4_ps(g, 1)),
                    _mm_add_ps(_mm512_extractf32x4_ps(g, 2), _mm512_extractf32x4_ps(g, 3)));
}

// The NN small kernel's lane sums: C[i, q] for q < 4·NQ = sixteen lane-wise chains (lane l takes
// k ≡ l mod 16) of A's row i against row q of Bt (B's column transposed; rows ldbt apart), summed
// by laneSums4; two rows of A at a time. With `causal`, row i stops after k = i (a(i, k) = ±0
// beyond: a masked-off lane adds nothing, as a ±0 term adds nothing).
template <int NQ>
RSG_AVX512 static void laneSumColumns(int64_t M, int64_t K, const float* A, int64_t lda, const float* Bt, int64_t ldbt,
                                      float* C, int64_t ldc, bool causal) {
  constexpr int NC = 4 * NQ;
  int64_t i = 0;
  for (; i + 2 <= M; i += 2) {
    const float *a0 = A + i * lda, *a1 = a0 + lda;
    const int64_t kn = causal ? std::min(K, i + 2) : K;
    __m512 l[2][NC];
#pragma GCC unroll 8
    for (int q = 0; q < NC; q++) l[0][q] = l[1][q] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kn; k += 16) {
      const __mmask16 m = laneMask(kn - k);
      const __m512 x0 = _mm512_maskz_loadu_ps(m, a0 + k), x1 = _mm512_maskz_loadu_ps(m, a1 + k);
#pragma GCC unroll 8
      for (int q = 0; q < NC; q++) {
        const __m512 b = _mm512_maskz_loadu_ps(m, Bt + q * ldbt + k);
        l[0][q] = _mm512_fmadd_ps(x0, b, l[0][q]);
        l[1][q] = _mm512_fmadd_ps(x1, b, l[1][q]);
      }
    }
#pragma GCC unroll 2
    for (int r = 0; r < 2; r++)
#pragma GCC unroll 2
      for (int g = 0; g < NQ; g++)
        _mm_storeu_ps(C + (i + r) * ldc + 4 * g,
                      laneSums4(l[r][4 * g], l[r][4 * g + 1], l[r][4 * g + 2], l[r][4 * g + 3]));
  }
  for (; i < M; i++) {
    const float* a0 = A + i * lda;
    const int64_t kn = causal ? std::min(K, i + 1) : K;
    __m512 l[NC];
#pragma GCC unroll 8
    for (int q = 0; q < NC; q++) l[q] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kn; k += 16) {
      const __mmask16 m = laneMask(kn - k);
      const __m512 x0 = _mm512_maskz_loadu_ps(m, a0 + k);
#pragma GCC unroll 8
      for (int q = 0; q < NC; q++) l[q] = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m, Bt + q * ldbt + k), l[q]);
    }
#pragma GCC unroll 2
    for (int g = 0; g < NQ; g++)
      _mm_storeu_ps(C + i * ldc + 4 * g, laneSums4(l[4 * g], l[4 * g + 1], l[4 * g + 2], l[4 * g + 3]));
  }
}

// C = A·Bᵀ (A [M, K], B [N, K]): Bᵀ into scratch, then chains, R rows × 16·NV columns of C at a time
// (an attention head's tiling by default; a linear layer's is 8 × 3).
template <int R = 4, int NV = 5, bool Add = false>
RSG_AVX512 static void chainNT(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                               float* C, int64_t ldc, ChainScratch& s, Cut cut = Cut::None) {
  const int64_t ldt = (N + 15) & ~(int64_t)15;
  float* Bt = s.get((size_t)(K * ldt));
  transposeInto(B, ldb, N, K, Bt, ldt);
  chainProduct<R, NV, Add>(M, N, K, A, lda, 1, Bt, ldt, C, ldc, cut);
}

// Rows r0 … r0 + rows − 1 (at most 16·RV) and columns c0 … c0 + NC − 1 of C = Aᵀ·B (A [K, M], B
// [K, N]), each entry one chain in k order over k0 ≤ k < K: vectors run along C's rows (A's rows
// are contiguous there, so no lane is wasted on a narrow C), then an 8 × 8 transpose stores them.
template <int RV, int NC>
RSG_AVX512 static inline void tnTile(int64_t k0, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                                     float* C, int64_t ldc, int64_t rows) {
  __m512 acc[RV][NC];
#pragma GCC unroll 4
  for (int v = 0; v < RV; v++)
#pragma GCC unroll 8
    for (int c = 0; c < NC; c++) acc[v][c] = _mm512_setzero_ps();
  __mmask16 m[RV];
#pragma GCC unroll 4
  for (int v = 0; v < RV; v++) m[v] = laneMask(rows - 16 * v);
  for (int64_t k = k0; k < K; k++) {
    __m512 av[RV];
#pragma GCC unroll 4
    for (int v = 0; v < RV; v++) av[v] = _mm512_maskz_loadu_ps(m[v], A + k * lda + 16 * v);
    const float* b = B + k * ldb;
#pragma GCC unroll 8
    for (int c = 0; c < NC; c++) {
      const __m512 bv = _mm512_set1_ps(b[c]);
#pragma GCC unroll 4
      for (int v = 0; v < RV; v++) acc[v][c] = _mm512_fmadd_ps(av[v], bv, acc[v][c]);
    }
  }
  alignas(64) float t[NC][16 * RV];
#pragma GCC unroll 8
  for (int c = 0; c < NC; c++)
#pragma GCC unroll 4
    for (int v = 0; v < RV; v++) _mm512_store_ps(&t[c][16 * v], acc[v][c]);
  transposeInto(&t[0][0], 16 * RV, NC, rows, C, ldc);
}

template <int RV>
RSG_AVX512 static void tnRows(int64_t r0, int64_t rows, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                              int64_t ldb, float* C, int64_t ldc, Cut cut) {
  const int64_t k0 = cut == Cut::KFrom ? std::min(r0, K) : 0;
  int64_t c = 0;
  for (; c + 8 <= N; c += 8) tnTile<RV, 8>(k0, K, A + r0, lda, B + c, ldb, C + r0 * ldc + c, ldc, rows);
  for (; c < N; c++) tnTile<RV, 1>(k0, K, A + r0, lda, B + c, ldb, C + r0 * ldc + c, ldc, rows);
}

// C = Aᵀ·B (A [K, M], B [K, N]): C's rows 48 at a time.
RSG_AVX512 static void chainTN(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                              float* C, int64_t ldc, Cut cut = Cut::None) {
  for (int64_t r0 = 0; r0 < M; r0 += 48) {
    const int64_t rows = std::min<int64_t>(48, M - r0);
    if (rows > 32)
      tnRows<3>(r0, rows, N, K, A, lda, B, ldb, C, ldc, cut);
    else if (rows > 16)
      tnRows<2>(r0, rows, N, K, A, lda, B, ldb, C, ldc, cut);
    else
      tnRows<1>(r0, rows, N, K, A, lda, B, ldb, C, ldc, cut);
  }
}

// C = A·B (A [M, K], B [K, N]): chains for the columns before `dot`, lane sums from there (B's
// columns dot … N − 1 transposed into scratch first).
RSG_AVX512 static void chainNN(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                              float* C, int64_t ldc, int64_t dot, ChainScratch& s, Cut cut = Cut::None) {
  if (dot > 0) chainProduct<8, 1>(M, dot, K, A, lda, 1, B, ldb, C, ldc, cut);
  if (dot == N) return;
  float* Bt = s.get((size_t)((N - dot) * K));
  transposeInto(B + dot, ldb, K, N - dot, Bt, K);
  if (N - dot == 4) laneSumColumns<1>(M, K, A, lda, Bt, K, C + dot, ldc, cut == Cut::KTo);
  if (N - dot == 8) laneSumColumns<2>(M, K, A, lda, Bt, K, C + dot, ldc, cut == Cut::KTo);
}

// A linear layer's A·B (thousands of rows against a weight of 96–288 columns): the same chains,
// 8 rows × 48 columns of C in registers.
RSG_AVX512 static void wideNN(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                              float* C, int64_t ldc) {
  chainProduct<8, 3>(M, N, K, A, lda, 1, B, ldb, C, ldc);
}

// A product OpenBLAS's general path takes with K past one block (chainsPlan's `split`): K cut as
// kBlock cuts it, each block's chains (8 rows × 48 columns of C at a time) added into C after the
// first. A weight's gradient (Aᵀ·B with K its thousands of rows) is one.
RSG_AVX512 static void chainSplit(ChainOp op, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                                  const float* B, int64_t ldb, float* C, int64_t ldc, ChainScratch& s) {
  for (int64_t k0 = 0, kb; k0 < K; k0 += kb) {
    kb = kBlock(K - k0);
    auto block = [&](auto add) {
      constexpr bool Add = decltype(add)::value;
      if (op == ChainOp::NT)
        chainNT<8, 3, Add>(M, N, kb, A + k0, lda, B + k0, ldb, C, ldc, s);
      else if (op == ChainOp::NN)
        chainProduct<8, 3, Add>(M, N, kb, A + k0, lda, 1, B + k0 * ldb, ldb, C, ldc);
      else
        chainProduct<8, 3, Add>(M, N, kb, A + k0 * lda, 1, lda, B + k0 * ldb, ldb, C, ldc);
    };
    if (k0 == 0)
      block(std::false_type{});
    else
      block(std::true_type{});
  }
}
#endif
