// The int8 GEMM on AVX-512 without VNNI (Skylake-X): 16 tokens per zmm; the 4-product dot is
// vpmaddubsw (u8 x s8 -> pairs summed in s16) + vpmaddwd by ones. The s16 pair sum saturates for
// |weight| > 64, so Q8_0 is left to the other paths.
#include <immintrin.h>

#include "kernels/qgemm/qgemm_impl.hpp"

namespace dianoia::detail::qgemm {
namespace {

struct v512 {
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
  static vi dot(vi acc, vi a_u8, vi w_s8) {
    const vi p16 = _mm512_maddubs_epi16(a_u8, w_s8);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(p16, _mm512_set1_epi16(1)));
  }
  static constexpr bool k_wide_weights = false;
};

bool supports(ggml_type t) { return layout_of(t).blk != 0 && t != ggml_type::q8_0; }

const isa_kernels k_table{isa::avx512, v512::L, supports, pack_act_impl<v512::L>, unpack_impl, compute_impl<v512>};

}  // namespace

const isa_kernels* kernels_avx512() { return &k_table; }

}  // namespace dianoia::detail::qgemm
