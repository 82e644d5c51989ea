#include "runtime/reasoning_budget.hpp"

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace dianoia::detail {

namespace {
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
std::string_view trim_front(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}
void require_utf8(const std::string& s, const char* what) {
  if (!utf8_valid(s)) fail(errc::invalid_argument, "{} is not valid UTF-8", what);
}
}  // namespace

reasoning_budget::reasoning_budget(reasoning_budget_options o, std::optional<int32_t> close_tag_id)
    : o_(std::move(o)), close_id_(close_tag_id) {
  if (o_.min_tokens < 0) fail(errc::invalid_argument, "min_reasoning_tokens must not be negative");
  if (o_.max_tokens >= 0 && o_.min_tokens > o_.max_tokens)
    fail(errc::invalid_argument, "min_reasoning_tokens ({}) exceeds max_reasoning_tokens ({})", o_.min_tokens,
         o_.max_tokens);
  if (o_.close_tag.empty()) fail(errc::invalid_argument, "reasoning tags must not be empty");
  require_utf8(o_.close_tag, "the close tag");
  require_utf8(o_.wrap_up_text, "the wrap-up text");
  require_utf8(o_.close_text, "the budget close text");
  require_utf8(o_.continue_text, "the continuation text");
  std::string_view cont = trim_front(o_.continue_text);
  while (!cont.empty() && is_space(cont.back())) cont.remove_suffix(1);
  if (o_.min_tokens > 0 && cont.empty())
    fail(errc::invalid_argument, "min_reasoning_tokens needs a non-blank continuation text");
  if (o_.close_text.empty()) o_.close_text = "\n" + o_.close_tag + "\n\n";
}

reasoning_budget::action reasoning_budget::next(bool thinking, uint32_t reasoning_tokens) {
  if (phase_ == phase::wrapping) {
    phase_ = phase::closed;
    return action::close;
  }
  if (phase_ == phase::open && thinking && o_.max_tokens >= 0 &&
      reasoning_tokens >= static_cast<uint32_t>(o_.max_tokens)) {
    phase_ = phase::wrapping;
    return action::wrap_up;
  }
  return action::sample;
}

bool reasoning_budget::ends_thought(int32_t id, std::string_view piece) const {
  if (close_id_ && id == *close_id_) return true;
  const std::string_view tp = trim_front(piece);
  if (tp.empty()) return false;
  const std::string_view tag = o_.close_tag;
  return piece.find(tag) != std::string_view::npos || (tp.size() >= 2 && tag.starts_with(tp));
}

bool reasoning_budget::refuses(uint32_t reasoning_tokens, int32_t id, std::string_view piece,
                               bool end_of_generation) const {
  if (reasoning_tokens >= static_cast<uint32_t>(o_.min_tokens)) return false;
  return end_of_generation || ends_thought(id, piece);
}

}  // namespace dianoia::detail
