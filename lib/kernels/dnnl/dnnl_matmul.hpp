// f32 matmul through oneDNN, for F32 weights (and dequantized weight tiles), and bf16 x bf16 -> f32 for
// BF16 weights: y[M,N] = x[M,K] * W[N,K]^T.
// W is passed as given, [N,K] row-major = oneDNN's `ba` layout of a KxN matrix, which gemm:jit reads
// without a reorder. Primitives are cached per (M,K,N) along with their memory objects and argument map,
// so a call after warm-up only swaps data pointers: no allocation, no JIT.
#pragma once
#include <cstdint>
#include <memory>

namespace dianoia::detail {

struct dnnl_shape_key;

class dnnl_f32_matmul {
 public:
  // n_threads: the OpenMP threads oneDNN may use for this object's calls (oneDNN 2.6 as Debian builds
  // it runs on OpenMP; left alone it would use every core, on top of the session's own pool).
  explicit dnnl_f32_matmul(int n_threads);
  ~dnnl_f32_matmul();
  dnnl_f32_matmul(const dnnl_f32_matmul&) = delete;
  dnnl_f32_matmul& operator=(const dnnl_f32_matmul&) = delete;

  // ldw = distance between weight rows in floats (>= K) and ldy between output rows (>= N), so that a
  // tile of weight rows can be multiplied in place into its columns of y.
  void run(const float* x, int64_t M, int64_t K, const float* w, int64_t ldw, int64_t N, float* y, int64_t ldy);

  // The same with bfloat16 activations and weights (raw bf16 bits), f32 products and sums: oneDNN's
  // brgemm on AVX-512 BF16 (vdpbf16ps), ~2.5x its f32 GEMM. Only for CPUs with AVX-512 BF16 (elsewhere
  // oneDNN would emulate it, slower than dequantizing).
  void run_bf16(const uint16_t* x, int64_t M, int64_t K, const uint16_t* w, int64_t ldw, int64_t N, float* y,
                int64_t ldy);

  size_t cached_primitives() const;

 private:
  void execute(const dnnl_shape_key& key, const void* x, const void* w, float* y);
  struct impl;
  std::unique_ptr<impl> p_;
  int n_threads_;
};

}  // namespace dianoia::detail
