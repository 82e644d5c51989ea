// Prompt-batch matrix multiply on int8 dot products: y[M, N] = x[M, K] * W[N, K]^T with W in a quantized
// GGML type (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) and M > 1.
//
// Why this shape. One AVX-512 core does 16 f32 FMAs per cycle but 64 int8 multiply-adds per vpdpbusd, so
// dequantize-to-f32 + sgemm caps prefill near 30 tok/s per core on a 1.5B model while int8 dots move the
// ceiling ~4x. The kernel puts *tokens* in the vector lanes (16 per zmm, 8 per ymm) and broadcasts 4
// weight bytes of one row, so that:
//   - the weights need no transposition: each thread unpacks a block of 16 rows from their GGUF blocks
//     into signed bytes plus per-sub-block scales (a linear pass, L2-resident), once per call;
//   - the activations, quantized per block as llama.cpp's Q8_0/Q8_K are (one float scale per 32 or 256
//     elements), are written straight into the interleaved layout the kernel loads, offset by +128 to
//     unsigned bytes as vpdpbusd wants; the offset is removed exactly by starting each sub-block's
//     accumulator at -128 * (sum of its weights);
//   - sub-block scales, mins and the activation scale are applied in f32 once per sub-block.
// Nothing is repacked at load and nothing is kept between calls; decode (M == 1) stays on the gemv
// kernels, which read each weight once.
//
// Numerics: integer-exact block dots like llama.cpp's; the f32 accumulation order differs from it (and
// from the gemv path), the activation quantization is the same in kind (round to nearest even of
// x * 127 / amax per block) but its scale is stored as f32 rather than f16.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/ggml_types.hpp"
#include "core/thread_pool.hpp"
#include "kernels/cpu_features.hpp"

namespace dianoia::detail::qgemm {

// Rows of W one micro-kernel call covers (each row is broadcast against the token lanes).
inline constexpr int k_panel_rows = 4;
// Rows of W a thread unpacks at a time (a work item).
inline constexpr int k_block_rows = 16;

// Block geometry of a weight type as the kernel sees it.
struct type_layout {
  int blk = 0;           // elements per block (32 or 256); activations are quantized per block too
  int sub = 0;           // elements per sub-block (16 or 32); one scale (and min) per sub-block
  bool has_min = false;  // W = scale * q + min * 1 (Q4_1, Q5_1, Q4_K, Q5_K), else W = scale * q
  int nsub() const { return blk / sub; }
};
// blk == 0 for a type the int8 GEMM does not take.
type_layout layout_of(ggml_type t);

// Bytes of one block of one group of `lanes` tokens in the activation layout, and of one block of one
// panel of k_panel_rows unpacked weight rows (the layouts are described in qgemm_impl.hpp).
inline size_t act_block_bytes(const type_layout& lo, int lanes) {
  return static_cast<size_t>(lo.blk) * lanes + 4u * lanes + (lo.has_min ? 4u * lanes * lo.nsub() : 0u);
}
inline size_t panel_block_bytes(const type_layout& lo) {
  return static_cast<size_t>(k_panel_rows) * lo.blk +
         static_cast<size_t>(lo.nsub()) * k_panel_rows * 4u * (lo.has_min ? 3u : 2u);
}

// The kernels of one instruction-set level.
struct isa_kernels {
  isa level;
  int lanes;  // tokens per vector
  bool (*supports)(ggml_type t);
  // Quantizes rows [g_begin * lanes, ...) of x (M x K) into groups [g_begin, g_end) of the interleaved
  // activation layout (rows past M are zero). K is a multiple of the type's block size.
  void (*pack_act)(ggml_type t, const float* x, int64_t M, int64_t K, int64_t g_begin, int64_t g_end,
                   uint8_t* dst);
  // Unpacks nr <= k_block_rows consecutive rows of W (row_bytes apart) into scratch (rows past nr: zero).
  void (*unpack)(ggml_type t, const uint8_t* w, size_t row_bytes, int nr, int64_t K, uint8_t* scratch);
  // y[m * ldy + r] for r < nr, m < M, from unpacked rows and all activation groups.
  void (*compute)(ggml_type t, const uint8_t* scratch, int nr, int64_t K, const uint8_t* act, int64_t M, float* y,
                  int64_t ldy);
};

// Bytes of the activation layout for M rows (all groups) and of one thread's unpack scratch.
size_t act_bytes(ggml_type t, int lanes, int64_t M, int64_t K);
size_t scratch_bytes(ggml_type t, int64_t K);

// The best kernels usable under `ceiling` for type t, or nullptr (the type or the CPU is not covered).
const isa_kernels* select(ggml_type t, isa ceiling);

// Per-level tables (nullptr from a level whose file was not built); tests reach every level through them.
const isa_kernels* kernels_avx2();
const isa_kernels* kernels_avxvnni();
const isa_kernels* kernels_avx512();
const isa_kernels* kernels_avx512vnni();

// Scalar model of the whole computation (the same activation quantization and the same integer block
// dots, summed in double): the reference the kernels are tested against.
void reference(ggml_type t, const void* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);

// Runs the whole multiply on a pool. Scratch grows on first use and is reused.
class runner {
 public:
  void run(const isa_kernels& k, ggml_type t, const void* w, int64_t N, int64_t K, const float* x, int64_t M,
           float* y, thread_pool& pool);

 private:
  std::vector<uint8_t> act_;
  std::vector<std::unique_ptr<uint8_t[]>> scratch_;
  std::vector<size_t> scratch_size_;
  uint8_t* act_aligned(size_t bytes);
};

}  // namespace dianoia::detail::qgemm
