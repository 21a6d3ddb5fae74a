// rsg_blas: OpenBLAS sgemm for TensorFlow.js kernels (see lib/blas.ts).
//
// sgemmBatch(A, B, C, batch, M, N, K, transA, transB, strideA, strideB)
//   For b in [0, batch): C[b] (M×N, row-major) = op(A[b]) · op(B[b]), where op transposes when
//   asked, A[b] starts at A + b·strideA and B[b] at B + b·strideB (a stride of 0 broadcasts),
//   and C[b] at C + b·M·N. A, B, C are Float32Array views (e.g. over a wasm heap: zero copy).
#include <napi.h>
#include <cblas.h>
#include <cmath>
#include <cstring>
#include <vector>
#include <string>
#include <cctype>
#include <algorithm>
#include <type_traits>
#include <thread>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#include <immintrin.h>
#endif

// Subnormal floats (|x| < 1.2e-38) are 20-100x slower on x86 (microcode assists): a training step's
// gradients and near-zero attention weights produce them, and one sgemm over such data measured
// 266 ms instead of 3.5 ms. Every call into this addon therefore runs with flush-to-zero and
// denormals-are-zero set, restored on return (JavaScript's own arithmetic keeps IEEE semantics).
struct FlushDenormals {
#if defined(__x86_64__) || defined(__i386__)
  unsigned int saved;
  FlushDenormals() : saved(_mm_getcsr()) { _mm_setcsr(saved | 0x8040); }
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
};

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}

// ── Threads ────────────────────────────────────────────────────────────────────────────────
//
// `setThreads(n)` sets how many cores the addon's kernels use; OpenBLAS itself always runs on one.
// Each kernel splits its outermost independent loop into one contiguous range per thread — the rows
// (or columns) of a matrix product, the rows or queries of an attention — and every range calls
// sgemm on one thread. OpenBLAS's own split of the policy's skinny products (thousands of rows,
// ~100 columns) measured 1.2× faster on two threads than on one, and slower than one on
// sampling's one-token steps. Work below kMinThreadedWork multiply-adds stays on the calling thread
// (handing a part to a worker costs more than it saves there). Results are deterministic for a
// thread count; the
// attention kernels give the same bits for any thread count (each (row, head) is one sgemm either
// way).
static int threadsWanted = 1;
static const int64_t kMinThreadedWork = 4 << 20;

// The threads beyond the caller's: started on first use, then kept. Between jobs a worker spins
// for a while (a training step's next split usually follows within microseconds) and then sleeps;
// starting a thread per split measured ~55 µs, more than some splits take.
//
// A job is `parts` numbered parts; every thread, the caller included, claims the next unclaimed
// part until none is left, and the caller returns when all parts are done. A worker that is asleep
// or descheduled when a job comes (waking a parked virtual CPU measured up to ~3 ms, longer than
// most kernels) therefore costs nothing: the caller computes its parts too. Which thread computes a
// part never changes what the part computes, so results depend on the part count only.
class Workers {
  // How long an idle worker spins before it sleeps.
  static constexpr int kSpinMicros = 5000;

 public:
  // Run job(p) for p in [0, parts), on the caller and on up to parts − 1 workers; return when all
  // are done. Returns false, having run nothing, when another thread holds the workers (the addon
  // loaded in several JavaScript threads): that caller then computes on its own thread.
  bool run(int parts, const std::function<void(int)>& job) {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    grow(parts - 1);
    job_ = &job;
    done_.store(0, std::memory_order_relaxed);
    const uint64_t g = ++jobs_;
    // the ticket holds the job number, its part count and the next unclaimed part: a worker that
    // wakes late cannot claim a part of a job that has finished (its number no longer matches)
    ticket_.store((g << 32) | ((uint64_t)parts << 16), std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(m_);
      gen_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    work();
    while (done_.load(std::memory_order_acquire) != parts) spinPause();
    busy_.store(false, std::memory_order_release);
    return true;
  }

 private:
  static void spinPause() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }
  // Claim and compute parts of the current job until none is left.
  void work() {
    uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      const uint32_t parts = (uint32_t)(t >> 16) & 0xffff, next = (uint32_t)t & 0xffff;
      if (next >= parts) return;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      (*job_)((int)next);  // the job cannot finish (nor job_ change) before this part is done
      done_.fetch_add(1, std::memory_order_acq_rel);
      t = ticket_.load(std::memory_order_acquire);
    }
  }
  void grow(int n) {
    while ((int)count_ < n) {
      ++count_;
      const uint64_t seen = gen_.load(std::memory_order_acquire);  // before run() announces the job
      std::thread([this, seen] { loop(seen); }).detach();
    }
  }
  void loop(uint64_t seen) {
    FlushDenormals ftz;
    for (;;) {
      uint64_t g;
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
      int spins = 0;
      while ((g = gen_.load(std::memory_order_acquire)) == seen &&
             ((++spins & 1023) != 0 || std::chrono::steady_clock::now() < until))
        spinPause();
      if (g == seen) {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return gen_.load(std::memory_order_acquire) != seen; });
        g = gen_.load(std::memory_order_acquire);
      }
      seen = g;
      work();
    }
  }
  std::atomic<bool> busy_{false};
  std::atomic<uint64_t> gen_{0};
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int> done_{0};
  std::atomic<int> count_{0};
  uint64_t jobs_ = 0;
  const std::function<void(int)>* job_ = nullptr;
  std::mutex m_;
  std::condition_variable cv_;
};
static Workers& workers() {
  static Workers* w = new Workers();  // never destroyed: its threads live as long as the process
  return *w;
}

// f(begin, end) over [0, n) split into contiguous ranges, one per thread, when `work` (multiply-adds,
// roughly) is worth it; sgemm runs on one thread inside each range.
template <class F>
static void parallelFor(int64_t n, double work, F f) {
  const int T = (int)std::min<int64_t>(threadsWanted, n);
  if (T <= 1 || work < (double)kMinThreadedWork) {
    f(0, n);
    return;
  }
  if (!workers().run(T, [&](int t) { f(n * t / T, n * (t + 1) / T); })) f(0, n);
}

static float* floatData(const Napi::Value& v, size_t* len) {
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  *len = ta.ElementLength();
  Napi::ArrayBuffer ab = ta.ArrayBuffer();
  return reinterpret_cast<float*>(static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset());
}

// C [M, N] (row stride ldc) = alpha·op(A)·op(B), the bits cblas_sgemm gives with β = 0, faster.
// With β ≠ 1 OpenBLAS first runs a pass of its own scaling C by β (0 here), then its kernel adds
// the product into C; zeroing C here and passing β = 1 hands the kernel the same C (+0), so the
// result is the same bits — checked on OpenBLAS 0.3.21's Zen kernels for 68 M entries of random
// shapes, transposes, strides, α, signed zeros and subnormals, with and without flush-to-zero —
// and a memset costs less than that pass: 1.03–1.11× on the policy's linear layers, 1.36× on an
// attention head's 80 × 80 scores (perf put the pass at 5.5% of a GRPO stage; Zen kernels).
// The exception: OpenBLAS's SkylakeX-class kernels (SkylakeX, Cooperlake, SapphireRapids) have
// small-matrix kernels that take β = 0 directly (no pass, C not read), 1–17% faster than the
// memset on an attention head's products there; so on those kernels products with C of at most
// 16 384 entries ask for β = 0 directly. The same bits: checked on the heads' shapes with the
// SkylakeX and Haswell kernels, including rows of A that are all zero against a negative B (the
// sums start at +0, so no −0 appears either way); a test compares the two paths on any kernels.
constexpr int64_t kDirectBeta0 = 16384;  // entries of C
static bool hasSmallKernels() {
  std::string core = openblas_get_corename();
  std::transform(core.begin(), core.end(), core.begin(), [](unsigned char ch) { return (char)std::tolower(ch); });
  for (const char* k : {"skylakex", "cooperlake", "sapphirerapids"})
    if (core.find(k) != std::string::npos) return true;
  return false;
}
static std::atomic<bool> directSmall{hasSmallKernels()};  // setDirectSmall: a test runs both paths
static inline void sgemm0(CBLAS_TRANSPOSE tA, CBLAS_TRANSPOSE tB, int M, int N, int K, float alpha, const float* A, int lda,
                          const float* B, int ldb, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if ((int64_t)M * N <= kDirectBeta0 && directSmall) {
    cblas_sgemm(CblasRowMajor, tA, tB, M, N, K, alpha, A, lda, B, ldb, 0.f, C, ldc);
    return;
  }
  if (ldc == N)
    std::memset(C, 0, (size_t)M * N * sizeof(float));
  else
    for (int i = 0; i < M; i++) std::memset(C + (int64_t)i * ldc, 0, (size_t)N * sizeof(float));
  cblas_sgemm(CblasRowMajor, tA, tB, M, N, K, alpha, A, lda, B, ldb, 1.f, C, ldc);
}

#include "chains.h"

// C = op(A)·op(B) (row-major, α = 1, β = 0) on chains.h's kernels, where chainsPlan says they write
// OpenBLAS's bits (false: OpenBLAS's to do). `cut` lets a causal attention head skip its zeros;
// P·V and dS·K (an attention head's A·B) go to the kernels only when there is something to skip:
// without, they were slower there than OpenBLAS's small kernels. `wide`: a linear layer's tiling.
static bool chainProduct0(ChainOp op, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                          int64_t ldb, float* C, int64_t ldc, Cut cut, bool wide) {
#ifdef RSG_CHAINS
  const ChainPlan plan = chainsPlan(op, M, N, K);
  if (!plan.own || M <= 0 || N <= 0 || K <= 0) return false;
  static thread_local ChainScratch s;
  if (plan.split) {
    if (cut != Cut::None) return false;
    chainSplit(op, M, N, K, A, lda, B, ldb, C, ldc, s);
    return true;
  }
  if (op == ChainOp::NT) {
    if (wide)
      chainNT<8, 3>(M, N, K, A, lda, B, ldb, C, ldc, s);
    else
      chainNT(M, N, K, A, lda, B, ldb, C, ldc, s, cut);
  } else if (op == ChainOp::TN) {
    chainTN(M, N, K, A, lda, B, ldb, C, ldc, cut);
  } else if (wide && plan.dot == N) {
    wideNN(M, N, K, A, lda, B, ldb, C, ldc);
  } else {
    if (!wide && cut == Cut::None) return false;
    chainNN(M, N, K, A, lda, B, ldb, C, ldc, plan.dot, s, cut);
  }
  return true;
#else
  return false;
#endif
}

#ifdef RSG_CHAINS
// Every path of chainProduct0 against OpenBLAS, on shapes that take each path chainsPlan admits
// (pseudo-random data, β = 0, nothing to skip): the kernels run only when all agree bit for bit.
static bool chainsAgree() {
  uint32_t seed = 12345;
  auto fill = [&](std::vector<float>& v, size_t n) {
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1664525u + 1013904223u;
      v[i] = (float)((int32_t)(seed >> 8) - (1 << 23)) / (float)(1 << 22);
    }
  };
  constexpr int ld = 400;
  std::vector<float> A(1000 * ld), B(1000 * ld), C(400 * ld), D(400 * ld);
  struct Case { ChainOp op; int M, N, K; bool wide; };
  const ChainOp NT = ChainOp::NT, TN = ChainOp::TN, NN = ChainOp::NN;
  for (const Case c : {
           // attention heads: QKᵀ and dO·Vᵀ, Pᵀ·dO and dSᵀ·Q, P·V and dS·K (lane sums in eights, fours, none)
           Case{NT, 64, 64, 24, false}, Case{NT, 80, 80, 24, false}, Case{NT, 7, 19, 16, false},
           Case{NT, 64, 80, 40, false}, Case{NT, 100, 100, 64, false}, Case{TN, 64, 24, 64, false},
           Case{TN, 80, 24, 80, false}, Case{TN, 7, 20, 5, false}, Case{TN, 100, 48, 100, false},
           Case{TN, 200, 64, 200, false}, Case{NN, 64, 24, 64, true}, Case{NN, 80, 20, 80, true},
           Case{NN, 64, 24, 20, true}, Case{NN, 33, 40, 48, true},
           // linear layers: small and general paths, K up to one block
           Case{NN, 64, 288, 96, true}, Case{NN, 64, 96, 96, true}, Case{NN, 37, 169, 96, true},
           Case{NN, 300, 96, 288, true}, Case{NN, 64, 100, 320, true}, Case{NT, 300, 96, 288, true},
           Case{NT, 300, 288, 96, true}, Case{NT, 64, 96, 320, true},
           // K past one block (cut differently with Q = 448 and Q = 320): a weight's gradient and its kin
           Case{TN, 96, 96, 1000, true}, Case{NN, 100, 96, 1000, true}, Case{NT, 100, 96, 1000, true}}) {
    if (!chainsPlan(c.op, c.M, c.N, c.K).own) continue;
    const int lda = std::max(ld, c.op == TN ? c.M : c.K), ldb = std::max(ld, c.op == NT ? c.K : c.N);
    fill(A, (size_t)(c.op == TN ? c.K : c.M) * lda);
    fill(B, (size_t)(c.op == NT ? c.N : c.K) * ldb);
    const CBLAS_TRANSPOSE tA = c.op == TN ? CblasTrans : CblasNoTrans, tB = c.op == NT ? CblasTrans : CblasNoTrans;
    cblas_sgemm(CblasRowMajor, tA, tB, c.M, c.N, c.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), c.N);
    if (!chainProduct0(c.op, c.M, c.N, c.K, A.data(), lda, B.data(), ldb, D.data(), c.N, Cut::None, c.wide))
      return false;
    if (std::memcmp(C.data(), D.data(), (size_t)c.M * c.N * sizeof(float)) != 0) return false;
  }
  return true;
}
// OpenBLAS's K block (gemmQ) is the one under which every path agrees. With none, products of one
// block (K ≤ 320, where both agree) may still; else the kernels stay off.
static bool chainsFound() {
  if (!__builtin_cpu_supports("avx512f") || !hasSmallKernels()) return false;
  openblas_set_num_threads(1);  // as every product runs (Init): its threaded path cuts K otherwise
  for (const int64_t q : {448, 320}) {
    gemmQ = q;
    if (chainsAgree()) return true;
  }
  gemmQ = 320;
  splitK = false;
  return chainsAgree();
}
static const bool chainsAvailable = chainsFound();
#else
static const bool chainsAvailable = false;
#endif
static std::atomic<bool> ownChains{chainsAvailable};  // setOwnChains: a test runs both

