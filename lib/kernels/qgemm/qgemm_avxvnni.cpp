// The int8 GEMM on AVX-VNNI (the VEX-encoded 256-bit vpdpbusd of Alder Lake and later, Zen 5): 8 tokens
// per ymm, one vpdpbusd per 4 weights of a row.
#include "kernels/qgemm/qgemm_impl.hpp"
#include "kernels/qgemm/qgemm_vec256.hpp"

namespace dianoia::detail::qgemm {
namespace {

struct dot_vnni256 {
  static __m256i dot(__m256i acc, __m256i a_u8, __m256i w_s8) {
    return _mm256_dpbusd_avx_epi32(acc, a_u8, w_s8);
  }
};
using V = v256<dot_vnni256>;

bool supports(ggml_type t) { return layout_of(t).blk != 0; }

const isa_kernels k_table{isa::avx_vnni, V::L, supports, pack_act_impl<V::L>, unpack_impl, compute_impl<V>};

}  // namespace

const isa_kernels* kernels_avxvnni() { return &k_table; }

}  // namespace dianoia::detail::qgemm
