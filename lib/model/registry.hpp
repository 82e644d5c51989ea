// Architecture dispatch: builds the model a GGUF file describes.
#pragma once
#include <memory>

#include "gguf/gguf.hpp"
#include "model/model.hpp"

namespace dianoia::detail {

// Reads general.architecture and builds that model over the file's tensors (which must outlive it).
// error(unsupported) names an unknown architecture; error(format) names a missing or misshapen tensor.
std::unique_ptr<model> create_model(const gguf::file& f);

// Per-architecture factories (lib/model/<arch>.cpp).
std::unique_ptr<model> make_llama(const gguf::file& f);

}  // namespace dianoia::detail
