// Tensors as the model sees them, whatever file they come from: a name in the canonical (GGUF) naming,
// a ggml storage type, a shape and a pointer into a mapping. GGUF files, safetensors files and sets of
// either (split GGUF, sharded safetensors) all present themselves as a tensor_source, so the model code
// has one way to find its weights.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/ggml_types.hpp"

namespace dianoia::detail {

struct tensor_view {
  std::string name;
  ggml_type type{};
  uint32_t n_dims = 0;
  uint64_t ne[4] = {1, 1, 1, 1};  // ne[0] is the contiguous (row) dimension, as in ggml
  uint64_t offset = 0;            // relative to the start of its file's data section
  const uint8_t* data = nullptr;  // absolute pointer into a mapping (or into a buffer the source owns)
  size_t nbytes = 0;
  uint64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class tensor_source {
 public:
  virtual ~tensor_source() = default;
  // For messages: the file (or first file) name.
  virtual const std::string& source_name() const = 0;
  // nullptr when absent. Pointers stay valid while the source lives.
  virtual const tensor_view* find_tensor(std::string_view name) const = 0;
  virtual std::span<const tensor_view> all_tensors() const = 0;
};

}  // namespace dianoia::detail
