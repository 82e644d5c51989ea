// Chat-template rendering: turns a conversation into the prompt text a model was trained on, by running
// the model's Jinja chat template the way HF transformers' apply_chat_template does.
#pragma once
#include <ctime>
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
  // Further members of the message as one JSON object ("" = none), e.g. {"tool_calls": [{"type": "function",
  // "function": {"name": "f", "arguments": {"x": 1}}}]} on an assistant turn or {"name": "f"} on a tool result.
  // They follow role/content/reasoning_content in the message; a member of the same name replaces that value,
  // and a null member removes the key, as apply_chat_template drops None-valued keys.
  std::string extra_json = {};
};

struct chat_template_inputs {
  std::vector<chat_message> messages;
  bool add_generation_prompt = true;
  std::string bos_token, eos_token;
  std::optional<bool> enable_thinking;  // defined in the context only when set
  // JSON array of tool definitions (JSON-schema functions, as passed to apply_chat_template(tools=...));
  // "" leaves `tools` None. `documents_json` likewise for RAG documents.
  std::string tools_json, documents_json;
  // JSON object of further template variables (apply_chat_template's **kwargs: date_string,
  // builtin_tools, ...). They may replace bos_token/eos_token/enable_thinking but not the variables
  // above (messages, tools, documents, add_generation_prompt).
  std::string extra_context_json;
  // apply_chat_template's keyword arguments as one JSON object, as a host passes them through the C ABI:
  // `tools` and `documents` (arrays or null), `enable_thinking` and any other template variable. Applied
  // after every field above, so they win over it; "messages" and "add_generation_prompt" are refused.
  std::string kwargs_json;
  // The clock strftime_now() reads, as broken-down local time; unset = the current local time.
  std::optional<std::tm> now;
};

// Renders like transformers' apply_chat_template (jinja2 with trim_blocks=True, lstrip_blocks=True,
// raise_exception(), strftime_now(), tojson as HF defines it).
// Errors: error(format) with "line L, column C" — syntax errors, raise_exception() messages, and the
// resource limits (16 MiB output, 32 MiB held at once by the render's values and output, 1 GiB
// allocated in all, 1e7 evaluation steps, 1e6 loop iterations, call depth 64); error(invalid_argument) for
// malformed JSON in the inputs.
std::string render_chat_template(std::string_view tmpl, const chat_template_inputs& in);

}  // namespace dianoia::detail
