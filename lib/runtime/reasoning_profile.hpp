// How a model family thinks: which tags delimit the thought, whether the chat template already opens
// it (DeepSeek-R1 and its distills end the generation prompt with "<think>\n", so the output starts
// inside the thought), and whether the template takes Qwen3's `enable_thinking` switch.
#pragma once
#include <string>
#include <string_view>

#include "tokenizer/tokenizer.hpp"

namespace dianoia::detail {

struct reasoning_profile {
  // "deepseek-r1" (template opens the thought), "qwen3" (enable_thinking), "think-tags" (the vocab has
  // <think>/</think> tokens but the template neither opens them nor switches them), or "none".
  std::string family = "none";
  std::string open_tag = "<think>";
  std::string close_tag = "</think>";
  bool template_opens_thought = false;
  bool has_enable_thinking = false;
  bool tags_are_tokens = false;  // each tag is one token of the vocabulary
  int32_t close_token = -1;      // id of the close tag when it is one token
};

// Derived by rendering the template for a one-message conversation (with the generation prompt) and by
// looking the tags up in the vocabulary. Never throws: a template that does not render gives the
// vocabulary-only answer.
reasoning_profile detect_reasoning_profile(std::string_view chat_template, const tokenizer& tok,
                                           std::string_view bos_text, std::string_view eos_text);

}  // namespace dianoia::detail
