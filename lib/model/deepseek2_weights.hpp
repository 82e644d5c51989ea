// The weights of a DeepSeek-V2/V3 network (multi-head latent attention, DeepSeek MoE), found by their
// canonical GGUF names in a tensor_source and shape-checked once at load time.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.hpp"
#include "kernels/matmul.hpp"
#include "model/model.hpp"

namespace dianoia::detail {

struct mla_layer {
  std::vector<float> attn_norm;   // [d]
  // q: one projection (q_lora_rank 0, V2-Lite) or a low-rank pair with an RMSNorm between.
  weight_view wq{};               // [n_head * (nope + rope), d]
  weight_view wq_a{};             // [q_lora, d]
  std::vector<float> q_a_norm;    // [q_lora]
  weight_view wq_b{};             // [n_head * (nope + rope), q_lora]
  weight_view wkv_a{};            // [kv_lora + rope, d]: the latent, then the shared RoPE key
  std::vector<float> kv_a_norm;   // [kv_lora]
  // kv_b as f32 [n_head][nope + v][kv_lora] (head h's key rows, then its value rows): the per-head
  // products of the absorbed form read it both ways. Points into the mapping for F32 files, else at
  // kv_b_own (dequantized from a fused attn_kv_b or llama.cpp's split attn_k_b / attn_v_b).
  const float* kv_b = nullptr;
  std::vector<float> kv_b_own;
  // Split files only: per head the stored attn_k_b [kv_lora, nope] and attn_v_b [v, kv_lora], in the
  // file's type. Decode multiplies these (as llama.cpp does) rather than kv_b: a quantized head reads a
  // quarter or less of the bytes of its f32 rows.
  std::vector<weight_view> k_b, v_b;
  weight_view wo{};               // [d, n_head * v]
  std::vector<float> ffn_norm;    // [d]
  // Dense feed-forward (the first n_layer_dense_lead layers).
  weight_view gate{}, up{}, down{};  // [ff, d], [ff, d], [d, ff]
  // Mixture of experts (the others).
  weight_view router{};             // [n_expert, d]
  std::vector<float> router_bias;   // [n_expert]: V3's e_score_correction_bias; empty for V2
  std::vector<weight_view> gate_exps, up_exps, down_exps;  // per expert [ff_e, d], [ff_e, d], [d, ff_e]
  weight_view gate_sh{}, up_sh{}, down_sh{};  // shared experts, one MLP of n_shared * ff_e; rows 0 if none
  bool moe() const { return !gate_exps.empty(); }
};

struct deepseek2_weights {
  const tensor_view* tok_embd = nullptr;  // [n_vocab, d]
  std::vector<mla_layer> layers;
  std::vector<float> output_norm;         // [d]
  weight_view output{};                   // [n_vocab, d]
};

// Fills hp.n_vocab, hp.tied_output and hp.n_params and returns the weights. error(format) names a
// missing or misshapen tensor or inconsistent hyper-parameters; error(unsupported) a storage type.
deepseek2_weights load_deepseek2_weights(hparams& hp, const tensor_source& src);

}  // namespace dianoia::detail
