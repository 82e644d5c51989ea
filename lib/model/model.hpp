// The model abstraction the runtime drives: hyper-parameters, per-session forward state (KV cache,
// scratch, threads) and one forward() that appends tokens to the cache and yields logits.
// Architectures implement it in lib/model/<arch>.cpp; tests implement it with scripted logits.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/cpu_features.hpp"

namespace dianoia::detail {

enum class rope_kind : uint8_t {
  norm,  // rotate adjacent pairs (2i, 2i+1): GGUF llama layout (convert_hf_to_gguf permutes q/k for it)
  neox,  // rotate (i, i + rope_dim/2): Hugging Face layout, GGUF qwen2/qwen3/deepseek2
};

enum class rope_scaling_kind : uint8_t { none, linear, llama3, yarn };

struct rope_scaling {
  rope_scaling_kind kind = rope_scaling_kind::none;
  float factor = 1.0f;                  // linear, llama3, yarn
  uint32_t original_ctx = 0;            // llama3 / yarn: the pre-extension training context
  float low_freq_factor = 1.0f;         // llama3
  float high_freq_factor = 4.0f;        // llama3
  float yarn_beta_fast = 32.0f;         // yarn
  float yarn_beta_slow = 1.0f;          // yarn
  float yarn_mscale = 1.0f;             // yarn (DeepSeek: mscale)
  float yarn_mscale_all_dim = 0.0f;     // yarn (DeepSeek: mscale_all_dim)
};

// Group-limited routing (DeepSeek MoE): how a group of experts scores when only the best n_group_used
// groups may supply experts. V3 (topk_method noaux_tc) sums each group's two best bias-corrected
// scores; V2's group_limited_greedy takes its best; greedy routing ignores groups.
enum class expert_group_scoring : uint8_t { none, best, top2_sum };

// Mixture-of-experts and multi-head latent attention fields (deepseek2/3); zero when unused.
struct moe_params {
  uint32_t n_expert = 0;
  uint32_t n_expert_used = 0;
  uint32_t n_expert_shared = 0;
  uint32_t n_ff_expert = 0;
  uint32_t n_layer_dense_lead = 0;      // first_k_dense_replace
  uint32_t n_expert_groups = 0;         // n_group
  uint32_t n_group_used = 0;            // topk_group
  float routed_scaling = 1.0f;
  bool norm_topk_prob = false;
  bool sigmoid_gating = false;          // deepseek3: sigmoid scores with e_score_correction_bias
  expert_group_scoring group_scoring = expert_group_scoring::none;
  // V3 scales the (normalised) weights by routed_scaling; V2 either normalises or scales.
  bool scale_normalized = true;
};

struct mla_params {
  uint32_t q_lora_rank = 0;             // 0: q is a plain projection (DeepSeek-V2-Lite)
  uint32_t kv_lora_rank = 0;
  uint32_t qk_nope_head_dim = 0;
  uint32_t qk_rope_head_dim = 0;
  uint32_t v_head_dim = 0;
};

// Where a model's hyper-parameters were read (error messages name the field as that source spells it).
enum class hparams_origin : uint8_t { gguf, config_json };

struct hparams {
  std::string arch;                     // "llama", "qwen2", "qwen3", "deepseek2" (GGUF names)
  hparams_origin origin = hparams_origin::gguf;
  uint32_t n_vocab = 0;
  uint32_t n_ctx_train = 0;
  uint32_t n_embd = 0;
  uint32_t n_layer = 0;
  uint32_t n_layer_nextn = 0;           // deepseek3: multi-token-prediction blocks stored after n_layer (unused)
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;
  uint32_t n_ff = 0;
  uint32_t rope_dim = 0;  // leading dims of each head that RoPE rotates
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  rope_kind rope = rope_kind::norm;
  rope_scaling scaling;
  bool tied_output = false;             // no separate output matrix: the embedding is reused
  moe_params moe;
  mla_params mla;
  uint64_t n_params = 0;
};

// How a session computes, beyond the model: chosen by the host (session parameters), not by the file.
struct numerics_options {
  // The highest instruction-set level the session's kernels may use (for measuring or testing a lower
  // path on a better CPU).
  isa isa_ceiling = default_isa_ceiling();
  // llama.cpp's AVX2 arithmetic everywhere: prompt batches as q8-activation dots row by row with its
  // flash-attention order instead of the int8 GEMM, and decode through its 8-lane gemv order instead of
  // the faster kernels/gemv: slower, for bit-for-bit comparisons with llama.cpp's logits.
  bool llamacpp_batches = false;
};

// Per-session mutable state of a model: KV cache for up to n_ctx positions, activations, threads.
class forward_state {
 public:
  virtual ~forward_state() = default;
  // Default: ignored (test doubles, models with a single arithmetic).
  virtual void set_numerics(const numerics_options&) {}
  virtual uint32_t n_ctx() const = 0;
  virtual int n_threads() const = 0;

