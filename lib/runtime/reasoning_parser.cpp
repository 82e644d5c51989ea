#include "runtime/reasoning_parser.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace dianoia::detail {

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

size_t skip_space(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

std::string_view rstrip_space(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Length of the longest proper prefix of tag that ends s: those bytes may still become the tag. Both
// are valid UTF-8 and the match starts with the tag's lead byte, so the cut falls between characters.
size_t partial_tag_suffix(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

void check_tag(const std::string& tag, const char* which) {
  if (tag.empty()) fail(errc::invalid_argument, "reasoning parser: empty {} tag", which);
  if (!utf8_valid(tag)) fail(errc::invalid_argument, "reasoning parser: {} tag is not valid UTF-8", which);
}
}  // namespace

reasoning_parser::reasoning_parser(std::string open_tag, std::string close_tag, bool start_in_reasoning, bool enabled)
    : open_(std::move(open_tag)), close_(std::move(close_tag)) {
  check_tag(open_, "open");
  check_tag(close_, "close");
  if (!enabled)
    phase_ = phase::content;
  else if (start_in_reasoning)
    phase_ = phase::reasoning;
  else
    phase_ = phase::before_open;
  trim_reasoning_start_ = enabled && start_in_reasoning;
}

void reasoning_parser::emit(channel ch, std::string_view text, std::vector<text_event>& out, size_t first_new) {
  if (text.empty()) return;
  // Merge only with events of this call: earlier ones may already be in the caller's hands.
  if (out.size() > first_new && out.back().ch == ch)
    out.back().text.append(text);
  else
    out.push_back({ch, std::string(text)});
}

void reasoning_parser::emit_reasoning(std::string_view text, std::vector<text_event>& out, size_t first_new) {
  if (trim_reasoning_start_) {
    text.remove_prefix(skip_space(text));
    if (text.empty()) return;
    trim_reasoning_start_ = false;
  }
  emit(channel::reasoning, text, out, first_new);
}

void reasoning_parser::process(std::vector<text_event>& out, size_t first_new) {
  if (phase_ == phase::content && held_.empty()) {
    emit(channel::content, chars_, out, first_new);
    return;
  }
  held_ += chars_;
  for (;;) {
    switch (phase_) {
      case phase::before_open: {
        const size_t ws = skip_space(held_);
        const std::string_view rest = std::string_view(held_).substr(ws);
        if (rest.empty()) return;
        if (rest.starts_with(open_)) {
          held_.erase(0, ws + open_.size());
          phase_ = phase::reasoning;
          trim_reasoning_start_ = true;
          continue;
        }
        if (std::string_view(open_).starts_with(rest)) return;
        phase_ = phase::content;  // the output does not start with a thought
        continue;
      }
      case phase::reasoning: {
        const size_t pos = held_.find(close_);
        if (pos != std::string::npos) {
          emit_reasoning(rstrip_space(std::string_view(held_).substr(0, pos)), out, first_new);
          held_.erase(0, pos + close_.size());
          phase_ = phase::content_start;
          trim_reasoning_start_ = false;
          continue;
        }
        // Hold a possible start of the close tag, and the whitespace run before it: if the tag
        // completes, that whitespace is dropped.
        size_t cut = held_.size() - partial_tag_suffix(held_, close_);
        while (cut > 0 && is_space(held_[cut - 1])) --cut;
        emit_reasoning(std::string_view(held_).substr(0, cut), out, first_new);
        held_.erase(0, cut);
        return;
      }
      case phase::content_start: {
        held_.erase(0, skip_space(held_));
        if (held_.empty()) return;
        if (swallow_close_) {
          if (held_.starts_with(close_)) {
            held_.erase(0, close_.size());
            swallow_close_ = false;
            continue;
          }
          if (std::string_view(close_).starts_with(held_)) return;
          swallow_close_ = false;
        }
        phase_ = phase::content;
        continue;
      }
      case phase::content:
        emit(channel::content, held_, out, first_new);
        held_.clear();
        return;
    }
  }
}

void reasoning_parser::feed(std::string_view bytes, std::vector<text_event>& out) {
  const size_t first_new = out.size();
  chars_.clear();
  utf8_.push(bytes, chars_);
  if (!chars_.empty()) process(out, first_new);
}

void reasoning_parser::finish(std::vector<text_event>& out) {
  const size_t first_new = out.size();
  chars_.clear();
  utf8_.flush(chars_);
  if (!chars_.empty()) process(out, first_new);
  switch (phase_) {
    case phase::before_open:
      emit(channel::content, held_, out, first_new);
      phase_ = phase::content;
      break;
    case phase::reasoning:
      emit_reasoning(held_, out, first_new);
      break;
    case phase::content_start:  // only a partial echo of the close tag can be held here
    case phase::content:
      emit(channel::content, held_, out, first_new);
      break;
  }
  held_.clear();
}

void reasoning_parser::force_close(std::vector<text_event>& out) {
  if (phase_ != phase::reasoning) return;
  const size_t first_new = out.size();
  chars_.clear();
  utf8_.flush(chars_);
  if (!chars_.empty()) process(out, first_new);
  if (phase_ != phase::reasoning) return;  // the flushed bytes cannot form the close tag, but be safe
  emit_reasoning(rstrip_space(held_), out, first_new);
  held_.clear();
  phase_ = phase::content_start;
  trim_reasoning_start_ = false;
  swallow_close_ = true;
}

}  // namespace dianoia::detail