// C = op(A)·op(B), row-major, α = 1, β = 0: chains.h's kernels where they write OpenBLAS's bits,
// else OpenBLAS (sgemm0).
static void product0(bool tA, bool tB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                     int64_t ldb, float* C, int64_t ldc, Cut cut = Cut::None, bool wide = true) {
  const ChainOp op = tA ? ChainOp::TN : tB ? ChainOp::NT : ChainOp::NN;
  if (!(tA && tB) && ownChains.load(std::memory_order_relaxed) &&
      chainProduct0(op, M, N, K, A, lda, B, ldb, C, ldc, cut, wide))
    return;
  sgemm0(tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.f, A, (int)lda, B,
         (int)ldb, C, (int)ldc);
}

// An attention head's product: product0 with the heads' tiling.
static void headProduct(ChainOp op, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                        int64_t ldb, float* C, int64_t ldc, Cut cut = Cut::None) {
  product0(op == ChainOp::TN, op == ChainOp::NT, M, N, K, A, lda, B, ldb, C, ldc, cut, false);
}

static Napi::Value SgemmBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 11) {
    Napi::TypeError::New(env, "sgemmBatch expects 11 arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  for (int i = 0; i < 3; i++) {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      Napi::TypeError::New(env, "sgemmBatch: A, B, C must be Float32Arrays").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  size_t lenA, lenB, lenC;
  const float* A = floatData(info[0], &lenA);
  const float* B = floatData(info[1], &lenB);
  float* C = floatData(info[2], &lenC);
  const int64_t batch = info[3].As<Napi::Number>().Int64Value();
  const int64_t M = info[4].As<Napi::Number>().Int64Value();
  const int64_t N = info[5].As<Napi::Number>().Int64Value();
  const int64_t K = info[6].As<Napi::Number>().Int64Value();
  const bool tA = info[7].ToBoolean();
  const bool tB = info[8].ToBoolean();
  const int64_t sA = info[9].As<Napi::Number>().Int64Value();
  const int64_t sB = info[10].As<Napi::Number>().Int64Value();
  // Bounds: the last batch element must fit in every buffer.
  if (batch < 0 || M < 0 || N < 0 || K < 0 ||
      (batch > 0 && ((batch - 1) * sA + M * K > (int64_t)lenA || (batch - 1) * sB + K * N > (int64_t)lenB ||
                     batch * M * N > (int64_t)lenC))) {
    Napi::RangeError::New(env, "sgemmBatch: shapes exceed the buffers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int lda = tA ? (int)M : (int)K, ldb = tB ? (int)K : (int)N, ldc = (int)N;
  // With several threads the rows of C (or, when C has few rows, its columns) are split into one
  // contiguous block per thread, each an sgemm on one thread: OpenBLAS's own split of these skinny
  // products (thousands of rows, ~100 columns) measured 1.2× faster on two threads, this one ~1.8×.
  const bool byCols = M < 4 * N;
  parallelFor(byCols ? N : M, (double)batch * M * N * K, [&](int64_t i0, int64_t i1) {
    const int64_t m0 = byCols ? 0 : i0, m = byCols ? M : i1 - i0, n0 = byCols ? i0 : 0, n = byCols ? i1 - i0 : N;
    for (int64_t b = 0; b < batch; b++) {
      float* c = C + b * M * N + m0 * N + n0;
      if (K == 0) {
        for (int64_t i = 0; i < m; i++)
          for (int64_t j = 0; j < n; j++) c[i * N + j] = 0.f;
        continue;
      }
      const float* a = A + b * sA + (tA ? m0 : m0 * K);
      const float* bb = B + b * sB + (tB ? n0 * K : n0);
      product0(tA, tB, m, n, K, a, lda, bb, ldb, c, ldc);
    }
  });
  return env.Undefined();
}

// ── Element-wise and layout kernels (lib/blas.ts registers them for tfjs's wasm backend) ───────
//
// wasm's scalar paths are slow on exactly the shapes a training step is made of: reductions
// over leading axes (bias gradients), broadcasting binary ops, splits on the last axis, exp.
// These loops are plain C++ that the compiler vectorises.

// exp(x) for float, branch-free so loops over it vectorise (glibc's expf is a call per element):
// x = k·ln2 + r with k = round(x·log2 e) (Cody–Waite split of ln2), |r| ≤ ln2/2, exp(r) by the
// Cephes expf polynomial, then 2^k through the exponent bits. Max error ~2 ulp on
// [−87, 88]; inputs below are clamped (exp ≈ 1e-38 instead of a denormal or 0), NaN stays NaN.
static inline float fastExp(float x) {
  float c = x < -87.0f ? -87.0f : x;
  c = c > 88.0f ? 88.0f : c;
  const float kf = (c * 1.44269504088896341f + 12582912.f) - 12582912.f;  // round to nearest
  const float r = (c - kf * 0.693359375f) + kf * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  int32_t bits;
  std::memcpy(&bits, &p, 4);
  bits += (int32_t)kf << 23;
  std::memcpy(&p, &bits, 4);
  return x != x ? x : p;
}

// GELU as the policy writes it (sigmoid approximation): x·σ(1.702x), and σ(1.702x) alone.
static inline float geluSigma(float x) { return 1.f / (1.f + fastExp(-1.702f * x)); }
static inline float geluOf(float x) { return x * geluSigma(x); }

// ── The element-wise exp loops, also on AVX-512 ──────────────────────────────────────────────
//
// The loops over fastExp a training step runs most (softmax — exponentials, division — GELU and
// its gradient) are written once below and, in the AVX2 build, compiled twice: as they are
// (8 lanes) and inlined into a twin whose target adds AVX-512F, where the vectoriser takes 16 lanes.
// Each element goes through the same IEEE operations with the same FMA contractions — one float in,
// one float out, no order to keep — so the twin writes the AVX2 loop's bits: fastExp's two loops
// agreed on all 2^32 inputs, and a test runs every kernel with the twins on and off. The twins run
// when the CPU has AVX-512F; `setWide(false)` turns them off. Softmax's sum is the one reduction
// among them; it keeps its order in both (sumInLaneOrder).

#define RSG_LOOP __attribute__((always_inline)) static inline
RSG_LOOP void expShiftedLoop(float* p, int64_t n, float m) {
#pragma omp simd
  for (int64_t s = 0; s < n; s++) p[s] = fastExp(p[s] - m);
}
RSG_LOOP void divideByLoop(float* p, int64_t n, float z) {
  for (int64_t s = 0; s < n; s++) p[s] /= z;
}
RSG_LOOP void geluValuesLoop(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) y[i] = geluOf(x[i]);
}
// dx = dy ⊙ gelu'(x), gelu'(x) = s + 1.702·x·s·(1 − s) with s = σ(1.702x)
RSG_LOOP void geluGradLoop(const float* dy, const float* x, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float s = geluSigma(x[i]);
    dx[i] = dy[i] * (s + 1.702f * x[i] * s * (1.f - s));
  }
}

#if defined(__AVX2__) && defined(__FMA__) && defined(__GNUC__)
#define RSG_TWINS 1
static bool cpuHasAvx512f() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
static const bool wideAvailable = cpuHasAvx512f();
static std::atomic<bool> wide{wideAvailable};
#define RSG_TWIN(name, params, args)                                    \
  __attribute__((noinline)) static void name##8 params { name##Loop args; } \
  __attribute__((noinline, target("avx512f"))) static void name##16 params { name##Loop args; } \
  static inline void name params {                                       \
    if (wide.load(std::memory_order_relaxed))                            \
      name##16 args;                                                     \
    else                                                                 \
      name##8 args;                                                      \
  }
#else
static const bool wideAvailable = false;
#define RSG_TWIN(name, params, args) \
  __attribute__((noinline)) static void name params { name##Loop args; }
#endif
RSG_TWIN(geluValues, (const float* x, float* y, int64_t n), (x, y, n))
RSG_TWIN(geluGrad, (const float* dy, const float* x, float* dx, int64_t n), (dy, x, dx, n))

// setWide(on): use the AVX-512 twins (when the CPU has AVX-512F); returns whether they are in use
static Napi::Value SetWide(const Napi::CallbackInfo& info) {
#ifdef RSG_TWINS
  wide = wideAvailable && info[0].ToBoolean();
  return Napi::Boolean::New(info.Env(), wide.load());
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// setDirectSmall([on]): small products with β = 0 directly or after a memset (the default: directly
// on kernels with small-matrix kernels of their own); returns the setting in effect
static Napi::Value SetDirectSmall(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsBoolean()) directSmall = info[0].ToBoolean();
  return Napi::Boolean::New(info.Env(), directSmall.load());
}

// setOwnChains([on]): products on the kernels of chains.h where they write OpenBLAS's bits (the
// default where they are available: AVX-512, OpenBLAS's SkylakeX-class kernels, the load-time
// check passed) or all on OpenBLAS; returns the setting in effect
static Napi::Value SetOwnChains(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsBoolean()) ownChains = chainsAvailable && info[0].ToBoolean();
  return Napi::Boolean::New(info.Env(), ownChains.load());
}

static float* f32(const Napi::Value& v) {
  size_t n;
  return floatData(v, &n);
}
static int64_t i64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }

// reduce(x, out, outer, R, inner, scale): out[o, i] = scale · Σ_r x[o, r, i]
static Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  float* out = f32(info[1]);
  const int64_t outer = i64(info[2]), R = i64(info[3]), inner = i64(info[4]);
  const float scale = (float)info[5].As<Napi::Number>().DoubleValue();
  for (int64_t o = 0; o < outer; o++) {
    float* y = out + o * inner;
    const float* xo = x + o * R * inner;
    if (inner == 1) {
      float s = 0.f;
      for (int64_t r = 0; r < R; r++) s += xo[r];
      y[0] = s * scale;
      continue;
    }
    for (int64_t i = 0; i < inner; i++) y[i] = 0.f;
    for (int64_t r = 0; r < R; r++) {
      const float* xr = xo + r * inner;
      for (int64_t i = 0; i < inner; i++) y[i] += xr[i];
    }
    if (scale != 1.f) for (int64_t i = 0; i < inner; i++) y[i] *= scale;
  }
  return info.Env().Undefined();
}

// copyBlocks(src, srcOff, srcStride, dst, dstOff, dstStride, count, len):
//   for c in [0, count): dst[dstOff + c·dstStride, +len) = src[srcOff + c·srcStride, +len)
static Napi::Value CopyBlocks(const Napi::CallbackInfo& info) {
  const float* src = f32(info[0]);
  const int64_t so = i64(info[1]), ss = i64(info[2]);
  float* dst = f32(info[3]);
  const int64_t d0 = i64(info[4]), ds = i64(info[5]), count = i64(info[6]), len = i64(info[7]);
  for (int64_t c = 0; c < count; c++) std::memcpy(dst + d0 + c * ds, src + so + c * ss, (size_t)len * sizeof(float));
  return info.Env().Undefined();
}

template <int OP>
static inline float apply(float a, float b) {
  if (OP == 0) return a + b;
  if (OP == 1) return a - b;
  if (OP == 2) return a * b;
  return a / b;
}

template <int OP>
static void binaryLoop(const float* a, const float* b, float* out, int rank, const int64_t* shape,
                       const int64_t* sa, const int64_t* sb) {
  // Odometer over the outer dims; the innermost dim is a tight loop by stride pattern.
  const int64_t n = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1];
  int64_t outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= shape[d];
  int64_t idx[8] = {0};
  int64_t oa = 0, ob = 0;
  for (int64_t o = 0; o < outer; o++) {
    const float* pa = a + oa;
    const float* pb = b + ob;
    float* po = out + o * n;
    if (ia == 1 && ib == 1) for (int64_t i = 0; i < n; i++) po[i] = apply<OP>(pa[i], pb[i]);
    else if (ia == 1 && ib == 0) { const float v = pb[0]; for (int64_t i = 0; i < n; i++) po[i] = apply<OP>(pa[i], v); }
    else if (ia == 0 && ib == 1) { const float v = pa[0]; for (int64_t i = 0; i < n; i++) po[i] = apply<OP>(v, pb[i]); }
    else for (int64_t i = 0; i < n; i++) po[i] = apply<OP>(pa[i * ia], pb[i * ib]);
    for (int d = rank - 2; d >= 0; d--) {
      idx[d]++;
      oa += sa[d];
      ob += sb[d];
      if (idx[d] < shape[d]) break;
      oa -= sa[d] * shape[d];
      ob -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
}

// binary(op, a, b, out, shape[], stridesA[], stridesB[]): out (row-major over shape) = a op b,
// with broadcasting expressed as 0 strides; op 0 add, 1 sub, 2 mul, 3 div; rank 1…8.
static Napi::Value Binary(const Napi::CallbackInfo& info) {
  const int op = info[0].As<Napi::Number>().Int32Value();
  const float* a = f32(info[1]);
  const float* b = f32(info[2]);
  float* out = f32(info[3]);
  Napi::Array sh = info[4].As<Napi::Array>(), ja = info[5].As<Napi::Array>(), jb = info[6].As<Napi::Array>();
  const int rank = (int)sh.Length();
  if (rank < 1 || rank > 8) {
    Napi::RangeError::New(info.Env(), "binary: rank must be 1…8").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  int64_t shape[8], sa[8], sb[8];
  for (int d = 0; d < rank; d++) {
    shape[d] = i64(sh.Get(d));
    sa[d] = i64(ja.Get(d));
    sb[d] = i64(jb.Get(d));
  }
  switch (op) {
    case 0: binaryLoop<0>(a, b, out, rank, shape, sa, sb); break;
    case 1: binaryLoop<1>(a, b, out, rank, shape, sa, sb); break;
    case 2: binaryLoop<2>(a, b, out, rank, shape, sa, sb); break;
    default: binaryLoop<3>(a, b, out, rank, shape, sa, sb); break;
  }
  return info.Env().Undefined();
}

// unary(op, x, out, n): op 0 exp, 1 sigmoid
static Napi::Value Unary(const Napi::CallbackInfo& info) {
  const int op = info[0].As<Napi::Number>().Int32Value();
  const float* x = f32(info[1]);
  float* out = f32(info[2]);
  const int64_t n = i64(info[3]);
  if (op == 0) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) out[i] = fastExp(x[i]);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) out[i] = 1.f / (1.f + fastExp(-x[i]));
  }
  return info.Env().Undefined();
}

