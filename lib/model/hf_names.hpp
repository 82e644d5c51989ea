// Hugging Face tensor names -> dianoia's canonical (GGUF, llama.cpp) names, for every architecture that
// loads from safetensors. The table follows llama.cpp's gguf-py tensor mapping. Per-expert MoE weights
// (DeepSeek's mlp.experts.E.*_proj) have no GGUF equivalent (llama.cpp stacks them into one 3-D
// ffn_*_exps tensor at conversion); they keep one view per expert, named by expert_tensor_name
// (model/weight_lookup.hpp: blk.N.ffn_{gate,up,down}_exps.E.weight), so that no 600 GB model is ever
// copied just to be stacked; load_experts reads either form.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "model/model.hpp"

namespace dianoia::detail {

struct hf_tensor_name {
  std::string canonical;
  // llama only: q_proj/k_proj rows are permuted per head (this many heads) from HF's rotate-halves layout
  // into GGUF's adjacent pairs, as llama.cpp's convert_hf_to_gguf.py does; 0 = used as stored.
  uint32_t permute_heads = 0;
};

// nullopt: not a weight dianoia uses (rotary_emb.inv_freq caches, DeepSeek-V3's multi-token-prediction
// layers past num_hidden_layers, unknown top-level extras), ignored. error(unsupported) names a tensor
// inside a layer block that the table does not know: a misread there would silently change the model.
std::optional<hf_tensor_name> map_hf_tensor_name(const hparams& hp, std::string_view hf_name);

}  // namespace dianoia::detail
