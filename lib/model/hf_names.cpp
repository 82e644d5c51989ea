#include "model/hf_names.hpp"

#include <charconv>

#include "core/error.hpp"
#include "model/weight_lookup.hpp"

namespace dianoia::detail {
namespace {

struct rename {
  std::string_view hf;         // inside "model.layers.N.", without ".weight"/".bias"
  std::string_view canonical;  // inside "blk.N."
};
constexpr rename k_layer[] = {
    {"input_layernorm", "attn_norm"},
    {"post_attention_layernorm", "ffn_norm"},
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
    // DeepSeek-V2/V3 multi-head latent attention
    {"self_attn.q_a_proj", "attn_q_a"},
    {"self_attn.q_a_layernorm", "attn_q_a_norm"},
    {"self_attn.q_b_proj", "attn_q_b"},
    {"self_attn.kv_a_proj_with_mqa", "attn_kv_a_mqa"},
    {"self_attn.kv_a_layernorm", "attn_kv_a_norm"},
    {"self_attn.kv_b_proj", "attn_kv_b"},
    // DeepSeek mixture of experts: router, shared experts
    {"mlp.gate", "ffn_gate_inp"},
    {"mlp.shared_experts.gate_proj", "ffn_gate_shexp"},
    {"mlp.shared_experts.up_proj", "ffn_up_shexp"},
    {"mlp.shared_experts.down_proj", "ffn_down_shexp"},
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Parses a decimal index at the start of `s` and the '.' after it; nullopt if there is none.
std::optional<uint32_t> take_index(std::string_view& s) {
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end == s.data() || end == s.data() + s.size() || *end != '.') return std::nullopt;
  s.remove_prefix(static_cast<size_t>(end - s.data()) + 1);
  return n;
}

}  // namespace

std::optional<hf_tensor_name> map_hf_tensor_name(const hparams& hp, std::string_view name) {
  if (name == "model.embed_tokens.weight") return hf_tensor_name{"token_embd.weight"};
  if (name == "model.norm.weight") return hf_tensor_name{"output_norm.weight"};
  if (name == "lm_head.weight") return hf_tensor_name{"output.weight"};
  std::string_view rest = name;
  if (!starts_with(rest, "model.layers.")) return std::nullopt;
  rest.remove_prefix(13);
  const std::optional<uint32_t> layer = take_index(rest);
  if (!layer) fail(errc::format, "tensor '{}': malformed layer index", name);
  // DeepSeek-V3 ships its multi-token-prediction module as extra layers; llama.cpp skips them too.
  if (*layer >= hp.n_layer) return std::nullopt;
  if (rest == "self_attn.rotary_emb.inv_freq") return std::nullopt;  // a cache some exports keep
  const std::string blk = "blk." + std::to_string(*layer) + ".";

  std::string_view suffix;
  if (rest.ends_with(".weight")) suffix = "weight";
  else if (rest.ends_with(".bias")) suffix = "bias";
  else if (rest == "mlp.gate.e_score_correction_bias") return hf_tensor_name{blk + "exp_probs_b.bias"};
  else fail(errc::unsupported, "tensor '{}' is not a weight dianoia knows for a {} layer", name, hp.arch);
  std::string_view stem = rest.substr(0, rest.size() - suffix.size() - 1);

  // Routed experts: mlp.experts.E.{gate,up,down}_proj
  if (starts_with(stem, "mlp.experts.")) {
    std::string_view e = stem.substr(12);
    const std::optional<uint32_t> expert = take_index(e);
    if (expert && suffix == "weight" && (e == "gate_proj" || e == "up_proj" || e == "down_proj")) {
      if (hp.moe.n_expert && *expert >= hp.moe.n_expert)
        fail(errc::format, "tensor '{}': expert {} but the config has {} experts", name, *expert, hp.moe.n_expert);
      const std::string_view kind = e.substr(0, e.size() - 5);  // gate / up / down
      return hf_tensor_name{expert_tensor_name(*layer, kind, *expert)};
    }
  }
  for (const auto& r : k_layer) {
    if (stem != r.hf) continue;
    hf_tensor_name out{blk + std::string(r.canonical) + "." + std::string(suffix)};
    if (hp.arch == "llama" && hp.rope == rope_kind::norm) {
      if (r.canonical == "attn_q") out.permute_heads = hp.n_head;
      if (r.canonical == "attn_k") out.permute_heads = hp.n_head_kv;
    }
    return out;
  }
  fail(errc::unsupported, "tensor '{}' is not a weight dianoia knows for a {} layer", name, hp.arch);
}

}  // namespace dianoia::detail