// ── Decoder inference kernels (lib/infer.ts): the loops of one decoding pass ─────────────────

// Per row of x [rows, d]: y = (x − μ)/√(σ² + eps)·g + b, with μ and σ² = mean((x − μ)²) as
// tf.moments computes them; keeps μ and 1/√(σ² + eps) when mu / rs are given (training).
static void layerNormRows(const float* x, const float* g, const float* b, float* y, float* mu, float* rs, int64_t rows, int64_t d, float eps) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    float m = 0.f;
#pragma omp simd reduction(+ : m)
    for (int64_t j = 0; j < d; j++) m += xr[j];
    m /= (float)d;
    float v = 0.f;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < d; j++) { const float c = xr[j] - m; v += c * c; }
    v /= (float)d;
    const float s = std::sqrt(v + eps);
    for (int64_t j = 0; j < d; j++) yr[j] = ((xr[j] - m) / s) * g[j] + b[j];
    if (mu) mu[r] = m;
    if (rs) rs[r] = 1.f / s;
  }
}

// layerNorm(x, g, b, out, rows, d, eps)
static Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  layerNormRows(f32(info[0]), f32(info[1]), f32(info[2]), f32(info[3]), nullptr, nullptr, i64(info[4]), i64(info[5]),
                (float)info[6].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

// y[r, j] += b[j] for every row; then, if gelu, y ← y·σ(1.702·y)
static void biasActRows(float* y, const float* b, int64_t rows, int64_t n, bool gelu) {
  for (int64_t r = 0; r < rows; r++) {
    float* yr = y + r * n;
    for (int64_t j = 0; j < n; j++) yr[j] += b[j];
    if (gelu) geluValues(yr, yr, n);
  }
}

// biasAct(y, b, rows, n, gelu): biasActRows
static Napi::Value BiasAct(const Napi::CallbackInfo& info) {
  float* y = f32(info[0]);
  const float* b = f32(info[1]);
  const int64_t rows = i64(info[2]), n = i64(info[3]);
  biasActRows(y, b, rows, n, info[4].ToBoolean());
  return info.Env().Undefined();
}

// The row's maximum m and log Σⱼ exp(x[j] − m): log-sum-exp = m + that.
static inline float maxAndLogSumExp(const float* x, int64_t n, float* m) {
  float mx = -INFINITY;
  for (int64_t j = 0; j < n; j++) mx = x[j] > mx ? x[j] : mx;
  float z = 0.f;
#pragma omp simd reduction(+ : z)
  for (int64_t j = 0; j < n; j++) z += fastExp(x[j] - mx);
  *m = mx;
  return std::log(z);
}

static void logSoftmaxRows(float* x, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; r++) {
    float* xr = x + r * n;
    float m;
    const float lz = maxAndLogSumExp(xr, n, &m);
    for (int64_t j = 0; j < n; j++) xr[j] = xr[j] - m - lz;
  }
}

// logSoftmax(x, rows, n): each row in place
static Napi::Value LogSoftmax(const Napi::CallbackInfo& info) {
  logSoftmaxRows(f32(info[0]), i64(info[1]), i64(info[2]));
  return info.Env().Undefined();
}

// p[s] ← p[s]·scale (+ mask[s]) for s < end; returns the largest
RSG_LOOP float scaledMaxLoop(float* p, int64_t end, float scale, const float* mask) {
  float m = -INFINITY;
  if (mask) {
#pragma omp simd reduction(max : m)
    for (int64_t s = 0; s < end; s++) { const float a = p[s] * scale + mask[s]; p[s] = a; m = a > m ? a : m; }
  } else {
#pragma omp simd reduction(max : m)
    for (int64_t s = 0; s < end; s++) { const float a = p[s] * scale; p[s] = a; m = a > m ? a : m; }
  }
  return m;
}

// Softmax of each row of P [rows, n] in place (row stride ld), after scaling and an optional
// additive mask [n] per row; with `causalFrom` ≥ 0, row i keeps entries 0 … causalFrom + i only.
// Per row: a = p·scale (+ mask), m = max a, p = exp(a − m), z = Σ p, p /= z.
#ifdef RSG_TWINS
// Σ p[0 … n) in the order GCC's `omp simd reduction(+)` adds them with 8 lanes: lane l takes
// s ≡ l (mod 8) over the full blocks of 8, the tail goes into lane 0 in order, then the lanes are
// added 0 … 7 — the order of the fused loop this build used to run (the test of the twins and
// the golden digests hold it to that).
RSG_LOOP float sumInLaneOrder(const float* p, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t s = 0;
  for (; s + 8 <= n; s += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(p + s));
  alignas(32) float lane[8];
  _mm256_store_ps(lane, acc);
  for (; s < n; s++) lane[0] += p[s];
  float z = 0.f;
  for (int j = 0; j < 8; j++) z += lane[j];
  return z;
}

// Up to 64 rows, one pass over all of them per step (scale and max, exp, sum, divide) instead of
// every step per row: each row's arithmetic is what it was, but a row's steps no longer wait on
// one another's reductions and loop exits — 1.5–2.4× faster on an attention head's 64 × 64 causal
// and 64 × 80 masked scores (measured on the Zen 5, data as cold as in a pass).
RSG_LOOP void softmaxBlockLoop(float* P, int64_t rows, int64_t n, int64_t ld, float scale, const float* mask,
                               int64_t causalFrom) {
  float mx[64], zs[64];
  const auto endOf = [&](int64_t i) { return causalFrom >= 0 ? causalFrom + i + 1 : n; };
  for (int64_t i = 0; i < rows; i++) mx[i] = scaledMaxLoop(P + i * ld, endOf(i), scale, mask);
  for (int64_t i = 0; i < rows; i++) expShiftedLoop(P + i * ld, endOf(i), mx[i]);
  for (int64_t i = 0; i < rows; i++) zs[i] = sumInLaneOrder(P + i * ld, endOf(i));
  for (int64_t i = 0; i < rows; i++) {
    float* p = P + i * ld;
    const int64_t end = endOf(i);
    divideByLoop(p, end, zs[i]);
    for (int64_t s = end; s < n; s++) p[s] = 0.f;
  }
}
RSG_TWIN(softmaxBlock, (float* P, int64_t rows, int64_t n, int64_t ld, float scale, const float* mask, int64_t cf),
         (P, rows, n, ld, scale, mask, cf))

static void softmaxRows(float* P, int64_t rows, int64_t n, int64_t ld, float scale, const float* mask, int64_t causalFrom) {
  for (int64_t i = 0; i < rows; i += 64)
    softmaxBlock(P + i * ld, std::min<int64_t>(64, rows - i), n, ld, scale, mask, causalFrom >= 0 ? causalFrom + i : -1);
}
#else
static void softmaxRows(float* P, int64_t rows, int64_t n, int64_t ld, float scale, const float* mask, int64_t causalFrom) {
  for (int64_t i = 0; i < rows; i++) {
    float* p = P + i * ld;
    const int64_t end = causalFrom >= 0 ? causalFrom + i + 1 : n;
    const float m = scaledMaxLoop(p, end, scale, mask);
    float z = 0.f;
#pragma omp simd reduction(+ : z)
    for (int64_t s = 0; s < end; s++) { p[s] = fastExp(p[s] - m); z += p[s]; }
    for (int64_t s = 0; s < end; s++) p[s] /= z;
    for (int64_t s = end; s < n; s++) p[s] = 0.f;
  }
}
#endif

// Softmax of one row P [Tk] in place after scaling, its sum in position order: a one-token step's
// attention (the compiler made a scalar loop of softmaxRows for one row, and these are its bits;
// oneTokenAttentionHeadsAvx adds in the same order).
static void softmaxOne(float* P, int64_t Tk, float scale) {
  float m = -INFINITY;
  for (int64_t s = 0; s < Tk; s++) { const float a = P[s] * scale; P[s] = a; m = a > m ? a : m; }
  float z = 0.f;
  for (int64_t s = 0; s < Tk; s++) { P[s] = fastExp(P[s] - m); z += P[s]; }
  for (int64_t s = 0; s < Tk; s++) P[s] /= z;
}

#if defined(__AVX2__) && defined(__FMA__)
// P [Tk] = q·kₛ for Tk cached keys Kb [Tk, 8·NC]: eight positions' dot products reduced together
// (one head's scores in oneTokenAttentionAvx and oneTokenAttentionHeadsAvx alike).
template <int NC>
static inline void oneTokenScoresAvx(const float* q, const float* Kb, float* P, int64_t Tk) {
  constexpr int64_t dh = 8 * NC;
  __m256 qv[NC];
  for (int c = 0; c < NC; c++) qv[c] = _mm256_loadu_ps(q + 8 * c);
  auto dot = [&](int64_t s) {
    const float* k = Kb + s * dh;
    __m256 a = _mm256_mul_ps(qv[0], _mm256_loadu_ps(k));
    for (int c = 1; c < NC; c++) a = _mm256_fmadd_ps(qv[c], _mm256_loadu_ps(k + 8 * c), a);
    return a;
  };
  int64_t s = 0;
  for (; s + 8 <= Tk; s += 8) {
    const __m256 t0 = _mm256_hadd_ps(dot(s), dot(s + 1)), t1 = _mm256_hadd_ps(dot(s + 2), dot(s + 3));
    const __m256 t2 = _mm256_hadd_ps(dot(s + 4), dot(s + 5)), t3 = _mm256_hadd_ps(dot(s + 6), dot(s + 7));
    const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    const __m256 sum = _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
    _mm256_storeu_ps(P + s, sum);
  }
  for (; s < Tk; s++) {
    const __m256 a = dot(s);
    const __m128 x = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 y = _mm_add_ps(x, _mm_movehl_ps(x, x));
    P[s] = _mm_cvtss_f32(_mm_add_ss(y, _mm_shuffle_ps(y, y, 1)));
  }
}
#endif

// One query attending to Tk cached positions of one head: P [Tk] = softmax(q·kₛ·scale),
// o = Σₛ Pₛ vₛ (K, V [Tk, dh] rows). With AVX2 + FMA and dh a multiple of 8 (≤ 32), eight
// positions' dot products are reduced together and the output stays in registers; otherwise
// plain loops. Either way a row's result does not depend on which thread computes it.
template <int NC>
static inline bool oneTokenAttentionAvx(const float* q, const float* Kb, const float* Vb, float* o, float* P,
                                        int64_t Tk, int64_t dh, float scale) {
#if defined(__AVX2__) && defined(__FMA__)
  oneTokenScoresAvx<NC>(q, Kb, P, Tk);
  softmaxOne(P, Tk, scale);
  __m256 acc[NC];
  for (int c = 0; c < NC; c++) acc[c] = _mm256_setzero_ps();
  for (int64_t t = 0; t < Tk; t++) {
    const __m256 p = _mm256_set1_ps(P[t]);
    const float* v = Vb + t * dh;
    for (int c = 0; c < NC; c++) acc[c] = _mm256_fmadd_ps(p, _mm256_loadu_ps(v + 8 * c), acc[c]);
  }
  for (int c = 0; c < NC; c++) _mm256_storeu_ps(o + 8 * c, acc[c]);
  return true;
#else
  (void)q, (void)Kb, (void)Vb, (void)o, (void)P, (void)Tk, (void)dh, (void)scale;
  return false;
#endif
}

static void oneTokenAttention(const float* q, const float* Kb, const float* Vb, float* o, float* P, int64_t Tk,
                              int64_t dh, float scale) {
  switch (dh) {
    case 8: if (oneTokenAttentionAvx<1>(q, Kb, Vb, o, P, Tk, dh, scale)) return; break;
    case 16: if (oneTokenAttentionAvx<2>(q, Kb, Vb, o, P, Tk, dh, scale)) return; break;
    case 24: if (oneTokenAttentionAvx<3>(q, Kb, Vb, o, P, Tk, dh, scale)) return; break;
    case 32: if (oneTokenAttentionAvx<4>(q, Kb, Vb, o, P, Tk, dh, scale)) return; break;
  }
  for (int64_t s = 0; s < Tk; s++) {
    const float* k = Kb + s * dh;
    float a = 0.f;
#pragma omp simd reduction(+ : a)
    for (int64_t j = 0; j < dh; j++) a += q[j] * k[j];
    P[s] = a;
  }
  softmaxOne(P, Tk, scale);
  for (int64_t j = 0; j < dh; j++) o[j] = 0.f;
  for (int64_t s = 0; s < Tk; s++) {
    const float p = P[s];
    const float* v = Vb + s * dh;
#pragma omp simd
    for (int64_t j = 0; j < dh; j++) o[j] += p * v[j];
  }
}

