// The reasoning budget of one generation: how long the model may think, at least and at most, and what
// the runtime feeds it when a limit is hit. It decides; the decode loop carries the decisions out
// (injects the texts, closes the parser). It sees the generation only through what it is told: whether
// the output is inside the thought, how many reasoning tokens were sampled, and each sampled token.
//
//  * Maximum: once max_tokens reasoning tokens were sampled, next() says wrap_up (feed wrap_up_text(),
//    shown as reasoning; possibly empty) and at the following call close (close the thought and feed
//    close_text() to the model, which then answers). This happens once per generation.
//  * Minimum (s1 budget forcing): while fewer than min_tokens reasoning tokens were sampled, a sampled
//    token that tries to end the thought — the close tag as one token, the first piece of a textual
//    close tag, or an end-of-generation token — is refused: the loop drops it and feeds continue_text().
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dianoia::detail {

struct reasoning_budget_options {
  int32_t max_tokens = -1;  // < 0: unlimited
  int32_t min_tokens = 0;
  std::string wrap_up_text;       // fed before the close at the maximum ("" = none)
  std::string continue_text = "\nWait";
  std::string close_tag = "</think>";
  std::string close_text;         // what closes the thought at the maximum; "" = "\n" + close_tag + "\n\n"
};

class reasoning_budget {
 public:
  enum class action {
    sample,   // go on: sample the next token
    wrap_up,  // the maximum is reached: feed wrap_up_text() as reasoning
    close,    // after the wrap-up: close the thought and feed close_text()
  };

  // Throws error(invalid_argument) for a negative minimum, a minimum above the maximum, texts that are
  // not UTF-8, an empty close tag, or a minimum without a non-blank continuation text.
  // `close_tag_id`: the vocabulary's token for the close tag, if it has one.
  reasoning_budget(reasoning_budget_options o, std::optional<int32_t> close_tag_id);

  // Before sampling: what to do, given whether the output is in the thought and how many reasoning
  // tokens were sampled so far.
  action next(bool thinking, uint32_t reasoning_tokens);

  // A token was just sampled inside the thought after `reasoning_tokens` reasoning tokens: true when it
  // tries to end the thought too early and must be replaced by continue_text().
  bool refuses(uint32_t reasoning_tokens, int32_t id, std::string_view piece, bool end_of_generation) const;

  // Does sampling this token try to end the thought? The close tag as a token, or the start of a textual
  // one (its first piece of at least two characters, or a piece containing all of it).
  bool ends_thought(int32_t id, std::string_view piece) const;

  const std::string& wrap_up_text() const { return o_.wrap_up_text; }
  const std::string& continue_text() const { return o_.continue_text; }
  const std::string& close_text() const { return o_.close_text; }
  bool closed() const { return phase_ == phase::closed; }

 private:
  enum class phase { open, wrapping, closed };
  reasoning_budget_options o_;
  std::optional<int32_t> close_id_;
  phase phase_ = phase::open;
};

}  // namespace dianoia::detail
