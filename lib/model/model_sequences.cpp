// Defaults of the multi-sequence interface for models without it (test doubles, other architectures).
#include "core/error.hpp"
#include "model/model.hpp"

namespace dianoia::detail {

void model::begin_sequences(forward_state&, uint32_t, uint32_t) const {
  fail(errc::unsupported, "{} models cannot decode several sequences at once", hp().arch);
}
void model::forward_batch(forward_state&, std::span<const seq_token>, float*) const {
  fail(errc::unsupported, "{} models cannot decode several sequences at once", hp().arch);
}
void model::end_sequences(forward_state&, uint32_t, uint32_t) const noexcept {}

}  // namespace dianoia::detail
