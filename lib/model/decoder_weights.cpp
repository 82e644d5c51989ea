#include "model/decoder_weights.hpp"

#include <cmath>

#include "core/error.hpp"
#include "kernels/quant/quant.hpp"
#include "model/weight_lookup.hpp"

namespace dianoia::detail {
namespace {

// Shorter names for the shared lookups (model/weight_lookup.hpp).
std::vector<float> vec(const tensor_source& src, const std::string& name, uint64_t n) { return load_vec(src, name, n); }
std::vector<float> optional_vec(const tensor_source& src, const std::string& name, uint64_t n) {
  return load_optional_vec(src, name, n);
}
weight_view matrix(const tensor_source& src, const std::string& name, uint64_t cols, uint64_t rows) {
  return load_matrix(src, name, cols, rows);
}

}  // namespace

decoder_weights load_decoder_weights(hparams& hp, const tensor_source& src, const decoder_family& fam) {
  if (hp.head_dim == 0 || hp.n_head == 0 || hp.n_head_kv == 0 || hp.n_head % hp.n_head_kv != 0)
    fail(errc::format, "{}: inconsistent head counts ({} heads, {} KV heads, head size {})", fam.arch, hp.n_head,
         hp.n_head_kv, hp.head_dim);
  if (hp.rope_dim == 0 || hp.rope_dim > hp.head_dim || hp.rope_dim % 2)
    fail(errc::format, "{}: rope dimension {} does not fit head size {}", fam.arch, hp.rope_dim, hp.head_dim);
  decoder_weights w;
  w.tok_embd = src.find_tensor("token_embd.weight");
  if (!w.tok_embd) fail(errc::format, "tensor 'token_embd.weight' is missing");
  if (w.tok_embd->ne[0] != hp.n_embd || w.tok_embd->ne[1] == 0 || w.tok_embd->ne[1] > (1u << 24) ||
      w.tok_embd->ne[2] != 1 || w.tok_embd->ne[3] != 1)
    fail(errc::format, "token_embd.weight has shape [{}, {}], expected [{}, n_vocab]", w.tok_embd->ne[0],
         w.tok_embd->ne[1], hp.n_embd);
  hp.n_vocab = static_cast<uint32_t>(w.tok_embd->ne[1]);
  if (!dequantize_supports(w.tok_embd->type))
    fail(errc::unsupported, "token_embd.weight has type {}, which dianoia cannot read yet", ggml_traits(w.tok_embd->type).name);

  const uint64_t d = hp.n_embd, hd = hp.head_dim, q_dim = uint64_t{hp.n_head} * hd, kv_dim = uint64_t{hp.n_head_kv} * hd;
  for (uint32_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    decoder_layer L;
    L.attn_norm = vec(src, p + "attn_norm.weight", d);
    L.wq = matrix(src, p + "attn_q.weight", d, q_dim);
    L.wk = matrix(src, p + "attn_k.weight", d, kv_dim);
    L.wv = matrix(src, p + "attn_v.weight", d, kv_dim);
    // Biases are required for qwen2 and honoured wherever present (llama with attention_bias).
    if (fam.qkv_bias) {
      L.bq = vec(src, p + "attn_q.bias", q_dim);
      L.bk = vec(src, p + "attn_k.bias", kv_dim);
      L.bv = vec(src, p + "attn_v.bias", kv_dim);
    } else {
      L.bq = optional_vec(src, p + "attn_q.bias", q_dim);
      L.bk = optional_vec(src, p + "attn_k.bias", kv_dim);
      L.bv = optional_vec(src, p + "attn_v.bias", kv_dim);
    }
    if (fam.qk_norm) {
      L.q_norm = vec(src, p + "attn_q_norm.weight", hd);
      L.k_norm = vec(src, p + "attn_k_norm.weight", hd);
    }
    L.wo = matrix(src, p + "attn_output.weight", q_dim, d);
    L.ffn_norm = vec(src, p + "ffn_norm.weight", d);
    L.gate = matrix(src, p + "ffn_gate.weight", d, hp.n_ff);
    L.up = matrix(src, p + "ffn_up.weight", d, hp.n_ff);
    L.down = matrix(src, p + "ffn_down.weight", hp.n_ff, d);
    w.layers.push_back(std::move(L));
  }
  w.output_norm = vec(src, "output_norm.weight", d);
  hp.tied_output = src.find_tensor("output.weight") == nullptr;
  w.output = matrix(src, hp.tied_output ? "token_embd.weight" : "output.weight", d, hp.n_vocab);

  // Llama-3 scaling travels as per-pair frequency divisors (llama.cpp's converter computes them from
  // rope_scaling); their presence is what marks such a file.
  if (src.find_tensor("rope_freqs.weight")) {
    w.rope_freqs = vec(src, "rope_freqs.weight", hp.rope_dim / 2);
    if (hp.scaling.kind == rope_scaling_kind::none) hp.scaling.kind = rope_scaling_kind::llama3;
  }
  for (float f : w.rope_freqs)
    if (!(f > 0) || !std::isfinite(f)) fail(errc::format, "rope_freqs.weight holds a non-positive factor {}", f);

  hp.n_params = 0;
  for (const auto& t : src.all_tensors()) hp.n_params += t.n_elements();
  return w;
}

}  // namespace dianoia::detail
