// The int8 GEMM on AVX-512 VNNI: 16 tokens per zmm, one vpdpbusd per 4 weights of a row.
#include <immintrin.h>

#include "kernels/qgemm/qgemm_impl.hpp"

namespace dianoia::detail::qgemm {
namespace {

struct v512_vnni {
  static constexpr int L = 16;
  using vi = __m512i;
  using vf = __m512;
  static vf zero_f() { return _mm512_setzero_ps(); }
  static vi set1_i(int32_t v) { return _mm512_set1_epi32(v); }
  static vf set1_f(float v) { return _mm512_set1_ps(v); }
  static vi load_i(const void* p) { return _mm512_loadu_si512(p); }
  static vf load_f(const float* p) { return _mm512_loadu_ps(p); }
  static void store_f(float* p, vf v) { _mm512_storeu_ps(p, v); }
  static vf cvt(vi v) { return _mm512_cvtepi32_ps(v); }
  static vf fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
  static vi dot(vi acc, vi a_u8, vi w_s8) { return _mm512_dpbusd_epi32(acc, a_u8, w_s8); }
  static constexpr bool k_wide_weights = true;
};

bool supports(ggml_type t) { return layout_of(t).blk != 0; }

const isa_kernels k_table{isa::avx512_vnni, v512_vnni::L, supports, pack_act_impl<v512_vnni::L>, unpack_impl,
                          compute_impl<v512_vnni>};

}  // namespace

const isa_kernels* kernels_avx512vnni() { return &k_table; }

}  // namespace dianoia::detail::qgemm
