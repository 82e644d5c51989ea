#include "model/hparams_gguf.hpp"

#include <cmath>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace dianoia::detail {
namespace {

struct reader {
  const gguf::file& f;
  std::string arch;

  std::string key(std::string_view k) const { return arch + "." + std::string(k); }

  // A count that must be positive and sane (no dimension of a real model comes near 2^24).
  uint32_t count(std::string_view k, std::optional<uint32_t> dflt = std::nullopt) const {
    const std::string name = key(k);
    auto v = f.get_uint(name);
    if (!v) {
      if (dflt) return *dflt;
      fail(errc::format, "metadata '{}' is missing", name);
    }
    if (*v == 0 || *v > (1u << 24)) fail(errc::format, "metadata '{}' = {} is out of range", name, *v);
    return static_cast<uint32_t>(*v);
  }
  // A count that may be zero (optional features).
  uint32_t count0(std::string_view k) const {
    const std::string name = key(k);
    auto v = f.get_uint(name);
    if (!v) return 0;
    if (*v > (1u << 24)) fail(errc::format, "metadata '{}' = {} is out of range", name, *v);
    return static_cast<uint32_t>(*v);
  }
  float real(std::string_view k, double dflt) const {
    const std::string name = key(k);
    const double v = f.get_float(name).value_or(dflt);
    if (!std::isfinite(v)) fail(errc::format, "metadata '{}' is not a finite number", name);
    return static_cast<float>(v);
  }
};

// DeepSeek-V2/V3 as llama.cpp's converter writes them. Newer files describe the absorbed form: one KV
// head whose key is the latent plus the RoPE key (key_length = kv_lora_rank + rope, value_length =
// kv_lora_rank) and the per-head sizes in key_length_mla / value_length_mla; older ones write the
// per-head sizes as key_length / value_length.
void read_deepseek2(const reader& r, hparams& hp) {
  auto& m = hp.mla;
  m.q_lora_rank = r.count0("attention.q_lora_rank");
  m.kv_lora_rank = r.count("attention.kv_lora_rank");
  m.qk_rope_head_dim = r.count("rope.dimension_count");
  const uint32_t kl = r.count("attention.key_length"), vl = r.count("attention.value_length");
  const uint32_t kl_mla = r.count0("attention.key_length_mla"), vl_mla = r.count0("attention.value_length_mla");
  const uint32_t qk = kl_mla ? kl_mla : kl;
  m.v_head_dim = vl_mla ? vl_mla : vl;
  if (qk <= m.qk_rope_head_dim)
    fail(errc::format, "deepseek2: key length {} leaves no room beside {} RoPE dimensions", qk, m.qk_rope_head_dim);
  m.qk_nope_head_dim = qk - m.qk_rope_head_dim;
  hp.head_dim = qk;
  hp.rope_dim = m.qk_rope_head_dim;
  hp.n_head_kv = hp.n_head;  // MLA: every head reads the one latent; the converter's "1 KV head" is that
  // Multi-token-prediction layers (V3's, when a converter keeps them) come last in block_count; the
  // forward pass runs only the model's own layers.
  if (const uint32_t nextn = r.count0("nextn_predict_layers"); nextn) {
    if (nextn >= hp.n_layer) fail(errc::format, "deepseek2: {} prediction layers of {} blocks", nextn, hp.n_layer);
    hp.n_layer -= nextn;
  }

  auto& e = hp.moe;
  e.n_layer_dense_lead = r.count0("leading_dense_block_count");
  e.n_expert = r.count0("expert_count");
  e.n_expert_used = r.count0("expert_used_count");
  e.n_expert_shared = r.count0("expert_shared_count");
  e.n_ff_expert = r.count0("expert_feed_forward_length");
  e.n_expert_groups = r.count0("expert_group_count");
  e.n_group_used = r.count0("expert_group_used_count");
  e.routed_scaling = r.real("expert_weights_scale", 1.0);
  if (e.routed_scaling == 0.0f) e.routed_scaling = 1.0f;  // llama.cpp: 0 means "do not scale"
  e.norm_topk_prob = r.f.get_bool(r.key("expert_weights_norm")).value_or(false);
  const uint32_t gating = r.count0("expert_gating_func");
  if (gating > 2) fail(errc::unsupported, "deepseek2: expert gating function {} (1 softmax, 2 sigmoid)", gating);
  // Files from before the key are DeepSeek-V2: softmax.
  e.sigmoid_gating = gating == 2;
  e.group_scoring = e.n_expert_groups > 1 ? (e.sigmoid_gating ? expert_group_scoring::top2_sum : expert_group_scoring::best)
                                          : expert_group_scoring::none;
  e.scale_normalized = true;  // llama.cpp normalises (when asked) and then scales, V2 or V3
}

}  // namespace

