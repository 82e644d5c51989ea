// A conversation with a model: its KV cache and scratch, and the decode loop that turns logits into a
// stream of reasoning and answer text under token budgets.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.hpp"
#include "runtime/reasoning_parser.hpp"
#include "sampling/sampler.hpp"
#include "tokenizer/tokenizer.hpp"

namespace dianoia::detail {

enum class reasoning_mode { automatic, on, off };

enum class stop_reason { none = 0, eos = 1, max_tokens = 2, context_full = 3, cancelled = 4, callback = 5 };

struct generate_options {
  int32_t max_tokens = 512;  // <= 0: until the context is full
  sampler_params sampling;
  reasoning_mode reasoning = reasoning_mode::automatic;
  int32_t max_reasoning_tokens = -1;  // < 0: unlimited
  std::string open_tag = "<think>";
  std::string close_tag = "</think>";
  // Text injected when the reasoning budget runs out (the close tag must be in it).
  std::string budget_close_text = "\n</think>\n\n";
  bool ignore_eos = false;  // mask end-of-generation tokens (benchmarks)
};

struct generation_stats {
  stop_reason stop = stop_reason::none;
  uint32_t prompt_tokens = 0;
  uint32_t reasoning_tokens = 0;
  uint32_t content_tokens = 0;
  double prompt_seconds = 0;
  double generate_seconds = 0;
};

// Receives text in order; return false to stop the generation.
using text_sink = std::function<bool(channel, std::string_view)>;

class session {
 public:
  // `net` and `tok` must outlive the session.
  session(const model& net, const tokenizer& tok, uint32_t n_ctx, int n_threads, bool f32_kv = false);

  // Thread-safe; the running (or next) generate() stops before sampling another token.
  void cancel() { cancel_.store(true, std::memory_order_relaxed); }

  // Evaluates `prompt` from an empty cache and generates. In automatic mode the output starts inside
  // a thought when the prompt ends with the open tag (DeepSeek-R1's template), and a thought opened by
  // the model is split out too; `allow_auto_reasoning=false` makes automatic behave as off (plain
  // completion). Throws error(context_full) when the prompt does not fit, error(invalid_argument) for
  // an empty prompt or an id outside the vocabulary.
  generation_stats generate(std::span<const int32_t> prompt, const generate_options& opt, const text_sink& sink,
                            bool allow_auto_reasoning = true);

  // Evaluates tokens from an empty cache; returns the logits of the last n_logits positions.
  std::vector<float> eval_logits(std::span<const int32_t> tokens, size_t n_logits);

  uint32_t n_ctx() const { return state_->n_ctx(); }

  // Prompt + generated (and injected) tokens of the last generate(), in context order.
  const std::vector<int32_t>& tokens() const { return history_; }

 private:
  bool prompt_opens_thought(std::span<const int32_t> prompt, const std::string& open_tag) const;

  const model& net_;
  const tokenizer& tok_;
  std::unique_ptr<forward_state> state_;
  std::vector<float> logits_;
  std::vector<int32_t> eog_ids_;
  std::vector<int32_t> history_;
  std::atomic<bool> cancel_{false};
};

}  // namespace dianoia::detail
