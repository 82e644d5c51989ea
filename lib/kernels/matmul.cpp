#include "kernels/matmul.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "kernels/dnnl/dnnl_matmul.hpp"
#include "kernels/dot.hpp"
#include "kernels/gemv/gemv.hpp"
#include "kernels/quant/quant.hpp"

namespace dianoia::detail {

namespace {
// Rows of W handed out as one unit of work: the gemv kernels process 4 rows per pass.
constexpr int64_t row_group = 4;
// Row groups per chunk of the dynamic split.
constexpr int64_t dynamic_grain = 16;
// The fast gemv's chunks are at least this many bytes of weights (~4 us of streaming): each chunk is one
// call, whose first lines arrive without prefetch. Against 16 groups (55 KiB of a 1536-wide Q4_K matrix):
// 2-thread decode +5% on the 1.5B and the 0.5B (interleaved A/B); 256 KiB was no better.
constexpr size_t fast_chunk_bytes = 128 * 1024;
// With several activation rows, walk W in tiles of about this many bytes so a tile stays in L1/L2
// while every activation row passes over it.
constexpr size_t tile_bytes = 32 * 1024;
// Dequantized tile for dequant_sgemm: rows per oneDNN call (f32, so 256 rows x K=8960 = 9 MB at most).
constexpr int64_t sgemm_tile_rows = 256;
// Fewest activation rows for the int8 GEMM when the fast gemv covers the type. Measured on the 0.5B's
// Q4_K/Q6_K/Q5_0 layers (AVX-512 VNNI, in cache): 8 rows cost 4-5.5x one row through the gemv kernels
// against ~6x through the GEMM (whose per-call unpacking of the weights is what small batches pay for).
constexpr int64_t k_gemm_min_rows = 12;
}  // namespace

matmul_engine::matmul_engine(thread_pool& pool) : pool_(pool), dnnl_(std::make_unique<dnnl_f32_matmul>(pool.size())) {}
matmul_engine::~matmul_engine() = default;

bool matmul_engine::supports(ggml_type t) {
  switch (t) {
    case ggml_type::f32: case ggml_type::f16: case ggml_type::q4_0: case ggml_type::q4_1: case ggml_type::q8_0:
    case ggml_type::bf16: case ggml_type::q5_0: case ggml_type::q5_1: case ggml_type::q4_k: case ggml_type::q5_k:
    case ggml_type::q6_k:
      return true;
    default:
      return false;
  }
}

void matmul_engine::matmul(const weight_view& w, const float* x, int64_t M, float* y) {
  const auto tr = ggml_traits(w.type);
  if (!supports(w.type))
    fail(errc::unsupported, "matmul: weight type {} (id {}) is not supported", tr.name, static_cast<uint32_t>(w.type));
  if (w.rows <= 0 || w.cols <= 0 || M < 0)
    fail(errc::invalid_argument, "matmul: bad shape: W {}x{}, M {}", w.rows, w.cols, M);
  if (w.cols % tr.block_elems != 0)
    fail(errc::format, "matmul: row length {} is not a multiple of the {} block size {}", w.cols, tr.name,
         tr.block_elems);
  if (M == 0) return;
  if (!w.data || !x || !y) fail(errc::invalid_argument, "matmul: null pointer");

  if (w.type == ggml_type::f32)
    return dnnl_->run(x, M, w.cols, static_cast<const float*>(w.data), w.cols, w.rows, y, w.rows);
  // Below k_gemm_min_rows activation rows the fast gemv kernels, which unpack each weight block once for
  // up to 8 rows and need no packing of weights or activations, beat the GEMM (see the constant).
  if (M > 1 && w.type == ggml_type::bf16 && prefill_ != prefill_mode::dequant_sgemm &&
      isa_usable(isa::avx512_bf16, ceiling_))
    return matmul_bf16(w, x, M, y);
  if (M > 1 && prefill_ == prefill_mode::int8) {
    if (M < k_gemm_min_rows && !exact_gemv_ && gemv::select_fast(w.type, ceiling_)) return matmul_dot(w, x, M, y);
    if (const qgemm::isa_kernels* k = qgemm::select(w.type, ceiling_))
      return qgemm_.run(*k, w.type, w.data, w.rows, w.cols, x, M, y, pool_);
  }
  if (M > 1 && prefill_ != prefill_mode::exact) return matmul_dequant_sgemm(w, x, M, y);
  if (M > 1 && (w.type == ggml_type::f16 || w.type == ggml_type::bf16)) {
    // Same numerics class as llama.cpp (activations rounded through half / bfloat16, products then exact
    // in f32, f32 accumulation; llama.cpp itself switches to its tinyBLAS GEMM for batches, with yet
    // another summation order), but through oneDNN's sgemm on dequantized tiles: ~5x the row-by-row dots.
    const size_t need = checked_mul(static_cast<size_t>(M * w.cols), sizeof(float), "matmul activations");
    if (act_.size() < need) act_.resize(need);
    auto* xr = reinterpret_cast<float*>(act_.data());
    const bool bf = w.type == ggml_type::bf16;
    pool_.parallel_for(M, [&](int64_t b, int64_t e) {
      if (bf) round_row_through_bf16(x + b * w.cols, xr + b * w.cols, (e - b) * w.cols);
      else round_row_through_fp16(x + b * w.cols, xr + b * w.cols, (e - b) * w.cols);
    });
    return matmul_dequant_sgemm(w, xr, M, y);
  }
  matmul_dot(w, x, M, y);
}

void matmul_engine::matmul_dot(const weight_view& w, const float* x, int64_t M, float* y) {
  const int64_t K = w.cols, N = w.rows;
  const ggml_type at = dot_activation_type(w.type);
  const size_t xrb = ggml_row_bytes(at, static_cast<size_t>(K));
  const size_t wrb = ggml_row_bytes(w.type, static_cast<size_t>(K));
  const size_t need = checked_mul(static_cast<size_t>(M), xrb, "matmul activations");
  if (act_.size() < need) act_.resize(need);
  uint8_t* act = act_.data();

  // Convert the activations once; rows are independent, so large M is split over the pool.
  pool_.parallel_for(M, [&](int64_t b, int64_t e) {
    for (int64_t m = b; m < e; ++m) {
      const float* xr = x + m * K;
      void* dst = act + m * xrb;
      switch (at) {
        case ggml_type::q8_0: quantize_row_q8_0(xr, dst, K); break;
        case ggml_type::q8_1: quantize_row_q8_1(xr, dst, K); break;
        case ggml_type::q8_k: quantize_row_q8_K(xr, dst, K); break;
        case ggml_type::bf16: quantize_row_bf16(xr, dst, K); break;
        default: round_row_through_fp16(xr, static_cast<float*>(dst), K); break;
      }
    }
  });

  const auto* wb = static_cast<const uint8_t*>(w.data);
  const int64_t groups = (N + row_group - 1) / row_group;
  if (const gemv::gemm_fn fast = exact_gemv_ ? nullptr : gemv::select_fast(w.type, ceiling_)) {
    // Every activation row against each grain of weight rows: the kernel unpacks a weight block once
    // for all of them (sequences decoded together), and reads the weights once.
    const int64_t grain = std::max<int64_t>(dynamic_grain, static_cast<int64_t>(fast_chunk_bytes / (row_group * wrb)));
    pool_.parallel_for_dynamic(groups, grain, [&](int64_t gb, int64_t ge) {
      const int64_t r0 = gb * row_group, r1 = std::min(ge * row_group, N);
      fast(wb + r0 * wrb, wrb, r1 - r0, act, xrb, M, K, y + r0, N);
    });
    return;
  }
  const gemv_fn gemv = select_gemv(w.type);
  const int64_t tile_rows = std::max<int64_t>(row_group, static_cast<int64_t>(tile_bytes / wrb) / row_group * row_group);
  // Handed out in grains of ~64 rows (a few microseconds of streaming), so that a thread whose vCPU is
  // stolen mid-matmul holds back one grain, not half the matrix.
  pool_.parallel_for_dynamic(groups, dynamic_grain, [&](int64_t gb, int64_t ge) {
    const int64_t r0 = gb * row_group, r1 = std::min(ge * row_group, N);
    if (M == 1) return gemv(wb + r0 * wrb, wrb, r1 - r0, act, K, y + r0);
    for (int64_t t = r0; t < r1; t += tile_rows) {
      const int64_t nr = std::min(tile_rows, r1 - t);
      for (int64_t m = 0; m < M; ++m) gemv(wb + t * wrb, wrb, nr, act + m * xrb, K, y + m * N + t);
    }
  });
}

void matmul_engine::matmul_bf16(const weight_view& w, const float* x, int64_t M, float* y) {
  // Activations rounded to bfloat16 as for the BF16 dot kernels; the weights are read as stored.
  const int64_t K = w.cols;
  const size_t need = checked_mul(static_cast<size_t>(M * K), sizeof(uint16_t), "matmul activations");
  if (act_.size() < need) act_.resize(need);
  auto* xb = reinterpret_cast<uint16_t*>(act_.data());
  pool_.parallel_for(M, [&](int64_t b, int64_t e) { quantize_row_bf16(x + b * K, xb + b * K, (e - b) * K); });
  dnnl_->run_bf16(xb, M, K, static_cast<const uint16_t*>(w.data), K, w.rows, y, w.rows);
}

void matmul_engine::matmul_dequant_sgemm(const weight_view& w, const float* x, int64_t M, float* y) {
  const int64_t K = w.cols, N = w.rows;
  const size_t wrb = ggml_row_bytes(w.type, static_cast<size_t>(K));
  const int64_t tr = std::min(sgemm_tile_rows, N);
  const size_t need = checked_mul(static_cast<size_t>(tr), static_cast<size_t>(K), "matmul weight tile");
  if (wtile_.size() < need) wtile_.resize(need);
  float* tile = wtile_.data();
  const auto* wb = static_cast<const uint8_t*>(w.data);
  for (int64_t t = 0; t < N; t += tr) {
    const int64_t nr = std::min(tr, N - t);
    pool_.parallel_for(nr, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) dequantize_row(w.type, wb + (t + r) * wrb, tile + r * K, K);
    });
    dnnl_->run(x, M, K, tile, K, nr, y + t, N);
  }
}

}  // namespace dianoia::detail
