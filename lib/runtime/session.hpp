// A conversation with a model: its KV cache and scratch, and the decode loop that turns logits into a
// stream of reasoning and answer text under token budgets.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar.hpp"
#include "model/model.hpp"
#include "runtime/confidence.hpp"
#include "runtime/reasoning_parser.hpp"
#include "runtime/tool_calls.hpp"
#include "sampling/logprobs.hpp"
#include "sampling/sampler.hpp"
#include "tokenizer/tokenizer.hpp"

namespace dianoia::detail {

enum class reasoning_mode { automatic, on, off };

enum class stop_reason {
  none = 0, eos = 1, max_tokens = 2, context_full = 3, cancelled = 4, callback = 5, stop_string = 6,
  low_confidence = 7  // DeepConf online: a window's confidence fell below the threshold
};

struct generate_options {
  int32_t max_tokens = 512;  // <= 0: until the context is full
  sampler_params sampling;
  reasoning_mode reasoning = reasoning_mode::automatic;
  int32_t max_reasoning_tokens = -1;  // < 0: unlimited
  // Budget forcing (s1): while fewer reasoning tokens than this have been generated, an attempt to end
  // the thought (the close tag, or an end-of-generation token) is replaced by `continue_text`, which the
  // model then reads as its own thinking. Also guards against R1's empty "<think>\n\n</think>".
  int32_t min_reasoning_tokens = 0;
  std::string continue_text = "\nWait";
  std::string open_tag = "<think>";
  std::string close_tag = "</think>";
  // Injected (shown as reasoning) when max_reasoning_tokens runs out, before the close tag; e.g.
  // "\n\nConsidering the limited time, I have to answer now.\n".
  std::string wrap_up_text;
  // Text that closes the thought at the budget; "" = "\n" + close_tag + "\n\n".
  std::string budget_close_text;
  std::vector<std::string> stop;  // stop strings, matched across token boundaries on the raw output
  int32_t logprobs = -1;          // >= 0: token events carry the chosen logprob and this many alternatives
  bool ignore_eos = false;        // mask end-of-generation tokens (benchmarks)
  // Chat prompts only (runtime/chat_prompt.hpp): template variables as one JSON object ("" = none).
  std::string chat_template_kwargs;
  // Tool calls in the answer, in this syntax, are cut out of the content and given to the tool sink
  // (generate() without a tool sink leaves them in the content). Ids count from first_tool_call.
  tool_syntax tool_calls = tool_syntax::none;
  uint32_t first_tool_call = 0;
  confidence_options confidence;  // DeepConf token confidences (and the online stop)
  // Constrains the answer channel only: the thought is free. With reasoning, the grammar starts at the
  // first token after the thought closes (also when the budget closes it); without, at the first token.
  grammar_spec grammar;
};

struct generation_stats {
  stop_reason stop = stop_reason::none;
  uint32_t prompt_tokens = 0;
  uint32_t prompt_reused = 0;     // prompt tokens whose KV came from the cache (prefix reuse)
  uint32_t reasoning_tokens = 0;  // sampled tokens inside the thought
  uint32_t content_tokens = 0;    // sampled tokens of the answer
  uint32_t injected_tokens = 0;   // tokens the runtime fed (budget close, wrap-up, continuation)
  uint32_t tool_calls = 0;        // calls given to the tool sink
  // With confidence.top_k > 0: the trace's scores (NaN before the first sampled token).
  double confidence_lowest = std::numeric_limits<double>::quiet_NaN();
  double confidence_bottom10 = std::numeric_limits<double>::quiet_NaN();
  std::string stop_string;        // the stop string that ended it (stop == stop_string)
  double prompt_seconds = 0;
  double generate_seconds = 0;
};

// One token that entered the context during generation.
struct token_event {
  int32_t id;
  channel ch;            // the channel it was generated in (before the parser saw it)
  bool is_tag;           // it is exactly the open or close tag: shown in neither channel
  bool injected;         // fed by the runtime, not sampled (no logprobs then)
  std::string_view piece;  // its bytes (may be part of a UTF-8 character)
  double logprob;        // of the sampled token under the model's distribution (raw logits); 0 if injected
  std::span<const token_logprob> top;  // the most likely alternatives, best first
};

// Receives text in order; return false to stop the generation.
using text_sink = std::function<bool(channel, std::string_view)>;
using token_sink = std::function<bool(const token_event&)>;
// Receives each tool call the answer makes, in order with the text; return false to stop the generation.
using tool_sink = std::function<bool(const tool_call&)>;

class session {
 public:
  // `net` and `tok` must outlive the session.
  session(const model& net, const tokenizer& tok, uint32_t n_ctx, int n_threads, bool f32_kv = false);

  // Instruction-set ceiling and batch arithmetic for the forward passes from now on.
  void set_numerics(const numerics_options& o) { state_->set_numerics(o); }

  // Thread-safe; the running generate() stops before sampling another token, or between chunks of 512
  // prompt tokens while it evaluates the prompt (its stats then say cancelled with no tokens generated).
  void cancel() { cancel_.store(true, std::memory_order_relaxed); }