#if defined(__AVX2__) && defined(__FMA__)
// fastExp on eight lanes: the same operations, FMA contractions included, that the compiler makes of
// the scalar fastExp (checked bit for bit by test/native/decoder.test.ts through the decoder step).
static inline __m256 fastExp8(__m256 x) {
  __m256 c = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  c = _mm256_min_ps(c, _mm256_set1_ps(88.0f));
  const __m256 magic = _mm256_set1_ps(12582912.f);
  const __m256 kf = _mm256_sub_ps(_mm256_fmadd_ps(c, _mm256_set1_ps(1.44269504088896341f), magic), magic);
  const __m256 r =
      _mm256_fmadd_ps(kf, _mm256_set1_ps(2.12194440e-4f), _mm256_fnmadd_ps(kf, _mm256_set1_ps(0.693359375f), c));
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.f));
  const __m256i bits = _mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_cvttps_epi32(kf), 23));
  return _mm256_blendv_ps(_mm256_castsi256_ps(bits), x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}
#endif

#if defined(__AVX2__) && defined(__FMA__)
// A head's exponentials (P [Tk], padded to a multiple of 8) over their sum z.
static inline void softmaxDivide(float* P, int64_t Tk, float z) {
  const __m256 zv = _mm256_set1_ps(z);
  for (int64_t j = 0; j < Tk; j += 8) _mm256_storeu_ps(P + j, _mm256_div_ps(_mm256_loadu_ps(P + j), zv));
}
#endif

// All h heads of one query row attending to Tk cached positions (heads at stride ldq in q, ldkv in
// the caches, ldo in o; P holds h rows of stride ldp ≥ Tk rounded up to 8): per head the arithmetic of
// oneTokenAttentionAvx<NC> — its dot products, then a softmax whose sum runs position by position as
// the compiled softmaxRows sums a single row, then Σₛ Pₛ vₛ accumulated position by position — so
// every output is the same bits. What differs is the schedule: the heads' softmaxes are vectorised
// where that cannot change a bit (max, exp, division) and their accumulations interleaved so that
// four FMA chains overlap; one head alone waited on each FMA's latency. A sampled token's
// self-attention measured 1.7× faster (Zen 5, default policy). False when not built with AVX2 + FMA.
template <int NC>
static inline bool oneTokenAttentionHeadsAvx(const float* q, int64_t ldq, const float* K, const float* V, int64_t ldkv,
                                             float* o, int64_t ldo, float* P, int64_t ldp, int64_t h, int64_t Tk,
                                             float scale) {
#if defined(__AVX2__) && defined(__FMA__)
  constexpr int64_t dh = 8 * NC;
  for (int64_t hh = 0; hh < h; hh++) {
    float* Ph = P + hh * ldp;
    oneTokenScoresAvx<NC>(q + hh * ldq, K + hh * ldkv, Ph, Tk);
    // softmax: scaled scores and their maximum (exact in any order; a > m ? a : m is MAXPS's rule),
    // exp on whole vectors (lanes past Tk are padding of the row, never read), the sum in order
    const int64_t Tv = (Tk + 7) & ~(int64_t)7;
    for (int64_t j = Tk; j < Tv; j++) Ph[j] = -INFINITY;
    const __m256 sc = _mm256_set1_ps(scale);
    __m256 mv = _mm256_set1_ps(-INFINITY);
    for (int64_t j = 0; j < Tv; j += 8) {
      const __m256 a = _mm256_mul_ps(_mm256_loadu_ps(Ph + j), sc);
      _mm256_storeu_ps(Ph + j, a);
      mv = _mm256_max_ps(a, mv);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, mv);
    float m = -INFINITY;
    for (int j = 0; j < 8; j++) m = lanes[j] > m ? lanes[j] : m;
    mv = _mm256_set1_ps(m);
    for (int64_t j = 0; j < Tv; j += 8) _mm256_storeu_ps(Ph + j, fastExp8(_mm256_sub_ps(_mm256_loadu_ps(Ph + j), mv)));
  }
  // each head's sum in position order, four heads' sums side by side (one alone waits on each add)
  int64_t hh = 0;
  for (; hh + 4 <= h; hh += 4) {
    const float *P0 = P + hh * ldp, *P1 = P0 + ldp, *P2 = P1 + ldp, *P3 = P2 + ldp;
    float z[4] = {0.f, 0.f, 0.f, 0.f};
    for (int64_t j = 0; j < Tk; j++) {
      z[0] += P0[j];
      z[1] += P1[j];
      z[2] += P2[j];
      z[3] += P3[j];
    }
    for (int j = 0; j < 4; j++) softmaxDivide(P + (hh + j) * ldp, Tk, z[j]);
  }
  for (; hh < h; hh++) {
    float z = 0.f;
    for (int64_t j = 0; j < Tk; j++) z += P[hh * ldp + j];
    softmaxDivide(P + hh * ldp, Tk, z);
  }
  hh = 0;
  for (; hh + 4 <= h; hh += 4) {
    __m256 acc[4][NC];
    for (int j = 0; j < 4; j++)
      for (int c = 0; c < NC; c++) acc[j][c] = _mm256_setzero_ps();
    for (int64_t t = 0; t < Tk; t++)
      for (int j = 0; j < 4; j++) {
        const __m256 p = _mm256_set1_ps(P[(hh + j) * ldp + t]);
        const float* v = V + (hh + j) * ldkv + t * dh;
        for (int c = 0; c < NC; c++) acc[j][c] = _mm256_fmadd_ps(p, _mm256_loadu_ps(v + 8 * c), acc[j][c]);
      }
    for (int j = 0; j < 4; j++)
      for (int c = 0; c < NC; c++) _mm256_storeu_ps(o + (hh + j) * ldo + 8 * c, acc[j][c]);
  }
  for (; hh < h; hh++) {
    __m256 acc[NC];
    for (int c = 0; c < NC; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t t = 0; t < Tk; t++) {
      const __m256 p = _mm256_set1_ps(P[hh * ldp + t]);
      const float* v = V + hh * ldkv + t * dh;
      for (int c = 0; c < NC; c++) acc[c] = _mm256_fmadd_ps(p, _mm256_loadu_ps(v + 8 * c), acc[c]);
    }
    for (int c = 0; c < NC; c++) _mm256_storeu_ps(o + hh * ldo + 8 * c, acc[c]);
  }
  return true;
#else
  (void)q, (void)ldq, (void)K, (void)V, (void)ldkv, (void)o, (void)ldo, (void)P, (void)ldp, (void)h, (void)Tk, (void)scale;
  return false;
#endif
}

// oneTokenAttentionHeadsAvx for the head widths it has, else false (the caller goes head by head).
static bool oneTokenAttentionHeads(const float* q, int64_t ldq, const float* K, const float* V, int64_t ldkv, float* o,
                                   int64_t ldo, float* P, int64_t ldp, int64_t h, int64_t Tk, int64_t dh, float scale) {
  switch (dh) {
    case 8: return oneTokenAttentionHeadsAvx<1>(q, ldq, K, V, ldkv, o, ldo, P, ldp, h, Tk, scale);
    case 16: return oneTokenAttentionHeadsAvx<2>(q, ldq, K, V, ldkv, o, ldo, P, ldp, h, Tk, scale);
    case 24: return oneTokenAttentionHeadsAvx<3>(q, ldq, K, V, ldkv, o, ldo, P, ldp, h, Tk, scale);
    case 32: return oneTokenAttentionHeadsAvx<4>(q, ldq, K, V, ldkv, o, ldo, P, ldp, h, Tk, scale);
  }
  return false;
}

// One row's L new positions (queries at stride ldq) attending causally, for one head, to the
// cache's first t0 + L positions Kb, Vb [·, dh]; the output at stride ldo. P holds L·(t0 + L).
static void selfAttendRow(const float* q, int64_t ldq, const float* Kb, const float* Vb, float* o, int64_t ldo, float* P,
                          int64_t L, int64_t t0, int64_t dh, float scale) {
  const int64_t Tk = t0 + L;
  if (L == 1) {
    oneTokenAttention(q, Kb, Vb, o, P, Tk, dh, scale);
    return;
  }
  // from position 0 the probabilities are ±0 above the diagonal, as in a causal attnForward
  headProduct(ChainOp::NT, L, Tk, dh, q, ldq, Kb, dh, P, Tk, t0 == 0 ? Cut::Cols : Cut::None);
  softmaxRows(P, L, Tk, Tk, scale, nullptr, t0);
  headProduct(ChainOp::NN, L, dh, Tk, P, Tk, Vb, dh, o, ldo, t0 == 0 ? Cut::KTo : Cut::None);
}

// One query's M rows attending to its S memory positions (CrossAttention's loop body for one b).
static void crossAttendQuery(const float* q, const float* K, const float* V, const float* mask, float* out, float* pm,
                             float* P, int64_t M, int64_t h, int64_t dh, int64_t S, float scale) {
  const int64_t d = h * dh;
  for (int64_t i = 0; i < M * S; i++) pm[i] = 0.f;
  for (int64_t hh = 0; hh < h; hh++) {
    const float* Kb = K + hh * S * dh;
    const float* Vb = V + hh * S * dh;
    headProduct(ChainOp::NT, M, S, dh, q + hh * dh, d, Kb, dh, P, S);
    softmaxRows(P, M, S, S, scale, mask, -1);
    headProduct(ChainOp::NN, M, dh, S, P, S, Vb, dh, out + hh * dh, d);
    const float inv = 1.f / (float)h;
    for (int64_t i = 0; i < M * S; i++) pm[i] += P[i] * inv;
  }
}

// selfAttention(qkv, K, V, out, N, L, t0, h, dh, T, scale[, headByHead])
//   qkv [N·L, 3d] (q | k | v, heads contiguous within each); the cache K, V [N, h, T, dh] gets
//   positions t0 … t0+L−1 written; out [N·L, d] = causal softmax(q kᵀ·scale) v over 0 … t.
static Napi::Value SelfAttention(const Napi::CallbackInfo& info) {
  const float* qkv = f32(info[0]);
  float* K = f32(info[1]);
  float* V = f32(info[2]);
  float* out = f32(info[3]);
  const int64_t N = i64(info[4]), L = i64(info[5]), t0 = i64(info[6]), h = i64(info[7]), dh = i64(info[8]), T = i64(info[9]);
  const float scale = (float)info[10].As<Napi::Number>().DoubleValue();
  const int64_t d = h * dh, Tk = t0 + L;
  for (int64_t r = 0; r < N * L; r++) {
    const int64_t row = r / L, t = t0 + r % L;
    for (int64_t hh = 0; hh < h; hh++) {
      const int64_t c = ((row * h + hh) * T + t) * dh, src = r * 3 * d + hh * dh;
      std::memcpy(K + c, qkv + src + d, dh * sizeof(float));
      std::memcpy(V + c, qkv + src + 2 * d, dh * sizeof(float));
    }
  }
  // One new token per row (sampling) costs reading the cache (every cached key and value once
  // per step), not the multiply-adds: at 64 rows and 64 positions a step reads 1.5 MB, hence the
  // larger work estimate for splitting it across threads.
  // with a 12th argument true, one-token steps go head by head (the path oneTokenAttentionHeads must
  // match bit for bit; test/native/addon.test.ts compares them)
  const bool headByHead = info.Length() > 11 && info[11].ToBoolean();
  const int64_t ldp = (Tk + 7) & ~(int64_t)7;
  parallelFor(N, (L == 1 ? 64.0 : 2.0) * N * h * L * Tk * dh, [&](int64_t r0, int64_t r1) {
    std::vector<float> P(std::max(L * Tk, h * ldp));
    for (int64_t row = r0; row < r1; row++) {
      if (L == 1 && !headByHead &&
          oneTokenAttentionHeads(qkv + row * 3 * d, dh, K + row * h * T * dh, V + row * h * T * dh, T * dh, out + row * d, dh,
                                 P.data(), ldp, h, Tk, dh, scale))
        continue;
      for (int64_t hh = 0; hh < h; hh++)
        selfAttendRow(qkv + row * L * 3 * d + hh * dh, 3 * d, K + (row * h + hh) * T * dh, V + (row * h + hh) * T * dh,
                      out + row * L * d + hh * dh, d, P.data(), L, t0, dh, scale);
    }
  });
  return info.Env().Undefined();
}

// crossAttention(q, K, V, mask, out, meanProbs, B, M, h, dh, S, scale)
//   q [B·M, d] (M rows per query), K, V [B, h, S, dh], additive mask [B, S];
//   out [B·M, d] = softmax(q kᵀ·scale + mask) v per head; meanProbs [B·M, S] = the probabilities
//   averaged over heads (for the position readout).
static Napi::Value CrossAttention(const Napi::CallbackInfo& info) {
  const float* q = f32(info[0]);
  const float* K = f32(info[1]);
  const float* V = f32(info[2]);
  const float* mask = f32(info[3]);
  float* out = f32(info[4]);
  float* pm = f32(info[5]);
  const int64_t B = i64(info[6]), M = i64(info[7]), h = i64(info[8]), dh = i64(info[9]), S = i64(info[10]);
  const float scale = (float)info[11].As<Napi::Number>().DoubleValue();
  const int64_t d = h * dh;
  parallelFor(B, 2.0 * B * h * M * S * dh, [&](int64_t b0, int64_t b1) {
    std::vector<float> P(M * S);
    for (int64_t b = b0; b < b1; b++)
      crossAttendQuery(q + b * M * d, K + b * h * S * dh, V + b * h * S * dh, mask + b * S, out + b * M * d, pm + b * M * S,
                       P.data(), M, h, dh, S, scale);
  });
  return info.Env().Undefined();
}

