// Architecture dispatch: builds the network that a set of hyper-parameters and tensors describe.
#pragma once
#include <memory>
#include <string_view>

#include "core/tensor.hpp"
#include "gguf/gguf.hpp"
#include "model/model.hpp"

namespace dianoia::detail {

// True if create_model can build hp.arch.
bool architecture_supported(std::string_view arch);
// For messages: "llama, qwen2, qwen3, deepseek2" (the registry table's order).
const char* supported_architectures();

// Builds the model over `w`'s tensors (canonical GGUF names; they must outlive the model).
// error(unsupported) names an unknown architecture; error(format) a missing or misshapen tensor, or a
// hyper-parameter that its tensors contradict (check_tensor_shapes, before the architecture's own loader).
std::unique_ptr<model> create_model(const hparams& hp, const tensor_source& w);

// A GGUF file: checks the architecture first (so an unknown one is named before any key is missing),
// then hparams_from_gguf + create_model.
std::unique_ptr<model> create_model(const gguf::file& f);

// Per-architecture factories (lib/model/decoder.cpp: the dense decoder families).
std::unique_ptr<model> make_llama(const hparams& hp, const tensor_source& w);
std::unique_ptr<model> make_qwen2(const hparams& hp, const tensor_source& w);
std::unique_ptr<model> make_qwen3(const hparams& hp, const tensor_source& w);
// lib/model/deepseek2.cpp: DeepSeek-V2/V3 (multi-head latent attention, DeepSeek MoE).
std::unique_ptr<model> make_deepseek2(const hparams& hp, const tensor_source& w);

}  // namespace dianoia::detail
