#include "runtime/reasoning_profile.hpp"

#include "chat/chat_template.hpp"
#include "core/error.hpp"

namespace dianoia::detail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

std::string_view rtrim(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The id of `text` if it is exactly one token (as the model would see it in a rendered prompt).
int32_t single_token(const tokenizer& tok, const std::string& text) {
  try {
    const auto ids = tok.encode(text, false, true);
    return ids.size() == 1 ? ids[0] : -1;
  } catch (const error&) {
    return -1;
  }
}

}  // namespace

reasoning_profile detect_reasoning_profile(std::string_view chat_template, const tokenizer& tok,
                                           std::string_view bos_text, std::string_view eos_text) {
  reasoning_profile p;
  const int32_t open = single_token(tok, p.open_tag);
  p.close_token = single_token(tok, p.close_tag);
  p.tags_are_tokens = open >= 0 && p.close_token >= 0;
  if (!chat_template.empty()) {
    p.has_enable_thinking = chat_template.find("enable_thinking") != std::string_view::npos;
    try {
      chat_template_inputs in;
      in.messages.push_back({"user", "Hi"});
      in.add_generation_prompt = true;
      in.bos_token = std::string(bos_text);
      in.eos_token = std::string(eos_text);
      const std::string text = render_chat_template(chat_template, in);
      p.template_opens_thought = rtrim(text).ends_with(p.open_tag);
    } catch (const error&) {
      // A template that cannot render here fails again, with its message, when the host uses it.
    }
  }
  if (p.template_opens_thought)
    p.family = "deepseek-r1";
  else if (p.has_enable_thinking)
    p.family = "qwen3";
  else if (p.tags_are_tokens)
    p.family = "think-tags";
  return p;
}

}  // namespace dianoia::detail