// ── The decoder's whole step (lib/native/decoder.ts FastDecoder.step) ───────────────────────────
//
// decoderStep(w, dims, ids, live, xk, xv, keyMask, pos, ck, cv, logits)
//   One decoding step of L new tokens per row for the N live rows, as FastDecoder.step wrote it
//   kernel by kernel: the same products, layer norms, attentions and additions in the same order,
//   so on one thread the logits are the same bits. With several threads the rows are split into
//   contiguous parts and each part runs every layer on its rows: the activations of a part stay in
//   its core's caches, which splitting each small kernel of a one-token step cannot achieve.
//   w: Float32Arrays [tok_emb, dec_pos, dec_ln.g, dec_ln.b, then per layer ln1.g, ln1.b, qkv.w,
//   qkv.b, attn_out.w, attn_out.b, lnx.g, lnx.b, xq.w, xq.b, x_out.w, x_out.b, ln2.g, ln2.b,
//   fc1.w, fc1.b, fc2.w, fc2.b, and with the position readout x_gate.w, x_gate.b];
//   dims: [layers, d, h, V, S, G, Tmax, t0, L, readout, ffn, logSoftmax] and eps (13th);
//   ids [N·L] (Int32), live [N] (Int32, the rows' original indices, ascending);
//   xk, xv: per layer [B, h, S, dh]; keyMask [B, S]; pos [S, d]; ck, cv: per layer [N, h, Tmax, dh];
//   logits [N·L, V] (log-probabilities when dims[11] is 1); optionally lens [N] (Int32): row n
//   computes only its first lens[n] positions (a completion's padding never changes the positions
//   before it: attention is causal), and the logits of the others are 0.
static int32_t* i32(const Napi::Value& v) {
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  return reinterpret_cast<int32_t*>(static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset());
}

// y [rows, dout] = x [rows, din] · W + b (then GELU when asked): FastDecoder's `linear`
static void linearRows(const float* x, int64_t rows, const float* W, const float* b, int64_t din, int64_t dout, float* y,
                       bool gelu) {
  if (rows == 0) return;
  product0(false, false, rows, dout, din, x, din, W, dout, y, dout);
  biasActRows(y, b, rows, dout, gelu);
}


struct StepScratch {
  std::vector<float> x, ln, qkv, att, proj, xn, xq, ctx, mp, xo, where, gate, f1, P;
};

static Napi::Value DecoderStep(const Napi::CallbackInfo& info) {
  Napi::Array wa = info[0].As<Napi::Array>();
  std::vector<const float*> w(wa.Length());
  for (uint32_t i = 0; i < wa.Length(); i++) w[i] = f32(wa.Get(i));
  Napi::Float64Array dimsA = info[1].As<Napi::Float64Array>();
  const double* dims = dimsA.Data();
  const int64_t layers = (int64_t)dims[0], d = (int64_t)dims[1], h = (int64_t)dims[2], Vocab = (int64_t)dims[3],
                S = (int64_t)dims[4], G = (int64_t)dims[5], Tmax = (int64_t)dims[6], t0 = (int64_t)dims[7],
                L = (int64_t)dims[8], ffn = (int64_t)dims[10];
  const bool readout = dims[9] != 0, logSoftmax = dims[11] != 0;
  const float eps = (float)dims[12];
  const int32_t* ids = i32(info[2]);
  Napi::TypedArray liveA = info[3].As<Napi::TypedArray>();
  const int32_t* live = i32(info[3]);
  const int64_t N = (int64_t)liveA.ElementLength();
  Napi::Array xkA = info[4].As<Napi::Array>(), xvA = info[5].As<Napi::Array>();
  const float* keyMask = f32(info[6]);
  const float* pos = f32(info[7]);
  Napi::Array ckA = info[8].As<Napi::Array>(), cvA = info[9].As<Napi::Array>();
  float* logits = f32(info[10]);
  const int32_t* lens = info.Length() > 11 && info[11].IsTypedArray() ? i32(info[11]) : nullptr;
  std::vector<const float*> xk(layers), xv(layers);
  std::vector<float*> ck(layers), cv(layers);
  for (int64_t li = 0; li < layers; li++) {
    xk[li] = f32(xkA.Get((uint32_t)li));
    xv[li] = f32(xvA.Get((uint32_t)li));
    ck[li] = f32(ckA.Get((uint32_t)li));
    cv[li] = f32(cvA.Get((uint32_t)li));
  }
  const int64_t perLayer = readout ? 20 : 18;
  if ((int64_t)w.size() != 4 + layers * perLayer) {
    Napi::RangeError::New(info.Env(), "decoderStep: wrong number of weight arrays").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  const int64_t dh = d / h;
  const float scale = 1.f / std::sqrt((float)dh);
  const float* emb = w[0];
  const float* dpos = w[1];
  auto len = [&](int64_t n) -> int64_t { return lens ? std::min<int64_t>(std::max<int32_t>(lens[n], 0), L) : L; };
  int64_t positions = 0;
  for (int64_t n = 0; n < N; n++) positions += len(n);
  // one layer's multiply-adds per row position, for the threading threshold
  const double work = (double)positions * (d * (3 * d + 3 * d + 2 * ffn + S) + Vocab * d / layers) * layers;
  parallelFor(N, work, [&](int64_t n0, int64_t n1) {
    thread_local StepScratch sc;
    thread_local std::vector<int64_t> start;  // row n's first packed position, n0 … n1
    start.assign(n1 - n0 + 1, 0);
    for (int64_t n = n0; n < n1; n++) start[n - n0 + 1] = start[n - n0] + len(n);
    const int64_t rows = start[n1 - n0];  // the part's positions, packed row after row
    auto need = [](std::vector<float>& v, int64_t n) {
      if ((int64_t)v.size() < n) v.resize(n);
      return v.data();
    };
    float* x = need(sc.x, rows * d);
    float* ln = need(sc.ln, rows * (lens ? std::max(d, Vocab) : d));
    float* qkv = need(sc.qkv, rows * 3 * d);
    float* att = need(sc.att, rows * d);
    float* proj = need(sc.proj, rows * d);
    float* xn = need(sc.xn, rows * d);
    float* xq = need(sc.xq, rows * d);
    float* ctx = need(sc.ctx, rows * d);
    float* mp = need(sc.mp, rows * S);
    float* xo = need(sc.xo, rows * d);
    float* where = need(sc.where, rows * d);
    float* gate = need(sc.gate, rows * 2);
    float* f1 = need(sc.f1, rows * ffn);
    // one-token steps: a row of padded scores per head (oneTokenAttentionHeads)
    const int64_t ldp = (t0 + L + 7) & ~(int64_t)7;
    float* P = need(sc.P, std::max({L * (t0 + L), G * L * S, h * ldp}));
    for (int64_t n = n0; n < n1; n++)
      for (int64_t i = 0; i < len(n); i++) {
        const float* e = emb + (int64_t)ids[n * L + i] * d;
        const float* p = dpos + (t0 + i) * d;
        float* o = x + (start[n - n0] + i) * d;
        for (int64_t j = 0; j < d; j++) o[j] = e[j] + p[j];
      }
    for (int64_t li = 0; li < layers; li++) {
      const float* const* lw = w.data() + 4 + li * perLayer;
      // causal self-attention over the cache
      layerNormRows(x, lw[0], lw[1], ln, nullptr, nullptr, rows, d, eps);
      linearRows(ln, rows, lw[2], lw[3], d, 3 * d, qkv, false);
      for (int64_t n = n0; n < n1; n++) {
        const int64_t Ln = len(n);
        if (!Ln) continue;
        const float* qr = qkv + start[n - n0] * 3 * d;
        for (int64_t i = 0; i < Ln; i++)
          for (int64_t hh = 0; hh < h; hh++) {
            const int64_t c = ((n * h + hh) * Tmax + t0 + i) * dh, src = i * 3 * d + hh * dh;
            std::memcpy(ck[li] + c, qr + src + d, dh * sizeof(float));
            std::memcpy(cv[li] + c, qr + src + 2 * d, dh * sizeof(float));
          }
        if (Ln == 1 && oneTokenAttentionHeads(qr, dh, ck[li] + n * h * Tmax * dh, cv[li] + n * h * Tmax * dh, Tmax * dh,
                                              att + start[n - n0] * d, dh, P, ldp, h, t0 + 1, dh, scale))
          continue;
        for (int64_t hh = 0; hh < h; hh++)
          selfAttendRow(qr + hh * dh, 3 * d, ck[li] + (n * h + hh) * Tmax * dh, cv[li] + (n * h + hh) * Tmax * dh,
                        att + start[n - n0] * d + hh * dh, d, P, Ln, t0, dh, scale);
      }
      linearRows(att, rows, lw[4], lw[5], d, d, proj, false);
      for (int64_t i = 0; i < rows * d; i++) x[i] += proj[i];
      // cross-attention: each run of rows of one query attends to that query's memory
      layerNormRows(x, lw[6], lw[7], xn, nullptr, nullptr, rows, d, eps);
      linearRows(xn, rows, lw[8], lw[9], d, d, xq, false);
      for (int64_t n = n0; n < n1;) {
        const int64_t b = live[n] / G;
        int64_t m = n + 1;
        while (m < n1 && live[m] / G == b) m++;
        const int64_t r0 = start[n - n0], M = start[m - n0] - r0, kv = h * S * dh;
        if (M)
          crossAttendQuery(xq + r0 * d, xk[li] + b * kv, xv[li] + b * kv, keyMask + b * S, ctx + r0 * d, mp + r0 * S, P, M,
                           h, dh, S, scale);
        n = m;
      }
      linearRows(ctx, rows, lw[10], lw[11], d, d, xo, false);
      if (readout) {
        // where = (probabilities averaged over heads) · position codes, gated per axis from xn; the
        // gate in double precision, as JavaScript computed it
        if (rows)
          product0(false, false, rows, d, S, mp, S, pos, d, where, d);
        linearRows(xn, rows, lw[18], lw[19], d, 2, gate, false);
        const int64_t half = d / 2;
        for (int64_t r = 0; r < rows; r++) {
          const double gx = 1.0 / (1.0 + std::exp(-(double)gate[2 * r])), gy = 1.0 / (1.0 + std::exp(-(double)gate[2 * r + 1]));
          float* o = xo + r * d;
          const float* wr = where + r * d;
          for (int64_t j = 0; j < half; j++) o[j] = (float)((double)o[j] + (double)wr[j] * gx);
          for (int64_t j = half; j < d; j++) o[j] = (float)((double)o[j] + (double)wr[j] * gy);
        }
      }
      for (int64_t i = 0; i < rows * d; i++) x[i] += xo[i];
      // MLP
      layerNormRows(x, lw[12], lw[13], ln, nullptr, nullptr, rows, d, eps);
      linearRows(ln, rows, lw[14], lw[15], d, ffn, f1, true);
      linearRows(f1, rows, lw[16], lw[17], ffn, d, proj, false);
      for (int64_t i = 0; i < rows * d; i++) x[i] += proj[i];
    }
    layerNormRows(x, w[2], w[3], xn, nullptr, nullptr, rows, d, eps);
    // the logits of the packed positions, then (with lens) moved to their rows' places in [N·L, V]
    float* out = lens ? ln : logits + n0 * L * Vocab;
    if (rows)
      product0(false, true, rows, Vocab, d, xn, d, emb, d, out, Vocab);
    if (logSoftmax) logSoftmaxRows(out, rows, Vocab);
    if (lens)
      for (int64_t n = n0; n < n1; n++) {
        float* dst = logits + n * L * Vocab;
        const int64_t Ln = len(n);
        std::memcpy(dst, out + start[n - n0] * Vocab, Ln * Vocab * sizeof(float));
        std::fill(dst + Ln * Vocab, dst + L * Vocab, 0.f);
      }
  });
  return info.Env().Undefined();
}

// ── Drawing sampled tokens (lib/model/generate.ts) ────────────────────────────────────────────
//
// Sampling draws row n's token k with probability ∝ exp((log π[k] − max log π) / T), in JavaScript
// with Math.exp in double precision and Rng.weighted's running subtraction. These functions do the
// same arithmetic here, bit for bit, so that moving the draw out of JavaScript changes no token:
// jsExp is e^x as V8's Math.exp computes it (fdlibm's algorithm; test/native/addon.test.ts compares
// it with Math.exp), built without FMA contraction, which would change the rounding of its steps.

// e^x by fdlibm's method: x = k·ln2 + r, |r| ≤ ln2/2, with ln2 split into a high part whose
// products with k are exact and a low part; e^r = 1 + r + r·c/(2 − c) with c = r − r²·R(r²), R the
// degree-5 minimax polynomial below; then the exponent of the result raised by k.
namespace jsmath {
constexpr double ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10,
                 invLn2 = 1.44269504088896338700e+00, P1 = 1.66666666666666019037e-01,
                 P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
                 P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08;
}  // namespace jsmath

__attribute__((optimize("fp-contract=off"))) static double jsExp(double x) {
  using namespace jsmath;
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  const uint32_t hx = (uint32_t)(bits >> 32) & 0x7fffffffu;
  const bool neg = bits >> 63;
  if (hx >= 0x40862E42u) {  // |x| ≥ 709.78: overflow, underflow, ±∞ or NaN
    if (x != x) return x;
    if (std::isinf(x)) return neg ? 0.0 : x;
    if (x > 7.09782712893383973096e+02) return INFINITY;
    if (x < -7.45133219101941108420e+02) return 0.0;
  }
  double hi = 0, lo = 0;
  int k = 0;
  if (hx > 0x3FD62E42u) {    // |x| > ln2/2
    if (hx < 0x3FF0A2B2u) {  // and < 1.5·ln2: k = ±1
      if (x == 1.0) return 2.718281828459045;  // Math.exp(1) is e, correctly rounded
      hi = neg ? x + ln2Hi : x - ln2Hi;
      lo = neg ? -ln2Lo : ln2Lo;
      k = neg ? -1 : 1;
    } else {
      k = (int)(invLn2 * x + (neg ? -0.5 : 0.5));
      const double t = k;
      hi = x - t * ln2Hi;
      lo = t * ln2Lo;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000u) {  // |x| < 2⁻²⁸
    return 1.0 + x;
  }
  const double t = x * x;
  const double c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const double y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  double twopk;
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * 8.988465674311579539e307;
    const uint64_t b = (uint64_t)(1023 + k) << 52;
    std::memcpy(&twopk, &b, 8);
    return y * twopk;
  }
  const uint64_t b = (uint64_t)(1023 + k + 1000) << 52;
  std::memcpy(&twopk, &b, 8);
  return y * twopk * 9.33263618503218878990e-302;
}

// jsExp on every element of xs [n] into out, four at a time with AVX2 where it can (the same
// operations lane by lane: with lo = 0 and hi = x the general formula is the k = 0 one, exactly);
// lanes outside |x| ∈ [2⁻²⁸, 700], NaN and x = 1 go through jsExp itself.
__attribute__((optimize("fp-contract=off"))) static void jsExpArray(const double* xs, double* out, int64_t n) {
  int64_t i = 0;
#if defined(__AVX2__)
  using namespace jsmath;
  const __m256i absMask = _mm256_set1_epi64x(0x7fffffffffffffffLL);
  const __m256d big = _mm256_set1_pd(700.0), tiny = _mm256_set1_pd(0x1p-28);
  for (; i + 4 <= n; i += 4) {
    const __m256d x = _mm256_loadu_pd(xs + i);
    const __m256d ax = _mm256_castsi256_pd(_mm256_and_si256(_mm256_castpd_si256(x), absMask));
    // special lanes: not (2⁻²⁸ ≤ |x| ≤ 700) — NaN compares false — or x = 1
    const __m256d ok = _mm256_and_pd(_mm256_cmp_pd(ax, big, _CMP_LE_OQ), _mm256_cmp_pd(ax, tiny, _CMP_GE_OQ));
    const __m256d special = _mm256_or_pd(_mm256_xor_pd(ok, _mm256_castsi256_pd(_mm256_set1_epi64x(-1))),
                                         _mm256_cmp_pd(x, _mm256_set1_pd(1.0), _CMP_EQ_OQ));
    // the high words, as jsExp's hx
    const __m256i hx = _mm256_srli_epi64(_mm256_castpd_si256(ax), 32);
    const __m256d negM = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ);
    const __m256d half = _mm256_blendv_pd(_mm256_set1_pd(0.5), _mm256_set1_pd(-0.5), negM);
    const __m128i kGen = _mm256_cvttpd_epi32(_mm256_add_pd(_mm256_mul_pd(_mm256_set1_pd(invLn2), x), half));
    const __m128i kOne = _mm256_cvtpd_epi32(_mm256_blendv_pd(_mm256_set1_pd(1.0), _mm256_set1_pd(-1.0), negM));
    // hx > 0x3FD62E42: k ≠ 0; hx < 0x3FF0A2B2: k = ±1 (64-bit lanes → the four low 32-bit words)
    const __m256i reduce = _mm256_cmpgt_epi64(hx, _mm256_set1_epi64x(0x3FD62E42));
    const __m256i near = _mm256_cmpgt_epi64(_mm256_set1_epi64x(0x3FF0A2B2), hx);
    const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    const __m128i reduce32 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(reduce, pick));
    const __m128i near32 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(near, pick));
    const __m128i k = _mm_and_si128(reduce32, _mm_blendv_epi8(kGen, kOne, near32));
    const __m256d t = _mm256_cvtepi32_pd(k);
    const __m256d hi = _mm256_sub_pd(x, _mm256_mul_pd(t, _mm256_set1_pd(ln2Hi)));
    const __m256d lo = _mm256_mul_pd(t, _mm256_set1_pd(ln2Lo));
    const __m256d r = _mm256_sub_pd(hi, lo);
    const __m256d tt = _mm256_mul_pd(r, r);
    __m256d poly = _mm256_add_pd(_mm256_set1_pd(P4), _mm256_mul_pd(tt, _mm256_set1_pd(P5)));
    poly = _mm256_add_pd(_mm256_set1_pd(P3), _mm256_mul_pd(tt, poly));
    poly = _mm256_add_pd(_mm256_set1_pd(P2), _mm256_mul_pd(tt, poly));
    poly = _mm256_add_pd(_mm256_set1_pd(P1), _mm256_mul_pd(tt, poly));
    const __m256d c = _mm256_sub_pd(r, _mm256_mul_pd(tt, poly));
    const __m256d q = _mm256_div_pd(_mm256_mul_pd(r, c), _mm256_sub_pd(_mm256_set1_pd(2.0), c));
    const __m256d y = _mm256_sub_pd(_mm256_set1_pd(1.0), _mm256_sub_pd(_mm256_sub_pd(lo, q), hi));
    const __m256i e = _mm256_slli_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(k), _mm256_set1_epi64x(1023)), 52);
    _mm256_storeu_pd(out + i, _mm256_mul_pd(y, _mm256_castsi256_pd(e)));
    const int m = _mm256_movemask_pd(special);
    if (m)
      for (int j = 0; j < 4; j++)
        if (m >> j & 1) out[i + j] = jsExp(xs[i + j]);
  }
