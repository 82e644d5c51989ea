// The model abstraction the runtime drives: hyper-parameters, per-session forward state (KV cache,
// scratch, threads) and one forward() that appends tokens to the cache and yields logits.
// Architectures implement it in lib/model/<arch>.cpp; tests implement it with scripted logits.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace dianoia::detail {

struct hparams {
  std::string arch;
  uint32_t n_vocab = 0;
  uint32_t n_ctx_train = 0;
  uint32_t n_embd = 0;
  uint32_t n_layer = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;
  uint32_t n_ff = 0;
  uint32_t rope_dim = 0;  // leading dims of each head that RoPE rotates
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  uint64_t n_params = 0;
};

// Per-session mutable state of a model: KV cache for up to n_ctx positions, activations, threads.
class forward_state {
 public:
  virtual ~forward_state() = default;
  virtual uint32_t n_ctx() const = 0;
  virtual int n_threads() const = 0;
};

class model {
 public:
  virtual ~model() = default;
  virtual const hparams& hp() const = 0;

  // f32_kv: keep the KV cache in f32 (exact); otherwise f16, as llama.cpp does by default (half the
  // memory, and the numerics its greedy outputs were made with).
  virtual std::unique_ptr<forward_state> new_state(uint32_t n_ctx, int n_threads, bool f32_kv) const = 0;

  // Evaluates `tokens` at positions [pos, pos + tokens.size()), where the state's cache already holds
  // positions [0, pos). Writes n_vocab logits for the last token to `logits`, or for every token
  // (token-major) when all_logits. Throws error(context_full) if the positions exceed n_ctx and
  // error(invalid_argument) for a token id outside the vocabulary.
  virtual void forward(forward_state& st, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                       bool all_logits) const = 0;
};

}  // namespace dianoia::detail
