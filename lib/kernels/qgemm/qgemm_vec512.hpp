// The 512-bit vector policy of the int8 GEMM (qgemm_impl.hpp), shared by the AVX-512 and AVX-512 VNNI
// files; the 4-product dot is the policy's one difference and comes from Dot. Include only from files
// compiled with AVX-512 F/BW/DQ/VL (and what Dot needs).
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace dianoia::detail::qgemm {
namespace {

template <class Dot>
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
  static vi dot(vi acc, vi a_u8, vi w_s8) { return Dot::dot(acc, a_u8, w_s8); }
};

}  // namespace
}  // namespace dianoia::detail::qgemm
