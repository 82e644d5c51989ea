// The int8 GEMM on AVX-512 without VNNI (Skylake-X): 16 tokens per zmm; the 4-product dot is
// vpmaddubsw (u8 x s8 -> pairs summed in s16) + vpmaddwd by ones. The s16 pair sum saturates for
// |weight| > 64, so Q8_0 is left to the other paths.
#include "kernels/qgemm/qgemm_impl.hpp"
#include "kernels/qgemm/qgemm_vec512.hpp"

namespace dianoia::detail::qgemm {
namespace {

struct dot_bw512 {
  static __m512i dot(__m512i acc, __m512i a_u8, __m512i w_s8) {
    const __m512i p16 = _mm512_maddubs_epi16(a_u8, w_s8);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(p16, _mm512_set1_epi16(1)));
  }
};
using V = v512<dot_bw512>;

bool supports(ggml_type t) { return layout_of(t).blk != 0 && t != ggml_type::q8_0; }

const isa_kernels k_table{isa::avx512, V::L, supports, pack_act_impl<V::L>, unpack_impl, compute_impl<V>};

}  // namespace

const isa_kernels* kernels_avx512() { return &k_table; }

}  // namespace dianoia::detail::qgemm