#endif
  for (; i < n; i++) out[i] = jsExp(xs[i]);
}

// expLikeJs(xs, out): out[i] = Math.exp(xs[i]), bit for bit (Float64Arrays)
static Napi::Value ExpLikeJs(const Napi::CallbackInfo& info) {
  Napi::Float64Array xs = info[0].As<Napi::Float64Array>(), out = info[1].As<Napi::Float64Array>();
  jsExpArray(xs.Data(), out.Data(), (int64_t)std::min(xs.ElementLength(), out.ElementLength()));
  return info.Env().Undefined();
}

// drawTokens(logProbs, V, u, temperature, out): for each row r of logProbs [rows, V] (Float32) with
//   u[r] ≥ 0 (Float64; a uniform draw in [0, 1)), out[r] (Int32) = the token generate.ts's JavaScript
//   draws with that uniform: w_j = Math.exp((lp_j − m) / T), m the row's Math.max; then Rng.weighted:
//   u·Σw, less w_j in order until below 0 (else the last j with w_j > 0; −2 when there is none).
//   Rows with u[r] < 0 get −1.
__attribute__((optimize("fp-contract=off"))) static Napi::Value DrawTokens(const Napi::CallbackInfo& info) {
  size_t nLp;
  const float* lp = floatData(info[0], &nLp);
  const int64_t V = i64(info[1]);
  Napi::Float64Array uA = info[2].As<Napi::Float64Array>();
  const double T = info[3].As<Napi::Number>().DoubleValue();
  int32_t* out = i32(info[4]);
  const double* u = uA.Data();
  const int64_t rows = (int64_t)uA.ElementLength();
  if (V <= 0 || (int64_t)nLp < rows * V) {
    Napi::RangeError::New(info.Env(), "drawTokens: logProbs holds fewer than rows × V values").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::vector<double> x(V), w(V);
  for (int64_t r = 0; r < rows; r++) {
    if (!(u[r] >= 0)) {
      out[r] = -1;
      continue;
    }
    const float* row = lp + r * V;
    // Math.max: NaN if any is NaN, +0 over −0
    double m = -INFINITY;
    for (int64_t j = 0; j < V; j++) {
      const double v = row[j];
      if (v != v || m != m) m = NAN;
      else if (v > m || (v == 0 && m == 0 && !std::signbit(v))) m = v;
    }
    for (int64_t j = 0; j < V; j++) x[j] = ((double)row[j] - m) / T;
    jsExpArray(x.data(), w.data(), V);
    double total = 0;
    for (int64_t j = 0; j < V; j++) total += w[j];
    double left = u[r] * total;
    int32_t k = -2;
    for (int64_t j = 0; j < V; j++) {
      left -= w[j];
      if (left < 0) {
        k = (int32_t)j;
        break;
      }
    }
    if (k == -2)
      for (int64_t j = V - 1; j >= 0; j--)
        if (w[j] > 0) {
          k = (int32_t)j;
          break;
        }
    out[r] = k;
  }
  return info.Env().Undefined();
}

// ── Fused training ops (lib/blas.ts registers them; lib/policy.ts uses them on blas) ─────────

// lnForward(x, g, b, y, mean, rstd, rows, d, eps): y = (x − μ)·rstd·g + b per row; keeps μ, rstd
static Napi::Value LnForward(const Napi::CallbackInfo& info) {
  layerNormRows(f32(info[0]), f32(info[1]), f32(info[2]), f32(info[3]), f32(info[4]), f32(info[5]), i64(info[6]), i64(info[7]),
                (float)info[8].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

// lnBackward(dy, x, g, mean, rstd, dx, dg, db, rows, d[, res]):
//   x̂ = (x − μ)·rstd, dx̂ = dy·g, dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),
//   dg = Σ_rows dy·x̂, db = Σ_rows dy; with res [rows, d] (non-empty) dx = res + that, the bits of an
//   Add after it (its own loop, so the product is rounded before the sum, as the Add kernel has it)
//   with the row still in L1: the residual stream's gradient without a pass of its own.
static Napi::Value LnBackward(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const float* x = f32(info[1]);
  const float* g = f32(info[2]);
  const float* mu = f32(info[3]);
  const float* rs = f32(info[4]);
  float* dx = f32(info[5]);
  float* dg = f32(info[6]);
  float* db = f32(info[7]);
  const int64_t rows = i64(info[8]), d = i64(info[9]);
  size_t nres = 0;
  const float* res = info.Length() > 10 ? floatData(info[10], &nres) : nullptr;
  std::vector<float> xh(d), dxh(d);
  for (int64_t j = 0; j < d; j++) { dg[j] = 0.f; db[j] = 0.f; }
  float* __restrict xhp = xh.data();
  float* __restrict dxhp = dxh.data();
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict dyr = dy + r * d;
    const float* __restrict xr = x + r * d;
    const float mr = mu[r], rr = rs[r];
    float a = 0.f, c = 0.f;
#pragma omp simd reduction(+ : a, c)
    for (int64_t j = 0; j < d; j++) {
      xhp[j] = (xr[j] - mr) * rr;
      dxhp[j] = dyr[j] * g[j];
      a += dxhp[j];
      c += dxhp[j] * xhp[j];
    }
#pragma omp simd
    for (int64_t j = 0; j < d; j++) {
      dg[j] += dyr[j] * xhp[j];
      db[j] += dyr[j];
    }
    a /= (float)d;
    c /= (float)d;
    float* __restrict dxr = dx + r * d;
#pragma omp simd
    for (int64_t j = 0; j < d; j++) dxr[j] = rr * (dxhp[j] - a - xhp[j] * c);
    if (nres) {
      const float* __restrict rsr = res + r * d;
#pragma omp simd
      for (int64_t j = 0; j < d; j++) dxr[j] = rsr[j] + dxr[j];
    }
  }
  return info.Env().Undefined();
}

// geluForward(x, y, n): y = x·σ(1.702x);  geluBackward(dy, x, dx, n): dx = dy·(σ + 1.702·x·σ·(1 − σ))
static Napi::Value GeluForward(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  float* y = f32(info[1]);
  const int64_t n = i64(info[2]);
  geluValues(x, y, n);
  return info.Env().Undefined();
}

static Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const float* x = f32(info[1]);
  float* dx = f32(info[2]);
  const int64_t n = i64(info[3]);
  geluGrad(dy, x, dx, n);
  return info.Env().Undefined();
}

// adamw(p, g, m, v, pOut, mOut, vOut, n, b1, b2, c1, c2, eps, lr, wd, scale): one AdamW step in
// the order lib/optim.ts writes it with tfjs ops (g ← g·scale; m ← m·b1 + g·(1−b1);
// v ← v·b2 + g²·(1−b2); u = (m/c1)/(√(v/c2) + eps) (+ p·wd); p ← p − u·lr).
static Napi::Value AdamW(const Napi::CallbackInfo& info) {
  const float* p = f32(info[0]);
  const float* g = f32(info[1]);
  const float* m = f32(info[2]);
  const float* v = f32(info[3]);
  float* po = f32(info[4]);
  float* mo = f32(info[5]);
  float* vo = f32(info[6]);
  const int64_t n = i64(info[7]);
  auto num = [&](int i) { return (float)info[i].As<Napi::Number>().DoubleValue(); };
  const float b1 = num(8), b2 = num(9), c1 = num(10), c2 = num(11), eps = num(12), lr = num(13), wd = num(14), scale = num(15);
  // 1 − β in double, then float: what tfjs does with the JS number 1 − b1
  const float a1 = (float)(1.0 - info[8].As<Napi::Number>().DoubleValue()), a2 = (float)(1.0 - info[9].As<Napi::Number>().DoubleValue());
  // Element-wise, so any split computes the same bits. Its cost is moving seven arrays through
  // the caches (a step's 81 parameters are 15 MB of traffic), and two cores move them faster than
  // one: parameters from 8k elements (most of the policy's matrices) are split.
  parallelFor(n, 512.0 * n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const float gi = scale == 1.f ? g[i] : g[i] * scale;
      const float mi = m[i] * b1 + gi * a1;
      const float vi = v[i] * b2 + (gi * gi) * a2;
      float u = (mi / c1) / (std::sqrt(vi / c2) + eps);
      if (wd != 0.f) u = u + p[i] * wd;
      po[i] = p[i] - u * lr;
      mo[i] = mi;
      vo[i] = vi;
    }
  });
  return info.Env().Undefined();
}

// AdamW over elements [j0, j1) of one parameter, in place: adamw's arithmetic element by element.
// The clip scale and the decay are decided outside the loop and the arrays do not overlap, so the
// compiler vectorises it; each element still sees the same float operations in the same order
// (division and square root are exactly rounded in vector form too), so the bits are adamw's.
template <bool SCALED, bool DECAYS>
static void adamwSpan(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                      int64_t j0, int64_t j1, float b1, float b2, float a1, float a2, float c1, float c2, float eps,
                      float lr, float wd, float scale) {
  for (int64_t j = j0; j < j1; j++) {
    const float gi = SCALED ? g[j] * scale : g[j];
    const float mi = m[j] * b1 + gi * a1;
    const float vi = v[j] * b2 + (gi * gi) * a2;
    float u = (mi / c1) / (std::sqrt(vi / c2) + eps);
    if (DECAYS) u = u + p[j] * wd;
    p[j] = p[j] - u * lr;
    m[j] = mi;
    v[j] = vi;
  }
}

