#include "model/registry.hpp"

#include "core/error.hpp"

namespace dianoia::detail {

std::unique_ptr<model> create_model(const gguf::file& f) {
  const auto arch = f.get_string("general.architecture");
  if (!arch) fail(errc::format, "'{}' has no general.architecture", f.name());
  if (*arch == "llama") return make_llama(f);
  fail(errc::unsupported, "unknown model architecture '{}' (supported: llama)", *arch);
}

}  // namespace dianoia::detail
