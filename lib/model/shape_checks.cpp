#include "model/shape_checks.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

#include "core/error.hpp"

namespace dianoia::detail {
namespace {

// GGUF key (without the architecture prefix) -> transformers' config.json field.
struct key_name {
  std::string_view gguf, hf;
};
constexpr key_name k_keys[] = {
    {"vocab_size", "vocab_size"},
    {"embedding_length", "hidden_size"},
    {"block_count", "num_hidden_layers"},
    {"attention.head_count", "num_attention_heads"},
    {"attention.head_count_kv", "num_key_value_heads"},
    {"attention.key_length", "head_dim"},
    {"feed_forward_length", "intermediate_size"},
    {"expert_count", "n_routed_experts"},
    {"expert_shared_count", "n_shared_experts"},
    {"expert_feed_forward_length", "moe_intermediate_size"},
    {"leading_dense_block_count", "first_k_dense_replace"},
    {"attention.q_lora_rank", "q_lora_rank"},
    {"attention.kv_lora_rank", "kv_lora_rank"},
    {"attention.key_length_nope", "qk_nope_head_dim"},
    {"rope.dimension_count", "qk_rope_head_dim"},
    {"attention.value_length", "v_head_dim"},
};

// "blk.N." -> N; nullopt for tensors outside the layer blocks.
std::optional<uint32_t> block_index(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return std::nullopt;
  uint32_t n = 0;
  const char* b = name.data() + 4;
  const char* e = name.data() + name.size();
  auto [end, ec] = std::from_chars(b, e, n);
  if (ec != std::errc() || end == b || end == e || *end != '.') return std::nullopt;
  return n;
}

// One stated number: "config.json 'hidden_size' = 64", or a product of two.
struct stated {
  std::string text;
  uint64_t value;
};

struct checker {
  const hparams& hp;
  const tensor_source& src;

  stated field(std::string_view gguf_key, uint64_t v) const { return {hparam_key(hp, gguf_key) + " = " + std::to_string(v), v}; }
  stated product(std::string_view k1, uint64_t a, std::string_view k2, uint64_t b) const {
    return {hparam_key(hp, k1) + " = " + std::to_string(a) + " x " + hparam_key(hp, k2) + " = " + std::to_string(b) +
                " (" + std::to_string(a * b) + ")",
            a * b};
  }

  // Dimension d of `tensor` (ggml order: 0 = row length, 1 = rows, 2 = experts) must be s.value.
  void dim(std::string_view what, const std::string& tensor, int d, const stated& s) const {
    const tensor_view* t = src.find_tensor(tensor);
    if (!t || t->ne[d] == s.value) return;
    static constexpr const char* k_dim[] = {"columns (row length)", "rows", "experts", "slices"};
    fail(errc::format, "{}: {} but tensor '{}' (ggml shape [{}, {}, {}, {}]) has {} {}", what, s.text, tensor, t->ne[0],
         t->ne[1], t->ne[2], t->ne[3], t->ne[d], k_dim[d]);
  }
  // A matrix [cols, rows] (or [cols, rows, experts]): its n_embd side is the hidden size.
  void embd_cols(const std::string& tensor) const { dim("hidden size", tensor, 0, field("embedding_length", hp.n_embd)); }
  void embd_rows(const std::string& tensor) const { dim("hidden size", tensor, 1, field("embedding_length", hp.n_embd)); }

