// The weights of a dense pre-norm decoder (llama, qwen2, qwen3), found by their canonical GGUF names in
// a tensor_source and shape-checked once at load time, so that forward() only multiplies.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "kernels/matmul.hpp"
#include "model/model.hpp"

namespace dianoia::detail {

// What distinguishes the families that share the dense decoder. The RoPE pair layout is not among
// them: it belongs to the weights' row order (hparams::rope), which for llama is adjacent pairs in GGUF
// (llama.cpp's converter permutes q/k) but halves in Hugging Face safetensors.
struct decoder_family {
  const char* arch;
  bool qkv_bias;  // qwen2: q/k/v projections carry biases (required)
  bool qk_norm;   // qwen3: per-head RMSNorm of q and k before RoPE (required)
};

struct decoder_layer {
  std::vector<float> attn_norm;      // [n_embd]
  weight_view wq, wk, wv;            // [n_head*hd, n_embd], [n_kv*hd, n_embd] x2
  std::vector<float> bq, bk, bv;     // [n_head*hd], [n_kv*hd] x2; empty without biases
  std::vector<float> q_norm, k_norm;  // [hd]; empty without q/k norm
  weight_view wo;                    // [n_embd, n_head*hd]
  std::vector<float> ffn_norm;       // [n_embd]
  weight_view gate, up;              // [n_ff, n_embd]
  weight_view down;                  // [n_embd, n_ff]
};

struct decoder_weights {
  const tensor_view* tok_embd = nullptr;  // [n_vocab, n_embd], any dequantizable type
  std::vector<decoder_layer> layers;
  std::vector<float> output_norm;         // [n_embd]
  weight_view output{};                   // tied to tok_embd when the source has no output.weight
  std::vector<float> rope_freqs;          // Llama-3 per-pair divisors; empty when absent
};

// Fills `hp` (n_vocab, tied_output, n_params, llama3 scaling when rope_freqs is present) and returns the
// weights. error(format) names a missing or misshapen tensor; error(unsupported) a storage type that
// matmul_engine cannot multiply.
decoder_weights load_decoder_weights(hparams& hp, const tensor_source& src, const decoder_family& fam);

}  // namespace dianoia::detail
