// Conversation input shared by the template and generation entry points of the C ABI.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.hpp"
#include "runtime/loaded_model.hpp"
#include "dianoia.h"

namespace dianoia::capi {

// Copies and validates (role set, valid UTF-8, JSON where JSON is due) one of the caller's messages; the
// tool calls, tool_call_id, name and extra_json become the message's further members (extra_json).
detail::chat_message read_message(const dianoia_chat_message& m, size_t index);
std::vector<detail::chat_message> read_messages(const dianoia_chat_message* msgs, size_t n);

// A NUL-terminated JSON object of template variables (NULL: ""), checked to be valid UTF-8.
std::string read_kwargs(const char* json);
// Renders `tmpl`, or the model's own template when tmpl is NULL, with the model's BOS/EOS texts.
// enable_thinking: passed to the template when set (Qwen3's switch). tools_json: the `tools` variable.
std::string render_chat(const detail::loaded_model* m, const char* tmpl, const std::vector<detail::chat_message>& msgs,
                        bool add_generation_prompt, std::optional<bool> enable_thinking = std::nullopt,
                        const std::string& tools_json = {});

}  // namespace dianoia::capi
