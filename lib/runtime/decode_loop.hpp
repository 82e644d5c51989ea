// The decode loop of one generation as a stepper, so that its driver owns the forward passes: step()
// takes the logits of the last position evaluated and returns the tokens the model must evaluate next
// (the sampled token, or text the runtime injects), or nothing once the generation is over. Sampling,
// stop strings, the reasoning parser, budgets and counters all live here, once: session::generate
// drives one loop, session::generate_samples drives several in lockstep (one forward pass per step for
// all of them).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/reasoning_budget.hpp"
#include "runtime/reasoning_parser.hpp"
#include "runtime/session.hpp"
#include "runtime/stop_strings.hpp"

namespace dianoia::detail {

// What the session lends a loop; must outlive it.
struct decode_env {
  const tokenizer& tok;
  std::span<const int32_t> eog_ids;
  uint32_t n_ctx;
  const std::atomic<bool>& cancel;  // checked before each sampled token
};

// The generation a loop runs.
struct decode_setup {
  std::span<const int32_t> prompt;  // already evaluated; its last position's logits go to the first step
  bool split = false;               // reasoning and answer as separate channels
  bool in_thought = false;          // the output starts inside a thought
  const grammar_matcher* grammar = nullptr;  // constrains the answer; the loop follows a copy of it
};

// The budget part of a generation's options.
reasoning_budget_options budget_options_of(const generate_options& opt);

class decode_loop {
 public:
  // `smp` must outlive the loop. Tokens that enter the context (sampled, or injected once evaluated)
  // are appended to `context`, which must outlive the loop too.
  decode_loop(const decode_env& env, const decode_setup& setup, const generate_options& opt, sampler& smp,
              text_sink sink, token_sink tokens, std::vector<int32_t>& context, tool_sink tools = {});

  // `logits`: n_vocab values for the last position evaluated (the prompt's at first; then the last of
  // the tokens the previous step returned, which the driver evaluated at positions [n_past(), ...)).
  // May be modified (masked). Returns the tokens to evaluate next, valid until the next call; empty
  // when the generation has ended (then stats() is final).
  std::span<const int32_t> step(std::span<float> logits);

  // Positions in the cache, not counting the tokens the last step returned (they go right after).
  uint32_t n_past() const { return n_past_; }
  bool done() const { return done_; }
  // Ends the generation now, with `why`, delivering nothing more. Between steps: what the last step
  // returned counts as evaluated.
  void stop(stop_reason why);
  const generation_stats& stats() const { return st_; }

 private:
  void absorb_pending();
  stop_reason inject(const std::string& text, bool show);
  std::optional<std::span<const int32_t>> after_inject(stop_reason r);
  std::optional<std::span<const int32_t>> close_thought();
  std::span<const int32_t> sample(std::span<float> logits, bool thinking);
  bool constrain(std::span<float> logits, bool thinking);
  std::span<const int32_t> finish(stop_reason why);
  void emit();
  void emit_tools();
  void tell(int32_t id, channel ch, bool is_tag, bool injected, std::string_view piece, double lp);

  const decode_env& env_;
  const generate_options& opt_;
  sampler& smp_;
  text_sink sink_;
  token_sink tokens_;
  std::vector<int32_t>& context_;
  const bool split_;
  reasoning_parser parser_;
  reasoning_budget budget_;
  tool_sink tool_sink_;
  std::optional<tool_call_parser> tools_;  // with a tool sink and a syntax
  std::vector<int32_t> marker_ids_;        // the syntax's marker tokens (rendered even if special)
  std::vector<tool_piece> pieces_;
  std::optional<grammar_matcher> grammar_;  // the answer's position in the grammar
  std::optional<int32_t> open_id_;           // the open tag as one token: a model may still open a thought
  std::vector<float> raw_;                   // the logits before the mask, for logprobs and confidences
  bool may_open_ = false;                    // this token may be the open tag, outside the grammar
  std::optional<confidence_tracker> conf_;  // with confidence.top_k > 0
  std::vector<token_logprob> conf_buf_;
  stop_matcher stops_;
  std::vector<text_event> events_;
  std::vector<token_logprob> top_buf_;
  std::span<const token_logprob> top_;
  std::string released_;
  bool strip_space_;
  bool sink_ok_ = true;
  generation_stats st_;
  const std::chrono::steady_clock::time_point t0_;
  uint32_t n_gen_ = 0;
  uint32_t n_past_;
  std::vector<int32_t> pending_;     // returned by the last step; evaluated before the next one
  bool pending_injected_ = false;    // they are injected text (enter the context once evaluated)
  stop_reason after_pending_ = stop_reason::none;  // end once they are evaluated
  bool done_ = false;
};

}  // namespace dianoia::detail