// adamwInPlace(ps, gs, ms, vs, wds, b1, b2, c1, c2, eps, lr, scale): the same step as adamw for a
// whole list of parameters in one call, written over p, m and v (arrays of equal-length lists;
// wds[i] is parameter i's decay). One split over all their elements: the policy's 81 parameters
// are one pass, not 81 calls (each one a tfjs kernel with three outputs and three assigns).
static Napi::Value AdamWInPlace(const Napi::CallbackInfo& info) {
  Napi::Array P = info[0].As<Napi::Array>(), G = info[1].As<Napi::Array>(), M = info[2].As<Napi::Array>(),
              V = info[3].As<Napi::Array>();
  Napi::Float64Array wdArr = info[4].As<Napi::Float64Array>();
  const size_t nW = wdArr.ElementLength();
  const uint32_t n = P.Length();
  if (G.Length() != n || M.Length() != n || V.Length() != n || nW != n) {
    Napi::TypeError::New(info.Env(), "adamwInPlace: p, g, m, v and wd lists differ in length").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  struct Part { float *p, *m, *v; const float* g; int64_t len; float wd; };
  std::vector<Part> parts(n);
  std::vector<int64_t> start(n + 1, 0);
  for (uint32_t i = 0; i < n; i++) {
    size_t lp, lg, lm, lv;
    parts[i].p = floatData(P.Get(i), &lp);
    parts[i].g = floatData(G.Get(i), &lg);
    parts[i].m = floatData(M.Get(i), &lm);
    parts[i].v = floatData(V.Get(i), &lv);
    if (lg != lp || lm != lp || lv != lp) {
      Napi::TypeError::New(info.Env(), "adamwInPlace: parameter " + std::to_string(i) + "'s p, g, m, v differ in length")
          .ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    parts[i].len = (int64_t)lp;
    parts[i].wd = (float)wdArr[i];
    start[i + 1] = start[i] + (int64_t)lp;
  }
  auto num = [&](int i) { return (float)info[i].As<Napi::Number>().DoubleValue(); };
  const float b1 = num(5), b2 = num(6), c1 = num(7), c2 = num(8), eps = num(9), lr = num(10), scale = num(11);
  const float a1 = (float)(1.0 - info[5].As<Napi::Number>().DoubleValue()), a2 = (float)(1.0 - info[6].As<Napi::Number>().DoubleValue());
  const int64_t total = start[n];
  parallelFor(total, 512.0 * total, [&](int64_t e0, int64_t e1) {
    // the parameters overlapping [e0, e1), each over its part of the range; element-wise as adamw
    uint32_t i = (uint32_t)(std::upper_bound(start.begin(), start.end(), e0) - start.begin()) - 1;
    for (; i < n && start[i] < e1; i++) {
      const Part& t = parts[i];
      const int64_t j0 = std::max<int64_t>(e0 - start[i], 0), j1 = std::min<int64_t>(e1 - start[i], t.len);
      const bool scaled = scale != 1.f, decays = t.wd != 0.f;
      if (scaled && decays) adamwSpan<true, true>(t.p, t.g, t.m, t.v, j0, j1, b1, b2, a1, a2, c1, c2, eps, lr, t.wd, scale);
      else if (scaled) adamwSpan<true, false>(t.p, t.g, t.m, t.v, j0, j1, b1, b2, a1, a2, c1, c2, eps, lr, t.wd, scale);
      else if (decays) adamwSpan<false, true>(t.p, t.g, t.m, t.v, j0, j1, b1, b2, a1, a2, c1, c2, eps, lr, t.wd, scale);
      else adamwSpan<false, false>(t.p, t.g, t.m, t.v, j0, j1, b1, b2, a1, a2, c1, c2, eps, lr, t.wd, scale);
    }
  });
  return info.Env().Undefined();
}

// sumSquares(x): Σ x² (double accumulator)
static Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  size_t n;
  const float* x = floatData(info[0], &n);
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return Napi::Number::New(info.Env(), s);
}

// ── Linear layers: the product, its bias and (optionally) GELU in one kernel each way ───────────
//
// A linear layer through tfjs is a matMul kernel and an Add over its output, GELU a third kernel;
// backward, GELU's gradient, two products and a Sum for the bias: six kernels, each with its own
// dispatch, tape entry and output tensor. Here they are one call each way, computing what those
// kernels compute in the same order, with each product split across threads as SgemmBatch splits
// it, so the results are the unfused kernels' bits at every thread count.

// C [M, N] = op(A)·op(B) on one thread per block of C, blocks as SgemmBatch makes them (rows, or
// columns when C has few rows); then, if given, epi(m0, m1, n0, n1) on the block just written.
// lda, ldb, ldc: row strides (0: the matrix's own width), so A or C may be columns of a wider matrix.
template <class Epi>
static void gemmSplit(bool tA, bool tB, int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C, Epi epi,
                      int64_t lda = 0, int64_t ldb = 0, int64_t ldc = 0) {
  if (!lda) lda = tA ? M : K;
  if (!ldb) ldb = tB ? K : N;
  if (!ldc) ldc = N;
  const bool byCols = M < 4 * N;
  parallelFor(byCols ? N : M, (double)M * N * K, [&](int64_t i0, int64_t i1) {
    const int64_t m0 = byCols ? 0 : i0, m1 = byCols ? M : i1, n0 = byCols ? i0 : 0, n1 = byCols ? i1 : N;
    if (K == 0)
      for (int64_t i = m0; i < m1; i++) std::fill(C + i * ldc + n0, C + i * ldc + n1, 0.f);
    else
      product0(tA, tB, m1 - m0, n1 - n0, K, A + (tA ? m0 : m0 * lda), lda, B + (tB ? n0 * ldb : n0), ldb, C + m0 * ldc + n0, ldc);
    epi(m0, m1, n0, n1);
  });
}

// db [N] = Σ_rows g [rows, N], each column summed in row order from 0 (as Reduce sums a bias's
// gradient), split over columns across threads.
static void biasGradient(const float* g, int64_t rows, int64_t N, float* db) {
  parallelFor(N, (double)rows * N, [&](int64_t n0, int64_t n1) {
    std::fill(db + n0, db + n1, 0.f);
    for (int64_t r = 0; r < rows; r++) {
      const float* gr = g + r * N;
#pragma omp simd
      for (int64_t j = n0; j < n1; j++) db[j] += gr[j];
    }
  });
}

// linearForward(x, w, b, res, y, z, rows, K, N, gelu): z = x·w + b (x [rows, K], w [K, N]);
//   a = gelu(z) when gelu (z is kept for the backward pass, else z is empty and a = z);
//   y = res + a with a residual res [rows, N] (non-empty), else y = a.
static Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  const float* w = f32(info[1]);
  const float* b = f32(info[2]);
  size_t nres, nz;
  const float* res = floatData(info[3], &nres);
  float* y = f32(info[4]);
  float* z = floatData(info[5], &nz);
  const int64_t rows = i64(info[6]), K = i64(info[7]), N = i64(info[8]);
  const bool gelu = info[9].ToBoolean();
  float* pre = gelu ? z : y;
  gemmSplit(false, false, rows, N, K, x, w, pre, [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    for (int64_t r = m0; r < m1; r++) {
      float* zr = pre + r * N;
      float* yr = y + r * N;
      const float* rr = res + r * N;
#pragma omp simd
      for (int64_t j = n0; j < n1; j++) zr[j] += b[j];
      if (gelu) geluValues(zr + n0, yr + n0, n1 - n0);
      // a loop of its own: rr + x·σ written in one would contract into an FMA, one rounding fewer
      if (nres) {
#pragma omp simd
        for (int64_t j = n0; j < n1; j++) yr[j] = rr[j] + yr[j];
      }
    }
  });
  return info.Env().Undefined();
}

// linearBackward(dy, x, w, z, dz, dx, dw, db, rows, K, N, gelu): gradients of linearForward.
//   dz = dy ⊙ gelu'(z) when gelu (written to the scratch dz [rows, N]), else dz = dy (dz empty);
//   dx = dz·wᵀ, dw = xᵀ·dz, db = Σ_rows dz (summed in row order, as Reduce does).
static Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const float* x = f32(info[1]);
  const float* w = f32(info[2]);
  size_t nz, ndz;
  const float* z = floatData(info[3], &nz);
  float* dzBuf = floatData(info[4], &ndz);
  float* dx = f32(info[5]);
  float* dw = f32(info[6]);
  float* db = f32(info[7]);
  const int64_t rows = i64(info[8]), K = i64(info[9]), N = i64(info[10]);
  const bool gelu = info[11].ToBoolean();
  const float* dz = gelu ? dzBuf : dy;
  const auto none = [](int64_t, int64_t, int64_t, int64_t) {};
  if (gelu)
    parallelFor(rows * N, 16.0 * rows * N,
                [&](int64_t i0, int64_t i1) { geluGrad(dy + i0, z + i0, dzBuf + i0, i1 - i0); });
  gemmSplit(false, true, rows, K, N, dz, w, dx, none);
  gemmSplit(true, false, K, N, rows, x, dz, dw, none);
  biasGradient(dz, rows, N, db);
  return info.Env().Undefined();
}

// ── The position readout's output layer ─────────────────────────────────────────────────────
//
// Cross-attention returns both = [ctx | where] per row (2d wide): the heads' output and the
// head-averaged position code it looked at. The layer after it is x_out(ctx) plus where's x half
// gated by gate[0] and its y half by gate[1] (σ of the decoder state, computed before). Through
// tfjs that is three splits, two products, a concat, the linear layer and an Add forward, and as
// many kernels back; here one call each way, the same operations in the same order (each product
// is stored before it is summed, as the kernels it replaces store theirs), and ctx read in place.

// readoutForward(both, gate, w, b, y, rows, d): y = (ctx·w + b) + [whereₓ·gate₀ | whereᵧ·gate₁]
static Napi::Value ReadoutForward(const Napi::CallbackInfo& info) {
  const float* both = f32(info[0]);
  const float* gate = f32(info[1]);
  const float* w = f32(info[2]);
  const float* b = f32(info[3]);
  float* y = f32(info[4]);
  const int64_t rows = i64(info[5]), d = i64(info[6]), half = d / 2;
  gemmSplit(
      false, false, rows, d, d, both, w, y,
      [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
        std::vector<float> g(d);
        for (int64_t r = m0; r < m1; r++) {
          float* yr = y + r * d;
          const float* wh = both + r * 2 * d + d;
#pragma omp simd
          for (int64_t j = n0; j < n1; j++) yr[j] += b[j];
          for (int64_t j = n0; j < n1; j++) g[j] = wh[j] * gate[r * 2 + (j < half ? 0 : 1)];
#pragma omp simd
          for (int64_t j = n0; j < n1; j++) yr[j] = yr[j] + g[j];
        }
      },
      2 * d, 0, 0);
  return info.Env().Undefined();
}

// readoutBackward(dy, both, gate, w, dboth, dgate, dw, db, rows, d): gradients of readoutForward.
//   dctx = dy·wᵀ, dwhere = dy ⊙ gate (per half), dgate[h] = Σ_j over the half (dy ⊙ where)
//   summed in order, dw = ctxᵀ·dy, db = Σ_rows dy.
static Napi::Value ReadoutBackward(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const float* both = f32(info[1]);
  const float* gate = f32(info[2]);
  const float* w = f32(info[3]);
  float* dboth = f32(info[4]);
  float* dgate = f32(info[5]);
  float* dw = f32(info[6]);
  float* db = f32(info[7]);
  const int64_t rows = i64(info[8]), d = i64(info[9]), half = d / 2;
  const auto none = [](int64_t, int64_t, int64_t, int64_t) {};
  gemmSplit(false, true, rows, d, d, dy, w, dboth, none, 0, 0, 2 * d);
  parallelFor(rows, 8.0 * rows * d, [&](int64_t r0, int64_t r1) {
    std::vector<float> p(d);
    for (int64_t r = r0; r < r1; r++) {
      const float* dyr = dy + r * d;
      const float* wh = both + r * 2 * d + d;
      float* dwh = dboth + r * 2 * d + d;
      const float gx = gate[r * 2], gy = gate[r * 2 + 1];
      for (int64_t j = 0; j < half; j++) dwh[j] = dyr[j] * gx;
      for (int64_t j = half; j < d; j++) dwh[j] = dyr[j] * gy;
      for (int64_t j = 0; j < d; j++) p[j] = dyr[j] * wh[j];
      float sx = 0.f, sy = 0.f;
      for (int64_t j = 0; j < half; j++) sx += p[j];
      for (int64_t j = half; j < d; j++) sy += p[j];
      dgate[r * 2] = sx;
      dgate[r * 2 + 1] = sy;
    }
  });
  gemmSplit(true, false, d, d, rows, both, dy, dw, none, 2 * d, 0, 0);
  biasGradient(dy, rows, d, db);
  return info.Env().Undefined();
}

