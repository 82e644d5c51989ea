// Finding a model's weights by canonical (GGUF) name in a tensor_source, shape-checked once at load
// time, for every architecture: small vectors copied to f32, matrices as weight_views into the mapping,
// and a layer's routed experts as one view per expert whether the file stacks them (GGUF's 3-D
// ffn_*_exps tensors) or keeps them apart (Hugging Face's mlp.experts.E.*_proj).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.hpp"
#include "kernels/matmul.hpp"

namespace dianoia::detail {

// The tensor `name` with shape [ne0, ne1] (ggml order: ne0 is the row length; ne1 0 means a vector).
// error(format) names a missing or misshapen tensor.
const tensor_view& find_shaped(const tensor_source& src, const std::string& name, uint64_t ne0, uint64_t ne1);

// A vector of n values as f32, whatever its storage type (F32 in GGUF, often BF16 in safetensors).
// error(unsupported) for a type that cannot be dequantized.
std::vector<float> load_vec(const tensor_source& src, const std::string& name, uint64_t n);
// Empty when the tensor is absent.
std::vector<float> load_optional_vec(const tensor_source& src, const std::string& name, uint64_t n);

// A [rows, cols] matrix (rows of cols elements) that matmul_engine multiplies. error(unsupported) for a
// storage type it cannot multiply.
weight_view load_matrix(const tensor_source& src, const std::string& name, uint64_t cols, uint64_t rows);

// The canonical name of one expert's matrix. `kind` is "gate", "up" or "down". GGUF stacks a layer's
// experts into blk.L.ffn_<kind>_exps.weight of shape [cols, rows, n_expert]; a checkpoint that keeps
// them apart (Hugging Face) names them blk.L.ffn_<kind>_exps.E.weight, which is what this returns.
std::string expert_tensor_name(uint32_t layer, std::string_view kind, uint32_t expert);
std::string stacked_experts_name(uint32_t layer, std::string_view kind);

// One [rows, cols] view per expert of layer `layer`: slices of the stacked 3-D tensor when the source
// has it, else the per-expert tensors. error(format) when neither is complete or a shape is off.
std::vector<weight_view> load_experts(const tensor_source& src, uint32_t layer, std::string_view kind,
                                      uint32_t n_expert, uint64_t cols, uint64_t rows);

}  // namespace dianoia::detail
