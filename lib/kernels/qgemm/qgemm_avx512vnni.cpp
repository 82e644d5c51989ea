// The int8 GEMM on AVX-512 VNNI: 16 tokens per zmm, one vpdpbusd per 4 weights of a row.
#include "kernels/qgemm/qgemm_impl.hpp"
#include "kernels/qgemm/qgemm_vec512.hpp"

namespace dianoia::detail::qgemm {
namespace {

struct dot_vnni512 {
  static __m512i dot(__m512i acc, __m512i a_u8, __m512i w_s8) {
    return _mm512_dpbusd_epi32(acc, a_u8, w_s8);
  }
};
using V = v512<dot_vnni512>;

bool supports(ggml_type t) { return layout_of(t).blk != 0; }

const isa_kernels k_table{isa::avx512_vnni, V::L, supports, pack_act_impl<V::L>, unpack_impl, compute_impl<V>};

}  // namespace

const isa_kernels* kernels_avx512vnni() { return &k_table; }

}  // namespace dianoia::detail::qgemm