// attnForward(q, k, v, mask, pos, out, probs, B, Tq, Tk, h, dh, scale, causal[, ldq, ldk, ldv])
//   Multi-head attention on merged-head layouts: q [B, Tq, d], k, v [B, Tk, d] (head hh in
//   columns hh·dh … hh·dh+dh−1), additive key mask [B, Tk] (or an empty array), causal: query i
//   sees keys 0 … i. The optional row strides of q, k and v (default d) let them be views into one
//   packed qkv [B, T, 3d]. out [B, Tq, W]: the heads' outputs, and with position codes pos [Tk, d]
//   (non-empty) also W = 2d with columns d … 2d−1 = (probabilities averaged over heads) · pos.
//   probs [B, h, Tq, Tk] are kept for the backward pass.
static Napi::Value AttnForward(const Napi::CallbackInfo& info) {
  size_t nMask, nPos;
  const float* q = f32(info[0]);
  const float* k = f32(info[1]);
  const float* v = f32(info[2]);
  const float* mask = floatData(info[3], &nMask);
  const float* pos = floatData(info[4], &nPos);
  float* out = f32(info[5]);
  float* probs = f32(info[6]);
  const int64_t B = i64(info[7]), Tq = i64(info[8]), Tk = i64(info[9]), h = i64(info[10]), dh = i64(info[11]);
  const float scale = (float)info[12].As<Napi::Number>().DoubleValue();
  const bool causal = info[13].ToBoolean();
  const int64_t d = h * dh, W = nPos ? 2 * d : d;
  // row strides of q, k, v (d, or 3d when they are the columns of one packed qkv)
  const int64_t lq = info.Length() > 14 ? i64(info[14]) : d, lk = info.Length() > 15 ? i64(info[15]) : d,
                lv = info.Length() > 16 ? i64(info[16]) : d;
  parallelFor(B, 2.0 * B * h * Tq * Tk * dh, [&](int64_t b0, int64_t b1) {
  std::vector<float> mean(nPos ? Tq * Tk : 0);
  for (int64_t b = b0; b < b1; b++) {
    if (nPos) std::fill(mean.begin(), mean.end(), 0.f);
    for (int64_t hh = 0; hh < h; hh++) {
      float* P = probs + (b * h + hh) * Tq * Tk;
      headProduct(ChainOp::NT, Tq, Tk, dh, q + b * Tq * lq + hh * dh, lq, k + b * Tk * lk + hh * dh, lk, P, Tk,
                  causal ? Cut::Cols : Cut::None);
      softmaxRows(P, Tq, Tk, Tk, scale, nMask ? mask + b * Tk : nullptr, causal ? 0 : -1);
      headProduct(ChainOp::NN, Tq, dh, Tk, P, Tk, v + b * Tk * lv + hh * dh, lv, out + b * Tq * W + hh * dh, W,
                  causal ? Cut::KTo : Cut::None);
      if (nPos) {
        const float inv = 1.f / (float)h;
        for (int64_t i = 0; i < Tq * Tk; i++) mean[i] += P[i] * inv;
      }
    }
    if (nPos)
      product0(false, false, Tq, d, Tk, mean.data(), Tk, pos, d, out + b * Tq * W + d, W);
  }
  });
  return info.Env().Undefined();
}

// attnBackward(dout, q, k, v, probs, pos, dq, dk, dv, B, Tq, Tk, h, dh, scale[, ldq, ldk, ldv, causal]): dq, dk,
//   dv at the strides of q, k, v; causal as in the forward pass (only lets the products skip P's zeros)
//   Gradients of attnForward: dV = Pᵀ·dO, dP = dO·Vᵀ (+ dWhere·posᵀ / h), dS = P ⊙ (dP − Σ P⊙dP)·scale,
//   dQ = dS·K, dK = dSᵀ·Q, per (b, head). The mask and pos are constants (no gradient).
static Napi::Value AttnBackward(const Napi::CallbackInfo& info) {
  size_t nPos;
  const float* dout = f32(info[0]);
  const float* q = f32(info[1]);
  const float* k = f32(info[2]);
  const float* v = f32(info[3]);
  const float* probs = f32(info[4]);
  const float* pos = floatData(info[5], &nPos);
  float* dq = f32(info[6]);
  float* dk = f32(info[7]);
  float* dv = f32(info[8]);
  const int64_t B = i64(info[9]), Tq = i64(info[10]), Tk = i64(info[11]), h = i64(info[12]), dh = i64(info[13]);
  const float scale = (float)info[14].As<Napi::Number>().DoubleValue();
  const int64_t d = h * dh, W = nPos ? 2 * d : d;
  // row strides of q, k, v and of dq, dk, dv (d, or 3d for one packed qkv and its gradient)
  const int64_t lq = info.Length() > 15 ? i64(info[15]) : d, lk = info.Length() > 16 ? i64(info[16]) : d,
                lv = info.Length() > 17 ? i64(info[17]) : d;
  // causal (optional): the forward pass was causal, so P (and dS) are ±0 above the diagonal
  const bool causal = info.Length() > 18 && info[18].ToBoolean();
  parallelFor(B, 4.0 * B * h * Tq * Tk * dh, [&](int64_t b0, int64_t b1) {
  std::vector<float> dP(Tq * Tk), dMean(nPos ? Tq * Tk : 0);
  for (int64_t b = b0; b < b1; b++) {
    if (nPos) {
      // (dWhere·posᵀ)/h: OpenBLAS with α = 1/h rounds α·(the product's float) once, as this does
      product0(false, true, Tq, Tk, d, dout + b * Tq * W + d, W, pos, d, dMean.data(), Tk);
      const float inv = 1.f / (float)h;
      for (int64_t i = 0; i < Tq * Tk; i++) dMean[i] *= inv;
    }
    for (int64_t hh = 0; hh < h; hh++) {
      const float* P = probs + (b * h + hh) * Tq * Tk;
      const float* dO = dout + b * Tq * W + hh * dh;
      headProduct(ChainOp::TN, Tk, dh, Tq, P, Tk, dO, W, dv + b * Tk * lv + hh * dh, lv,
                  causal ? Cut::KFrom : Cut::None);
      headProduct(ChainOp::NT, Tq, Tk, dh, dO, W, v + b * Tk * lv + hh * dh, lv, dP.data(), Tk,
                  causal ? Cut::Cols : Cut::None);
      if (nPos)
        for (int64_t i = 0; i < Tq * Tk; i++) dP[i] += dMean[i];
      // r = Σⱼ pⱼ·gⱼ of a row is a chain of dependent multiply-adds in j order (the compiler keeps
      // that order); four rows' chains run side by side, each in its order, so that they overlap
      // instead of each waiting on the last one's latency — the same bits, ~3× less time here.
      // In a causal head the rows end at column e: beyond, p = +0 and g is finite, so the terms
      // there leave r as it is and dS there is ±0, which is written as 0 (the products after
      // this one add ±0 terms to chains from +0 alike: no bit depends on their signs).
      int64_t i = 0;
      for (; i + 4 <= Tq; i += 4) {
        float* g0 = dP.data() + i * Tk;
        float *g1 = g0 + Tk, *g2 = g1 + Tk, *g3 = g2 + Tk;
        const float* p0 = P + i * Tk;
        const float *p1 = p0 + Tk, *p2 = p1 + Tk, *p3 = p2 + Tk;
        const int64_t e = causal ? std::min(Tk, i + 4) : Tk;
        float r0 = 0.f, r1 = 0.f, r2 = 0.f, r3 = 0.f;
        for (int64_t j = 0; j < e; j++) {
          r0 += p0[j] * g0[j];
          r1 += p1[j] * g1[j];
          r2 += p2[j] * g2[j];
          r3 += p3[j] * g3[j];
        }
        for (int64_t j = 0; j < e; j++) g0[j] = p0[j] * (g0[j] - r0) * scale;
        for (int64_t j = 0; j < e; j++) g1[j] = p1[j] * (g1[j] - r1) * scale;
        for (int64_t j = 0; j < e; j++) g2[j] = p2[j] * (g2[j] - r2) * scale;
        for (int64_t j = 0; j < e; j++) g3[j] = p3[j] * (g3[j] - r3) * scale;
        for (float* g : {g0, g1, g2, g3}) std::fill(g + e, g + Tk, 0.f);
      }
      for (; i < Tq; i++) {
        float* g = dP.data() + i * Tk;
        const float* p = P + i * Tk;
        const int64_t e = causal ? std::min(Tk, i + 1) : Tk;
        float r = 0.f;
        for (int64_t j = 0; j < e; j++) r += p[j] * g[j];
        for (int64_t j = 0; j < e; j++) g[j] = p[j] * (g[j] - r) * scale;
        std::fill(g + e, g + Tk, 0.f);
      }
      headProduct(ChainOp::NN, Tq, dh, Tk, dP.data(), Tk, k + b * Tk * lk + hh * dh, lk, dq + b * Tq * lq + hh * dh, lq,
                  causal ? Cut::KTo : Cut::None);
      headProduct(ChainOp::TN, Tk, dh, Tq, dP.data(), Tk, q + b * Tq * lq + hh * dh, lq, dk + b * Tk * lk + hh * dh, lk,
                  causal ? Cut::KFrom : Cut::None);
    }
  }
  });
  return info.Env().Undefined();
}

// tokenLogProbs(logits, targets, lp, lse, rows, V): per row r of logits [rows, V], the log-softmax
//   at its target, lp[r] = x[r, t_r] − lse[r], with lse[r] = m + log Σⱼ exp(x[r, j] − m), m the row's
//   maximum (kept for the backward pass). One pass over the logits instead of a log-softmax, a
//   one-hot of the targets, a product and a sum, each a pass over [rows, V].
static Napi::Value TokenLogProbs(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  const int32_t* tg = i32(info[1]);
  float* lp = f32(info[2]);
  float* lse = f32(info[3]);
  const int64_t rows = i64(info[4]), V = i64(info[5]);
  parallelFor(rows, 4.0 * rows * V, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * V;
      float m;
      const float lz = maxAndLogSumExp(xr, V, &m);
      lse[r] = m + lz;
      const int32_t t = tg[r];
      lp[r] = t >= 0 && t < V ? xr[t] - lse[r] : 0.f;  // the caller checked the range
    }
  });
  return info.Env().Undefined();
}

// tokenLogProbsGrad(dy, logits, targets, lse, dlogits, rows, V): dlogits[r, j] = dy[r]·(1[j = t_r] − exp(x[r, j] − lse[r]))
static Napi::Value TokenLogProbsGrad(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const float* x = f32(info[1]);
  const int32_t* tg = i32(info[2]);
  const float* lse = f32(info[3]);
  float* dx = f32(info[4]);
  const int64_t rows = i64(info[5]), V = i64(info[6]);
  parallelFor(rows, 4.0 * rows * V, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * V;
      float* o = dx + r * V;
      const float g = dy[r], l = lse[r];
#pragma omp simd
      for (int64_t j = 0; j < V; j++) o[j] = -g * fastExp(xr[j] - l);
      const int32_t t = tg[r];
      if (t >= 0 && t < V) o[t] += g;
    }
  });
  return info.Env().Undefined();
}

// embed(table, ids, out, rows, d): out[r] = table[ids[r]] (rows of table [V, d]; the caller checked the ids)
static Napi::Value Embed(const Napi::CallbackInfo& info) {
  const float* table = f32(info[0]);
  const int32_t* ids = i32(info[1]);
  float* out = f32(info[2]);
  const int64_t rows = i64(info[3]), d = i64(info[4]);
  for (int64_t r = 0; r < rows; r++) std::memcpy(out + r * d, table + (int64_t)ids[r] * d, d * sizeof(float));
  return info.Env().Undefined();
}

// embedGrad(dy, ids, dtable, rows, V, d): dtable = 0, then dtable[ids[r]] += dy[r] for r = 0, 1, … in order
static Napi::Value EmbedGrad(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const int32_t* ids = i32(info[1]);
  float* dt = f32(info[2]);
  const int64_t rows = i64(info[3]), V = i64(info[4]), d = i64(info[5]);
  std::fill(dt, dt + V * d, 0.f);
  for (int64_t r = 0; r < rows; r++) {
    float* o = dt + (int64_t)ids[r] * d;
    const float* g = dy + r * d;
#pragma omp simd
    for (int64_t j = 0; j < d; j++) o[j] += g[j];
  }
  return info.Env().Undefined();
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  threadsWanted = std::max(1, info[0].As<Napi::Number>().Int32Value());
  openblas_set_num_threads(1);  // every split across threads is the addon's own (see parallelFor)
  return info.Env().Undefined();
}

static Napi::Value Config(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("threads", threadsWanted);
  o.Set("config", openblas_get_config());
  return o;
}

#define FTZ(f) Napi::Function::New(env, [](const Napi::CallbackInfo& i) { FlushDenormals g; return f(i); })

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemmBatch", FTZ(SgemmBatch));
  exports.Set("setThreads", FTZ(SetThreads));
  exports.Set("config", FTZ(Config));
  exports.Set("reduce", FTZ(Reduce));
  exports.Set("copyBlocks", FTZ(CopyBlocks));
  exports.Set("decoderStep", FTZ(DecoderStep));
  exports.Set("binary", FTZ(Binary));
  exports.Set("unary", FTZ(Unary));
  // Bumped whenever the exported functions change, so an older build is detected and rebuilt.
  exports.Set("layerNorm", FTZ(LayerNorm));
  exports.Set("biasAct", FTZ(BiasAct));
  exports.Set("logSoftmax", FTZ(LogSoftmax));
  exports.Set("selfAttention", FTZ(SelfAttention));
  exports.Set("crossAttention", FTZ(CrossAttention));
  exports.Set("lnForward", FTZ(LnForward));
  exports.Set("lnBackward", FTZ(LnBackward));
  exports.Set("geluForward", FTZ(GeluForward));
  exports.Set("geluBackward", FTZ(GeluBackward));
  exports.Set("adamw", FTZ(AdamW));
  exports.Set("adamwInPlace", FTZ(AdamWInPlace));
  exports.Set("sumSquares", FTZ(SumSquares));
  exports.Set("linearForward", FTZ(LinearForward));
  exports.Set("linearBackward", FTZ(LinearBackward));
  exports.Set("readoutForward", FTZ(ReadoutForward));
  exports.Set("readoutBackward", FTZ(ReadoutBackward));
  exports.Set("attnForward", FTZ(AttnForward));
  exports.Set("attnBackward", FTZ(AttnBackward));
  exports.Set("tokenLogProbs", FTZ(TokenLogProbs));
  exports.Set("tokenLogProbsGrad", FTZ(TokenLogProbsGrad));
  exports.Set("embed", FTZ(Embed));
  exports.Set("embedGrad", FTZ(EmbedGrad));
  // IEEE arithmetic as JavaScript has it: no flush-to-zero (a subnormal weight is not 0 there)
  exports.Set("expLikeJs", Napi::Function::New(env, ExpLikeJs));
  exports.Set("drawTokens", Napi::Function::New(env, DrawTokens));
  exports.Set("setWide", Napi::Function::New(env, SetWide));
  exports.Set("setDirectSmall", Napi::Function::New(env, SetDirectSmall));
  exports.Set("setOwnChains", Napi::Function::New(env, SetOwnChains));
  exports.Set("version", 21);
  return exports;
}

NODE_API_MODULE(rsg_blas, Init)
