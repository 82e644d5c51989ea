// Hyper-parameters from a Hugging Face config.json (transformers' field names), and sampling defaults
// from generation_config.json. Architectures: llama, qwen2, qwen3, deepseek_v2 and deepseek_v3 (the last
// two become GGUF's "deepseek2", as llama.cpp names them).
#pragma once
#include <optional>
#include <string_view>

#include "model/model.hpp"

namespace dianoia::detail {

// error(format) for malformed JSON, a missing or out-of-range field; error(unsupported) for a model_type
// or rope scaling type dianoia does not know. n_params stays 0 (the tensors give it).
hparams hparams_from_config_json(std::string_view json);

// The sampling defaults a model ships with; absent fields stay nullopt.
struct generation_defaults {
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int32_t> top_k;
  std::optional<float> min_p;
  std::optional<bool> do_sample;  // false: the model's authors meant greedy decoding
};
generation_defaults generation_defaults_from_json(std::string_view json);

}  // namespace dianoia::detail
