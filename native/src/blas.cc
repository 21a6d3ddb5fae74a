// rsg_blas: OpenBLAS sgemm for TensorFlow.js kernels (see lib/blas.ts).
//
// sgemmBatch(A, B, C, batch, M, N, K, transA, transB, strideA, strideB)
//   For b in [0, batch): C[b] (M×N, row-major) = op(A[b]) · op(B[b]), where op transposes when
//   asked, A[b] starts at A + b·strideA and B[b] at B + b·strideB (a stride of 0 broadcasts),
//   and C[b] at C + b·M·N. A, B, C are Float32Array views (e.g. over a wasm heap: zero copy).
#include <napi.h>
#include <cblas.h>

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}

static float* floatData(const Napi::Value& v, size_t* len) {
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  *len = ta.ElementLength();
  Napi::ArrayBuffer ab = ta.ArrayBuffer();
  return reinterpret_cast<float*>(static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset());
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
  for (int64_t b = 0; b < batch; b++) {
    if (K == 0) {
      for (int64_t i = 0; i < M * N; i++) C[b * M * N + i] = 0.f;
      continue;
    }
    cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans,
                (int)M, (int)N, (int)K, 1.0f, A + b * sA, lda, B + b * sB, ldb, 0.0f, C + b * M * N, ldc);
  }
  return env.Undefined();
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  openblas_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

static Napi::Value Config(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("threads", openblas_get_num_threads());
  o.Set("config", openblas_get_config());
  return o;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemmBatch", Napi::Function::New(env, SgemmBatch));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("config", Napi::Function::New(env, Config));
  return exports;
}

NODE_API_MODULE(rsg_blas, Init)