  // The KV cache of positions [0, n) as bytes, for session files. The layout is the model's own; the
  // file records the model's identity, so bytes are only ever read back into the same kind of state.
  // Defaults: error(unsupported) (test doubles, models without a cache).
  virtual size_t kv_bytes(uint32_t n) const;
  virtual void kv_save(uint32_t n, uint8_t* out) const;
  virtual void kv_load(uint32_t n, const uint8_t* in);
};

// One token of a step over several sequences (model::forward_batch).
struct seq_token {
  int32_t id;
  uint32_t seq;  // which sequence, < the n_seq of begin_sequences
  uint32_t pos;  // its position in that sequence: RoPE, and it attends to positions [0, pos] of it
  bool logits;   // write its logits
};

// What every begin_sequences() checks: at least one sequence, room in the context past the n_shared
// prompt positions, and rows (n_seq times that room) that one KV cache addresses. Returns the rows.
uint32_t seq_cache_rows(uint32_t n_shared, uint32_t n_seq, uint32_t n_ctx);

// What every forward_batch() checks before it writes anything: ids within the vocabulary, sequences
// that exist, positions inside the context that continue (or rewrite) what their sequence holds past the
// n_shared prompt positions, and a logits buffer when a token asks for logits. Returns each sequence's
// filled length after the step; error(context_full) or error(invalid_argument) otherwise.
std::vector<uint32_t> check_seq_step(std::span<const seq_token> tokens, std::vector<uint32_t> filled, uint32_t n_shared,
                                     uint32_t n_ctx, uint32_t n_vocab, const float* logits);

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

  // Several sequences that continue one prompt (self-consistency samples): positions [0, n_shared) of
  // the state's cache, filled by forward(), belong to every sequence, and each of n_seq sequences keeps
  // its own positions [n_shared, n_ctx) apart from the others' (reserved, not committed, until written).
  // The shared positions must stay as they are until end_sequences. Defaults: error(unsupported) (test
  // doubles; the runtime then decodes samples one after another); error(out_of_memory) when the address
  // space cannot be reserved.
  virtual void begin_sequences(forward_state& st, uint32_t n_shared, uint32_t n_seq) const;
  // Evaluates every token at its position of its sequence, in one pass over the weights for all of
  // them. Sequence s must hold its positions [n_shared, pos) already (from earlier calls, or from entries
  // before this one). Writes n_vocab logits for each entry that asks for them, in entry order. Throws
  // error(context_full) past n_ctx, error(invalid_argument) for a bad id, sequence or position.
  virtual void forward_batch(forward_state& st, std::span<const seq_token> tokens, float* logits) const;
  // Ends the sequences. keep < n_seq: that sequence's first n_keep own positions are copied to positions
  // [n_shared, n_shared + n_keep) of the shared cache, so that forward() can continue it. Never throws.
  virtual void end_sequences(forward_state& st, uint32_t keep, uint32_t n_keep) const noexcept;
};

}  // namespace dianoia::detail
