#include "kernels/qgemm/qgemm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "core/error.hpp"
#include "kernels/quant/quant.hpp"

namespace dianoia::detail::qgemm {

type_layout layout_of(ggml_type t) {
  switch (t) {
    case ggml_type::q4_0: case ggml_type::q5_0: case ggml_type::q8_0: return {32, 32, false};
    case ggml_type::q4_1: case ggml_type::q5_1: return {32, 32, true};
    case ggml_type::q4_k: case ggml_type::q5_k: return {256, 32, true};
    case ggml_type::q6_k: return {256, 16, false};
    default: return {};
  }
}

size_t act_bytes(ggml_type t, int lanes, int64_t M, int64_t K) {
  const type_layout lo = layout_of(t);
  const size_t groups = static_cast<size_t>((M + lanes - 1) / lanes);
  return checked_mul(checked_mul(groups, static_cast<size_t>(K / lo.blk), "qgemm activations"),
                     act_block_bytes(lo, lanes), "qgemm activations");
}

size_t scratch_bytes(ggml_type t, int64_t K) {
  const type_layout lo = layout_of(t);
  return static_cast<size_t>(k_block_rows / k_panel_rows) * static_cast<size_t>(K / lo.blk) * panel_block_bytes(lo);
}

const isa_kernels* select(ggml_type t, isa ceiling) {
  if (layout_of(t).blk == 0) return nullptr;
  // Best first; a level whose table is missing or that does not take this type is skipped.
  const isa_kernels* candidates[] = {kernels_avx512vnni(), kernels_avxvnni(), kernels_avx512(), kernels_avx2()};
  for (const isa_kernels* k : candidates)
    if (k && isa_usable(k->level, ceiling) && k->supports(t)) return k;
  return nullptr;
}

void reference(ggml_type t, const void* w, int64_t N, int64_t K, const float* x, int64_t M, float* y) {
  const type_layout lo = layout_of(t);
  if (lo.blk == 0) fail(errc::unsupported, "qgemm: type {} is not covered", ggml_traits(t).name);
  const size_t rb = ggml_row_bytes(t, static_cast<size_t>(K));
  const int64_t nblk = K / lo.blk;
  // The kernels' activation quantization, every row first: per block, round(x * 127 / amax) and amax / 127.
  std::vector<float> xq(static_cast<size_t>(M * K));
  std::vector<double> xd(static_cast<size_t>(M * nblk));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t b = 0; b < nblk; ++b) {
      const float* xb = x + m * K + b * lo.blk;
      float amax = 0.0f;
      for (int j = 0; j < lo.blk; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
      const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
      for (int j = 0; j < lo.blk; ++j) xq[m * K + b * lo.blk + j] = std::nearbyint(xb[j] * id);
      xd[m * nblk + b] = amax / 127.0f;
    }
  // Then each weight row, dequantized once, against every activation row.
  std::vector<float> wf(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    dequantize_row(t, static_cast<const uint8_t*>(w) + n * rb, wf.data(), K);
    for (int64_t m = 0; m < M; ++m) {
      double acc = 0.0;
      for (int64_t b = 0; b < nblk; ++b) {
        double s = 0.0;
        for (int j = 0; j < lo.blk; ++j) s += double{wf[b * lo.blk + j]} * xq[m * K + b * lo.blk + j];
        acc += s * xd[m * nblk + b];
      }
      y[m * N + n] = static_cast<float>(acc);
    }
  }
}

namespace {
constexpr size_t k_align = 64;
uint8_t* align_up(uint8_t* p) {
  return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + k_align - 1) & ~uintptr_t{k_align - 1});
}
}  // namespace

uint8_t* runner::act_aligned(size_t bytes) {
  if (act_.size() < bytes + k_align) act_.resize(bytes + k_align);
  return align_up(act_.data());
}

void runner::run(const isa_kernels& k, ggml_type t, const void* w, int64_t N, int64_t K, const float* x, int64_t M,
                 float* y, thread_pool& pool) {
  const type_layout lo = layout_of(t);
  if (lo.blk == 0 || !k.supports(t)) fail(errc::unsupported, "qgemm: type {} is not covered", ggml_traits(t).name);
  if (K % lo.blk != 0) fail(errc::format, "qgemm: row length {} is not a multiple of {}", K, lo.blk);
  const int64_t groups = (M + k.lanes - 1) / k.lanes;
  uint8_t* act = act_aligned(act_bytes(t, k.lanes, M, K));
  pool.parallel_for(groups, [&](int64_t b, int64_t e) { k.pack_act(t, x, M, K, b, e, act); });

  const size_t sb = scratch_bytes(t, K);
  const auto nt = static_cast<size_t>(pool.size());
  if (scratch_.size() < nt) {
    scratch_.resize(nt);
    scratch_size_.resize(nt, 0);
  }
  for (size_t i = 0; i < nt; ++i)
    if (scratch_size_[i] < sb) {
      scratch_[i].reset(new uint8_t[sb + k_align]);
      scratch_size_[i] = sb;
    }
  const size_t rb = ggml_row_bytes(t, static_cast<size_t>(K));
  const auto* wb = static_cast<const uint8_t*>(w);
  const int64_t items = (N + k_block_rows - 1) / k_block_rows;
  pool.parallel_for_indexed(items, [&](int th, int64_t ib, int64_t ie) {
    uint8_t* scratch = align_up(scratch_[static_cast<size_t>(th)].get());
    for (int64_t i = ib; i < ie; ++i) {
      const int64_t r0 = i * k_block_rows;
      const int nr = static_cast<int>(std::min<int64_t>(k_block_rows, N - r0));
      k.unpack(t, wb + r0 * rb, rb, nr, K, scratch);
      k.compute(t, scratch, nr, K, act, M, y + r0, N);
    }
  });
}

}  // namespace dianoia::detail::qgemm
