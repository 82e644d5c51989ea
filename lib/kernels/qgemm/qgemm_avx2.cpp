// The int8 GEMM on AVX2: 8 tokens per ymm; the 4-product dot is vpmaddubsw (u8 x s8 -> pairs summed in
// s16) + vpmaddwd by ones. The s16 pair sum saturates for |weight| > 64, so Q8_0 is left to the gemv
// path.
#include "kernels/qgemm/qgemm_impl.hpp"
#include "kernels/qgemm/qgemm_vec256.hpp"

namespace dianoia::detail::qgemm {
namespace {

struct dot_avx2 {
  static __m256i dot(__m256i acc, __m256i a_u8, __m256i w_s8) {
    const __m256i p16 = _mm256_maddubs_epi16(a_u8, w_s8);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
  }
};
using V = v256<dot_avx2>;

bool supports(ggml_type t) { return layout_of(t).blk != 0 && t != ggml_type::q8_0; }

const isa_kernels k_table{isa::avx2, V::L, supports, pack_act_impl<V::L>, unpack_impl, compute_impl<V>};

}  // namespace

const isa_kernels* kernels_avx2() { return &k_table; }

}  // namespace dianoia::detail::qgemm
