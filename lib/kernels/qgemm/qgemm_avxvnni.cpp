// The int8 GEMM on AVX-VNNI (the VEX-encoded 256-bit vpdpbusd of Alder Lake and later, Zen 5): 8 tokens
// per ymm, one vpdpbusd per 4 weights of a row.
#include <immintrin.h>

#include "kernels/qgemm/qgemm_impl.hpp"

namespace dianoia::detail::qgemm {
namespace {

struct v256_vnni {
  static constexpr int L = 8;
  using vi = __m256i;
  using vf = __m256;
  static vf zero_f() { return _mm256_setzero_ps(); }
  static vi set1_i(int32_t v) { return _mm256_set1_epi32(v); }
  static vf set1_f(float v) { return _mm256_set1_ps(v); }
  static vi load_i(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static vf load_f(const float* p) { return _mm256_loadu_ps(p); }
  static void store_f(float* p, vf v) { _mm256_storeu_ps(p, v); }
  static vf cvt(vi v) { return _mm256_cvtepi32_ps(v); }
  static vf fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
  static vi dot(vi acc, vi a_u8, vi w_s8) { return _mm256_dpbusd_avx_epi32(acc, a_u8, w_s8); }
  static constexpr bool k_wide_weights = true;
};

bool supports(ggml_type t) { return layout_of(t).blk != 0; }

const isa_kernels k_table{isa::avx_vnni, v256_vnni::L, supports, pack_act_impl<v256_vnni::L>, unpack_impl,
                          compute_impl<v256_vnni>};

}  // namespace

const isa_kernels* kernels_avxvnni() { return &k_table; }

}  // namespace dianoia::detail::qgemm