  void vocabulary() const;
  void layers() const;
  void attention(const std::string& p) const;
  void latent_attention(const std::string& p) const;
  void ffn(const std::string& p, uint32_t layer) const;
  void experts(const std::string& p) const;
};

void checker::vocabulary() const {
  const tensor_view* emb = src.find_tensor("token_embd.weight");
  embd_cols("token_embd.weight");
  embd_cols("output.weight");
  if (hp.n_vocab) {
    dim("vocabulary", "token_embd.weight", 1, field("vocab_size", hp.n_vocab));
    dim("vocabulary", "output.weight", 1, field("vocab_size", hp.n_vocab));
  } else if (emb) {
    dim("vocabulary", "output.weight", 1, {"token_embd.weight has " + std::to_string(emb->ne[1]) + " rows", emb->ne[1]});
  }
}

void checker::layers() const {
  std::vector<bool> present(hp.n_layer, false);
  for (const auto& t : src.all_tensors()) {
    const auto b = block_index(t.name);
    if (!b) continue;
    if (*b >= hp.n_layer)
      fail(errc::format, "layer count: {} but tensor '{}' belongs to block {}", field("block_count", hp.n_layer).text,
           t.name, *b);
    present[*b] = true;
  }
  const auto gap = std::find(present.begin(), present.end(), false);
  if (gap != present.end())
    fail(errc::format, "layer count: {} but no tensor of block {} (blk.{}.*) is present", field("block_count", hp.n_layer).text,
         gap - present.begin(), gap - present.begin());
}

void checker::attention(const std::string& p) const {
  const stated q = product("attention.head_count", hp.n_head, "attention.key_length", hp.head_dim);
  const stated kv = product("attention.head_count_kv", hp.n_head_kv, "attention.key_length", hp.head_dim);
  const stated hd = field("attention.key_length", hp.head_dim);
  for (const char* m : {"attn_q", "attn_k", "attn_v"}) embd_cols(p + m + ".weight");
  dim("heads x head size", p + "attn_q.weight", 1, q);
  dim("heads x head size", p + "attn_q.bias", 0, q);
  dim("KV heads x head size", p + "attn_k.weight", 1, kv);
  dim("KV heads x head size", p + "attn_v.weight", 1, kv);
  dim("KV heads x head size", p + "attn_k.bias", 0, kv);
  dim("KV heads x head size", p + "attn_v.bias", 0, kv);
  dim("head size", p + "attn_q_norm.weight", 0, hd);
  dim("head size", p + "attn_k_norm.weight", 0, hd);
  dim("heads x head size", p + "attn_output.weight", 0, q);
  embd_rows(p + "attn_output.weight");
}

// DeepSeek's multi-head latent attention: q through a low-rank bottleneck (or a plain projection when
// q_lora_rank is 0), k and v from one compressed latent plus a shared RoPE key.
void checker::latent_attention(const std::string& p) const {
  const auto& m = hp.mla;
  const uint64_t qk = uint64_t{m.qk_nope_head_dim} + m.qk_rope_head_dim;
  const stated q = product("attention.head_count", hp.n_head, "attention.key_length", qk);
  if (m.q_lora_rank) {
    const stated r = field("attention.q_lora_rank", m.q_lora_rank);
    embd_cols(p + "attn_q_a.weight");
    dim("q latent rank", p + "attn_q_a.weight", 1, r);
    dim("q latent rank", p + "attn_q_a_norm.weight", 0, r);
    dim("q latent rank", p + "attn_q_b.weight", 0, r);
    dim("heads x head size", p + "attn_q_b.weight", 1, q);
  } else {
    embd_cols(p + "attn_q.weight");
    dim("heads x head size", p + "attn_q.weight", 1, q);
  }
  const stated r = field("attention.kv_lora_rank", m.kv_lora_rank);
  const stated kv_a = {r.text + " + " + field("rope.dimension_count", m.qk_rope_head_dim).text + " (" +
                           std::to_string(uint64_t{m.kv_lora_rank} + m.qk_rope_head_dim) + ")",
                       uint64_t{m.kv_lora_rank} + m.qk_rope_head_dim};
  embd_cols(p + "attn_kv_a_mqa.weight");
  dim("KV latent rank + RoPE head size", p + "attn_kv_a_mqa.weight", 1, kv_a);
  dim("KV latent rank", p + "attn_kv_a_norm.weight", 0, r);
  dim("KV latent rank", p + "attn_kv_b.weight", 0, r);
  const uint64_t nope_v = uint64_t{m.qk_nope_head_dim} + m.v_head_dim;
  dim("heads x (nope + value head size)", p + "attn_kv_b.weight", 1,
      {hparam_key(hp, "attention.head_count") + " = " + std::to_string(hp.n_head) + " x (" +
           field("attention.key_length_nope", m.qk_nope_head_dim).text + " + " +
           field("attention.value_length", m.v_head_dim).text + ") (" + std::to_string(hp.n_head * nope_v) + ")",
       hp.n_head * nope_v});
  // llama.cpp's newer conversions split kv_b into per-head k_b [nope, rank, heads] and v_b [rank, v, heads].
  dim("KV latent rank", p + "attn_k_b.weight", 1, r);
  dim("KV latent rank", p + "attn_v_b.weight", 0, r);
  dim("heads", p + "attn_k_b.weight", 2, field("attention.head_count", hp.n_head));
  dim("heads", p + "attn_v_b.weight", 2, field("attention.head_count", hp.n_head));
  dim("heads x value head size", p + "attn_output.weight", 0,
      product("attention.head_count", hp.n_head, "attention.value_length", m.v_head_dim));
  embd_rows(p + "attn_output.weight");
}

void checker::ffn(const std::string& p, uint32_t layer) const {
  const bool moe = hp.moe.n_expert > 0 && layer >= hp.moe.n_layer_dense_lead;
  // Which blocks are dense is stated by the count of leading dense blocks and by the router's presence.
  if (hp.moe.n_expert > 0 && moe != (src.find_tensor(p + "ffn_gate_inp.weight") != nullptr))
    fail(errc::format, "leading dense blocks: {} but block {} {} a router (tensor '{}ffn_gate_inp.weight')",
         field("leading_dense_block_count", hp.moe.n_layer_dense_lead).text, layer, moe ? "lacks" : "has", p);
  if (moe) return experts(p);
  const stated ff = field("feed_forward_length", hp.n_ff);
  embd_cols(p + "ffn_gate.weight");
  embd_cols(p + "ffn_up.weight");
  embd_rows(p + "ffn_down.weight");
  dim("FFN size", p + "ffn_gate.weight", 1, ff);
  dim("FFN size", p + "ffn_up.weight", 1, ff);
  dim("FFN size", p + "ffn_down.weight", 0, ff);
}

void checker::experts(const std::string& p) const {
  const auto& e = hp.moe;
  const stated n = field("expert_count", e.n_expert);
  const stated ff = field("expert_feed_forward_length", e.n_ff_expert);
  embd_cols(p + "ffn_gate_inp.weight");
  dim("expert count", p + "ffn_gate_inp.weight", 1, n);
  dim("expert count", p + "exp_probs_b.bias", 0, n);
  // GGUF: the experts stacked, [n_embd, n_ff_exp, n_expert] (down: [n_ff_exp, n_embd, n_expert]).
  for (const char* k : {"ffn_gate_exps", "ffn_up_exps"}) {
    embd_cols(p + k + ".weight");
    if (e.n_ff_expert) dim("expert FFN size", p + k + ".weight", 1, ff);
    dim("expert count", p + k + ".weight", 2, n);
  }
  embd_rows(p + "ffn_down_exps.weight");
  if (e.n_ff_expert) dim("expert FFN size", p + "ffn_down_exps.weight", 0, ff);
  dim("expert count", p + "ffn_down_exps.weight", 2, n);
  // Hugging Face: one view per expert, blk.N.ffn_{gate,up,down}_exps.E.weight; expert ids past the count
  // are refused by the name mapping, so a count that is too high shows as a missing last expert.
  const std::string last = p + "ffn_up_exps." + std::to_string(e.n_expert - 1) + ".weight";
  const bool per_expert = src.find_tensor(p + "ffn_up_exps.0.weight") != nullptr;
  if (per_expert && !src.find_tensor(last))
    fail(errc::format, "expert count: {} but tensor '{}' is missing", n.text, last);
  if (per_expert && e.n_ff_expert)
    for (uint32_t x = 0; x < e.n_expert; ++x) {
      const std::string b = p + "ffn_";
      const std::string tail = "_exps." + std::to_string(x) + ".weight";
      embd_cols(b + "gate" + tail);
      embd_cols(b + "up" + tail);
      embd_rows(b + "down" + tail);
      dim("expert FFN size", b + "gate" + tail, 1, ff);
      dim("expert FFN size", b + "up" + tail, 1, ff);
      dim("expert FFN size", b + "down" + tail, 0, ff);
    }
  if (e.n_expert_shared && e.n_ff_expert) {
    const stated sh = product("expert_shared_count", e.n_expert_shared, "expert_feed_forward_length", e.n_ff_expert);
    embd_cols(p + "ffn_gate_shexp.weight");
    embd_cols(p + "ffn_up_shexp.weight");
    embd_rows(p + "ffn_down_shexp.weight");
    dim("shared experts x expert FFN size", p + "ffn_gate_shexp.weight", 1, sh);
    dim("shared experts x expert FFN size", p + "ffn_up_shexp.weight", 1, sh);
    dim("shared experts x expert FFN size", p + "ffn_down_shexp.weight", 0, sh);
  }
}

}  // namespace

std::string hparam_key(const hparams& hp, std::string_view field) {
  std::string_view name = field;
  if (hp.origin == hparams_origin::config_json) {
    for (const auto& k : k_keys)
      if (k.gguf == field) name = k.hf;
    return "config.json '" + std::string(name) + "'";
  }
  return "GGUF '" + hp.arch + "." + std::string(name) + "'";
}

void check_tensor_shapes(const hparams& hp, const tensor_source& src) {
  const checker c{hp, src};
  c.vocabulary();
  c.embd_cols("output_norm.weight");
  c.layers();
  for (uint32_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    c.embd_cols(p + "attn_norm.weight");
    c.embd_cols(p + "ffn_norm.weight");
    if (hp.mla.kv_lora_rank) c.latent_attention(p);
    else c.attention(p);
    c.ffn(p, l);
  }
}

void check_hf_layer_names(const hparams& hp, std::span<const std::string_view> hf_names) {
  constexpr std::string_view prefix = "model.layers.";
  const uint64_t allowed = uint64_t{hp.n_layer} + hp.n_layer_nextn;
  for (std::string_view n : hf_names) {
    if (n.substr(0, prefix.size()) != prefix) continue;
    uint32_t b = 0;
    const char* s = n.data() + prefix.size();
    auto [end, ec] = std::from_chars(s, n.data() + n.size(), b);
    if (ec != std::errc() || end == s) continue;  // the name mapping reports a malformed index
    if (b >= allowed)
      fail(errc::format, "layer count: {}{} but tensor '{}' belongs to layer {}", hparam_key(hp, "block_count"),
           " = " + std::to_string(hp.n_layer) +
               (hp.n_layer_nextn ? " (+ " + std::to_string(hp.n_layer_nextn) + " multi-token-prediction)" : ""),
           n, b);
  }
}

}  // namespace dianoia::detail
