// The one matrix-multiply entry point the model uses: y = x * W^T with W in its GGUF storage type.
//
// Numerics (default, prefill_mode::exact): llama.cpp's CPU path. Q4_0/Q5_0/Q8_0 weights meet activations
// quantized to Q8_0 per 32-block, Q4_1/Q5_1 weights meet Q8_1, Q4_K/Q5_K/Q6_K meet Q8_K (per 256-block),
// F16 weights meet activations rounded through half precision, BF16 weights activations rounded to
// bfloat16; then the integer-exact block dots of kernels/dot.hpp. F32 weights go through oneDNN's
// f32 GEMM (llama.cpp uses its own f32 GEMM there; both are plain f32 accumulation). F16 and BF16
// weights with M > 1 are dequantized in tiles and multiplied by oneDNN's sgemm with the rounded
// activations: the products are the same as llama.cpp's (exact in f32), only the f32 summation order
// differs, as it does between llama.cpp's own F16/BF16 paths (vec_dot for one token, tinyBLAS for batches).
//
// Unless set_exact_gemv(true), the row-by-row products use the faster kernels of kernels/gemv where the
// CPU has them: the same quantized activations and integer block dots, another f32 summation order.
//
// BF16 weights with M > 1 on a CPU with AVX-512 BF16 (under the ceiling): activations rounded to
// bfloat16 and oneDNN's bf16 matmul on the weights as stored (products exact in f32, f32 sums), in every
// mode but dequant_sgemm.
//
// prefill_mode::dequant_sgemm (opt-in, M > 1 only, quantized/F16 weights): weights are dequantized in
// tiles of rows to f32 and multiplied with unquantized activations by oneDNN's sgemm. More accurate than
// llama.cpp (no activation rounding), but therefore *not* token-identical to it.
//
// prefill_mode::int8 (M > 1 only): quantized weights go through the int8 GEMM of kernels/qgemm (int8
// dot products, activations quantized per block like llama.cpp's), on the best level the CPU has under
// the engine's ISA ceiling; a type or CPU it does not cover falls back to dequant_sgemm. Batches of fewer
// than 12 rows go through the fast gemv kernels instead where they cover the type (cheaper than packing).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/ggml_types.hpp"
#include "core/thread_pool.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/qgemm/qgemm.hpp"

namespace dianoia::detail {

class dnnl_f32_matmul;

// N rows of K elements each, row-major, ggml layout (blocks along a row).
struct weight_view {
  ggml_type type;
  const void* data;
  int64_t rows;  // N
  int64_t cols;  // K
};

enum class prefill_mode { exact, dequant_sgemm, int8 };

class matmul_engine {
 public:
  explicit matmul_engine(thread_pool& pool);
  ~matmul_engine();
  matmul_engine(const matmul_engine&) = delete;
  matmul_engine& operator=(const matmul_engine&) = delete;

  // y[m*N + n] = sum_k x[m*K + k] * W[n, k]   (x: M x K f32, y: M x N f32). x and y must not overlap.
  // Throws error(unsupported) for a weight type it cannot multiply, error(format) when K is not a
  // multiple of the type's block size, error(invalid_argument) for null pointers or negative sizes.
  // Allocates only while growing scratch for a larger M*K than seen before (or a new oneDNN shape).
  void matmul(const weight_view& w, const float* x, int64_t M, float* y);

  // F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
  static bool supports(ggml_type t);

  void set_prefill_mode(prefill_mode m) { prefill_ = m; }
  prefill_mode get_prefill_mode() const { return prefill_; }

  // The highest instruction-set level the int8 GEMM may use (default: default_isa_ceiling()).
  void set_isa_ceiling(isa c) { ceiling_ = c; }
  isa isa_ceiling() const { return ceiling_; }

  // Row-by-row products (decode, and batches in prefill_mode::exact) with llama.cpp's AVX2 lane order
  // (kernels/dot.hpp) when true; when false (the default) with the fastest gemv of kernels/gemv under the
  // ISA ceiling, which differs from it by float rounding only.
  void set_exact_gemv(bool exact) { exact_gemv_ = exact; }

 private:
  void matmul_dot(const weight_view& w, const float* x, int64_t M, float* y);
  void matmul_dequant_sgemm(const weight_view& w, const float* x, int64_t M, float* y);
  void matmul_bf16(const weight_view& w, const float* x, int64_t M, float* y);

  thread_pool& pool_;
  std::unique_ptr<dnnl_f32_matmul> dnnl_;
  std::vector<uint8_t> act_;    // activations converted to the dot kernels' format
  std::vector<float> wtile_;    // dequantized weight tile (dequant_sgemm mode)
  prefill_mode prefill_ = prefill_mode::exact;
  isa ceiling_ = default_isa_ceiling();
  bool exact_gemv_ = false;
  qgemm::runner qgemm_;
};

}  // namespace dianoia::detail