hparams hparams_from_gguf(const gguf::file& f) {
  const auto arch = f.get_string("general.architecture");
  if (!arch) fail(errc::format, "'{}' has no general.architecture", f.name());

  const reader r{f, std::string(*arch)};
  hparams hp;
  hp.arch = r.arch;
  hp.n_embd = r.count("embedding_length");
  hp.n_layer = r.count("block_count");
  hp.n_head = r.count("attention.head_count");
  hp.n_head_kv = r.count("attention.head_count_kv", hp.n_head);
  hp.n_ff = r.count("feed_forward_length");
  hp.n_ctx_train = r.count("context_length", 2048u);
  // Seldom written (the tokenizer's token count is the vocabulary); checked against the embedding when it is.
  hp.n_vocab = r.count0("vocab_size");
  if (hp.n_head % hp.n_head_kv != 0) fail(errc::format, "{} heads cannot share {} KV heads", hp.n_head, hp.n_head_kv);
  // Qwen3 declares its head size (it is not n_embd / n_head there); the others may.
  if (!f.get_uint(r.key("attention.key_length")) && hp.n_embd % hp.n_head != 0)
    fail(errc::format, "embedding length {} is not divisible by {} heads", hp.n_embd, hp.n_head);
  hp.head_dim = r.count("attention.key_length", hp.n_embd / hp.n_head);
  if (hp.arch == "deepseek2") {
    read_deepseek2(r, hp);
  } else {
    if (const uint32_t vd = r.count("attention.value_length", hp.head_dim); vd != hp.head_dim)
      fail(errc::unsupported, "value head size {} differs from key head size {}", vd, hp.head_dim);
    hp.rope_dim = r.count("rope.dimension_count", hp.head_dim);
  }
  if (hp.rope_dim > hp.head_dim || hp.rope_dim % 2)
    fail(errc::format, "rope dimension {} does not fit head size {}", hp.rope_dim, hp.head_dim);
  hp.rope_base = r.real("rope.freq_base", 10000.0);
  hp.rms_eps = r.real("attention.layer_norm_rms_epsilon", 1e-5);
  if (!(hp.rope_base > 0)) fail(errc::format, "metadata '{}' must be positive", r.key("rope.freq_base"));
  if (!(hp.rms_eps > 0)) fail(errc::format, "metadata '{}' must be positive", r.key("attention.layer_norm_rms_epsilon"));
  // llama.cpp's converter permutes llama's q/k rows for adjacent-pair rotation; qwen keeps HF's halves;
  // deepseek2 rotates adjacent pairs as its checkpoints do (llama.cpp's LLAMA_ROPE_TYPE_NORM for it).
  hp.rope = hp.arch == "llama" || hp.arch == "deepseek2" ? rope_kind::norm : rope_kind::neox;

  // Rope scaling. Llama-3's frequency factors travel as a rope_freqs.weight tensor, not as metadata;
  // the architecture reads it.
  auto type = f.get_string(r.key("rope.scaling.type"));
  const double legacy_linear = f.get_float(r.key("rope.scale_linear")).value_or(1.0);
  if (type && *type != "none") {
    if (*type == "linear") hp.scaling.kind = rope_scaling_kind::linear;
    else if (*type == "yarn") hp.scaling.kind = rope_scaling_kind::yarn;
    else fail(errc::unsupported, "rope scaling '{}' is not supported (none, linear, yarn; llama3 via rope_freqs)", *type);
    hp.scaling.factor = r.real("rope.scaling.factor", 1.0);
    hp.scaling.original_ctx = r.count0("rope.scaling.original_context_length");
    hp.scaling.yarn_beta_fast = r.real("rope.scaling.yarn_beta_fast", 32.0);
    hp.scaling.yarn_beta_slow = r.real("rope.scaling.yarn_beta_slow", 1.0);
    hp.scaling.yarn_mscale_all_dim = r.real("rope.scaling.yarn_log_multiplier", 0.0);
    if (hp.arch == "deepseek2") {
      // The converter writes 0.1 * mscale_all_dim, and llama.cpp assumes mscale == mscale_all_dim (a
      // rotation of magnitude 1): DeepSeek-V3's values.
      hp.scaling.yarn_mscale_all_dim /= 0.1f;
      hp.scaling.yarn_mscale = hp.scaling.yarn_mscale_all_dim;
    }
  } else if (legacy_linear != 1.0) {
    hp.scaling.kind = rope_scaling_kind::linear;
    hp.scaling.factor = static_cast<float>(legacy_linear);
  }
  if (hp.scaling.kind != rope_scaling_kind::none && !(hp.scaling.factor > 0))
    fail(errc::format, "rope scaling factor {} must be positive", hp.scaling.factor);
  return hp;
}

}  // namespace dianoia::detail
