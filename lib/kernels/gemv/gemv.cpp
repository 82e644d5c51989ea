#include "kernels/gemv/gemv.hpp"

namespace dianoia::detail::gemv {

gemm_fn select_fast(ggml_type t, isa ceiling) {
  if (isa_usable(isa::avx512_vnni, ceiling)) return avx512vnni::get(t);
  return nullptr;
}

}  // namespace dianoia::detail::gemv
