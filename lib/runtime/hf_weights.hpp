// The weights of a Hugging Face model directory as a tensor_source in canonical names: finds the
// safetensors files (model.safetensors.index.json's shards, else model.safetensors, else the single
// *.safetensors file) and binds each tensor through map_hf_tensor_name.
#pragma once
#include <memory>
#include <string>

#include "model/model.hpp"
#include "safetensors/tensor_set.hpp"

namespace dianoia::detail {

// hparams from <dir>/config.json (error(io) if there is none).
hparams read_hf_config(const std::string& dir);

// Parses and plans (nothing repacked yet: call materialize() after the memory check). error(io) if the
// directory has no weights or a shard the index names is missing; error(format) if a tensor the index
// places in a shard is not there.
std::unique_ptr<safetensors::tensor_set> open_hf_weights(const std::string& dir, const hparams& hp,
                                                         file_access access = file_access::map);

}  // namespace dianoia::detail
