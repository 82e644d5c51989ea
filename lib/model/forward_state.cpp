#include "core/error.hpp"
#include "model/model.hpp"

namespace dianoia::detail {

size_t forward_state::kv_bytes(uint32_t) const { fail(errc::unsupported, "this model cannot save its KV cache"); }
void forward_state::kv_save(uint32_t, uint8_t*) const { fail(errc::unsupported, "this model cannot save its KV cache"); }
void forward_state::kv_load(uint32_t, const uint8_t*) { fail(errc::unsupported, "this model cannot load a KV cache"); }

}  // namespace dianoia::detail
