// Hyper-parameters against the tensors that state them too. A GGUF's metadata or a config.json can
// contradict the weights beside it (a hand-edited config, a stale conversion, a hostile file); whichever
// number the forward pass then used, one of them would be wrong. These checks run once at load, for every
// architecture (create_model calls them before an architecture binds its weights), and name the field,
// its value, the tensor and the tensor's number.
//
// Only what a tensor present in the source states is checked: an architecture's own loader names a
// missing tensor. Fields that are zero (not stated: GGUF files seldom carry a vocab_size) are skipped.
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "core/tensor.hpp"
#include "model/model.hpp"

namespace dianoia::detail {

// error(format) "<field>: <key> = <value> but <tensor> has <n> <what>" for the first disagreement of:
// vocabulary (token_embd / output rows), hidden size (every matrix's n_embd side), heads x head size
// (attn_q, attn_output), KV heads x head size (attn_k, attn_v), head size (q/k norms), FFN size (dense
// layers), layer count (blocks present against n_layer), and, where stated, the MoE expert count, expert
// and shared-expert FFN sizes, and the MLA latent ranks and head sizes.
void check_tensor_shapes(const hparams& hp, const tensor_source& src);

// Hugging Face folders: the layer blocks the safetensors hold ("model.layers.N.*" names), checked before
// the name mapping drops the ones past num_hidden_layers (DeepSeek-V3 stores num_nextn_predict_layers
// multi-token-prediction blocks there, which stay allowed).
void check_hf_layer_names(const hparams& hp, std::span<const std::string_view> hf_names);

// The name of a hyper-parameter where it came from: "config.json 'hidden_size'" or
// "GGUF 'qwen3.embedding_length'". `field` is the GGUF key without the architecture prefix.
std::string hparam_key(const hparams& hp, std::string_view field);

}  // namespace dianoia::detail