  // Evaluates `prompt` and generates. The KV cache of the previous call is reused up to the first token
  // where the new prompt differs (a chat that grows turn by turn re-evaluates only the new turn).
  // In automatic mode the output starts inside a thought when the prompt ends with the open tag
  // (DeepSeek-R1's template), and a thought opened by the model is split out too;
  // `allow_auto_reasoning=false` makes automatic behave as off (plain completion). Throws
  // error(context_full) when the prompt does not fit, error(invalid_argument) for an empty prompt, an id
  // outside the vocabulary or invalid options.
  generation_stats generate(std::span<const int32_t> prompt, const generate_options& opt, const text_sink& sink,
                            bool allow_auto_reasoning = true, const token_sink& tokens = {},
                            const tool_sink& tools = {});

  // n samples of one prompt. The prompt is evaluated once and only one copy of its KV cache ever exists.
  // Sample i draws with seed opt.sampling.seed + i. When the model can (model::begin_sequences), samples
  // decode in groups, one forward pass per step for the whole group, each sample's own positions kept
  // apart after the shared prompt (a group is as many samples as the context holds at max_tokens each,
  // at most 32); otherwise one after another, each overwriting the positions after the prompt.
  // Either way sink(i, ...) receives the samples' text as if they ran one after another, in order: the
  // first unfinished sample streams, later ones are held until it is done. A sink that returns false
  // stops every sample: that one ends with the counts as of that text (stop = callback) and is the last
  // returned; later samples are not run, or, if they were decoding alongside, dropped unseen. cancel()
  // ends every started sample (all returned, stop = cancelled). After the call the cache holds the
  // prompt and the last sample returned.
  using sample_sink = std::function<bool(uint32_t, channel, std::string_view)>;

  // Adaptive sampling (DeepConf online): told of each sample as it ends, in sample order, it may set the
  // options of samples not yet started and stop sampling.
  struct sample_control {
    // Samples [0, warmup) decode in groups of their own, so that what prepare() decides from them holds
    // for every later sample, in lockstep as one after another.
    uint32_t warmup = 0;
    // Sample i has ended with `st` (not told of a sample the host refused): false starts no more samples
    // (samples decoding alongside are dropped unreported, as if never started).
    std::function<bool(uint32_t i, const generation_stats& st)> finished;
    // The options sample i starts with (its seed already set).
    std::function<void(uint32_t i, generate_options& o)> prepare;
  };

  std::vector<generation_stats> generate_samples(std::span<const int32_t> prompt, uint32_t n,
                                                 const generate_options& opt, const sample_sink& sink,
                                                 bool allow_auto_reasoning = true, const sample_control* ctl = nullptr);

  // Evaluates tokens from an empty cache; returns the logits of the last n_logits positions.
  std::vector<float> eval_logits(std::span<const int32_t> tokens, size_t n_logits);

  // Forgets the cached context (the next generate evaluates its whole prompt).
  void reset() { n_past_ = 0; history_.clear(); }

  uint32_t n_ctx() const { return state_->n_ctx(); }

  // Prompt + generated (and injected) tokens of the last generate(), in context order.
  const std::vector<int32_t>& tokens() const { return history_; }
  // How many of tokens() are in the KV cache (the last sampled token may not be).
  uint32_t n_cached() const { return n_past_; }

  // KV state, for session files: the cache of the first n_cached() tokens.
  const model& net() const { return net_; }
  forward_state& state() { return *state_; }
  // Replaces the cached context (after the KV bytes were restored into state()).
  void set_cached(std::vector<int32_t> tokens, uint32_t n_cached);

 private:
  struct prepared {
    std::vector<int32_t> prompt;
    bool split = false;
    bool in_thought = false;
    std::shared_ptr<const grammar_matcher> grammar;  // compiled opt.grammar, at its start; each loop copies it
  };
  prepared prepare(std::span<const int32_t> prompt, const generate_options& opt, bool allow_auto) const;
  // Evaluates prompt, reusing the cached prefix; leaves the last position's logits in logits_. Returns
  // the reused count, and whether cancel() stopped it between chunks (the logits are then stale).
  struct prefill_result {
    uint32_t reused;
    bool cancelled;
  };
  prefill_result prefill(const std::vector<int32_t>& prompt);
  generation_stats decode(const prepared& p, const generate_options& opt, sampler& smp, const text_sink& sink,
                          const token_sink& tokens, const tool_sink& tools = {});
  // generate_samples after the prompt: how many samples may share a step (1: one after another), then
  // the two ways of decoding them (lib/runtime/samples.cpp).
  uint32_t lockstep_group(uint32_t n, const generate_options& opt) const;
  std::vector<generation_stats> samples_one_by_one(const prepared& p, uint32_t n, const generate_options& opt,
                                                   const sample_sink& sink, const sample_control* ctl);
  std::vector<generation_stats> samples_in_lockstep(const prepared& p, uint32_t n, uint32_t group,
                                                    const generate_options& opt, const sample_sink& sink,
                                                    const sample_control* ctl);
  bool prompt_opens_thought(std::span<const int32_t> prompt, const std::string& open_tag) const;
  // The sampler for one generation: the context window for penalties, token texts for DRY, and the
  // prompt in the penalty history when asked.
  sampler make_sampler(sampler_params p, std::span<const int32_t> prompt);

  const model& net_;
  const tokenizer& tok_;
  std::unique_ptr<forward_state> state_;
  std::vector<float> logits_;
  std::vector<int32_t> eog_ids_;
  std::vector<std::string> pieces_;  // token texts, built on first use by DRY
  token_texts texts_;
  std::vector<int32_t> history_;
  uint32_t n_past_ = 0;
  mutable std::shared_ptr<const grammar_vocab> grammar_vocab_;  // built on the first grammar
  std::atomic<bool> cancel_{false};
};

}  // namespace dianoia::detail
