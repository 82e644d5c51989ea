// Conversation input shared by the template and generation entry points of the C ABI.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.hpp"
#include "dianoia.h"
#include "runtime/loaded_model.hpp"

namespace dianoia::capi {

// Copies and validates (non-NULL, valid UTF-8) the caller's messages.
std::vector<detail::chat_message> read_messages(const dianoia_chat_message* msgs, size_t n);

// Renders `tmpl`, or the model's own template when tmpl is NULL, with the model's BOS/EOS texts.
// enable_thinking: passed to the template when set (Qwen3's switch). tools_json: the `tools` variable.
std::string render_chat(const detail::loaded_model* m, const char* tmpl, const std::vector<detail::chat_message>& msgs,
                        bool add_generation_prompt, std::optional<bool> enable_thinking = std::nullopt,
                        const std::string& tools_json = {});

}  // namespace dianoia::capi
