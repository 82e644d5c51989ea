// Chat-template rendering: turns a conversation into the prompt text a model was trained on, by running
// the model's Jinja chat template the way HF transformers' apply_chat_template does.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dianoia::detail {

struct chat_message {
  std::string role;
  std::string content;
  // Reasoning kept apart from the content. When set, the template sees it as both `reasoning_content`
  // and `thinking` (as HF aliases it); when unset neither key exists.
  std::optional<std::string> reasoning_content = std::nullopt;
};

struct chat_template_inputs {
  std::vector<chat_message> messages;
  bool add_generation_prompt = true;
  std::string bos_token, eos_token;
  std::optional<bool> enable_thinking;  // defined in the context only when set
};

// Renders like transformers' apply_chat_template (jinja2 with trim_blocks=True, lstrip_blocks=True,
// raise_exception(), strftime_now(), tojson as HF defines it; `tools` and `documents` are None).
// Errors: error(format) with "line L, column C" — syntax errors, raise_exception() messages, and the
// resource limits (16 MiB output, 1e6 loop iterations, call depth 64).
std::string render_chat_template(std::string_view tmpl, const chat_template_inputs& in);

}  // namespace dianoia::detail
