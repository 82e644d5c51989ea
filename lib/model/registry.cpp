#include "model/registry.hpp"

#include <string>

#include "core/error.hpp"
#include "model/hparams_gguf.hpp"
#include "model/shape_checks.hpp"

namespace dianoia::detail {
namespace {

using factory = std::unique_ptr<model> (*)(const hparams&, const tensor_source&);
struct entry {
  std::string_view arch;
  factory make;
};
constexpr entry k_architectures[] = {
    {"llama", make_llama},
    {"qwen2", make_qwen2},
    {"qwen3", make_qwen3},
    {"deepseek2", make_deepseek2},
};

const entry* find(std::string_view arch) {
  for (const auto& e : k_architectures)
    if (e.arch == arch) return &e;
  return nullptr;
}

}  // namespace

bool architecture_supported(std::string_view arch) { return find(arch) != nullptr; }

// Built once from the table, so that adding an architecture is one line there.
const char* supported_architectures() {
  static const std::string list = [] {
    std::string s;
    for (const auto& e : k_architectures) s += (s.empty() ? "" : ", ") + std::string(e.arch);
    return s;
  }();
  return list.c_str();
}

std::unique_ptr<model> create_model(const hparams& hp, const tensor_source& w) {
  const entry* e = find(hp.arch);
  if (!e) fail(errc::unsupported, "unknown model architecture '{}' (supported: {})", hp.arch, supported_architectures());
  check_tensor_shapes(hp, w);
  return e->make(hp, w);
}

std::unique_ptr<model> create_model(const gguf::file& f) {
  const auto arch = f.get_string("general.architecture");
  if (!arch) fail(errc::format, "'{}' has no general.architecture", f.name());
  if (!architecture_supported(*arch))
    fail(errc::unsupported, "unknown model architecture '{}' (supported: {})", *arch, supported_architectures());
  return create_model(hparams_from_gguf(f), f);
}

}  // namespace dianoia::detail
