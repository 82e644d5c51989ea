// The one place a prompt is built: a conversation through the chat template (template variables,
// BOS/EOS texts, Qwen3's enable_thinking from the reasoning mode) or plain text (BOS as the vocabulary
// asks). Chat, samples, conversations and the C ABI's template rendering all come through here, so
// they cannot disagree about what the model sees.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_template.hpp"
#include "runtime/reasoning_profile.hpp"
#include "runtime/session.hpp"
#include "tokenizer/tokenizer.hpp"

namespace dianoia::detail {

// Renders `msgs` with `tmpl`. tok (may be null) supplies bos_token/eos_token; kwargs_json ("" = none)
// is a JSON object of template variables (tools, documents, enable_thinking, ...) that wins over
// `enable_thinking`; tools_json ("" = none) is the tools array (a "tools" member of kwargs_json wins).
// Errors as render_chat_template.
std::string render_chat(std::string_view tmpl, const tokenizer* tok, const std::vector<chat_message>& msgs,
                        bool add_generation_prompt, std::string_view kwargs_json,
                        std::optional<bool> enable_thinking = std::nullopt, std::string_view tools_json = {});

// enable_thinking for a generation: set (from the mode) only for templates that take the switch.
std::optional<bool> thinking_switch(const reasoning_profile& profile, reasoning_mode mode);

// The token ids of a chat generation's prompt: the rendering with the generation prompt, special-token
// text parsed, nothing added (the template writes BOS itself). An empty template is error(unsupported).
// tools_json ("" = none): the tools array.
std::vector<int32_t> chat_prompt_tokens(std::string_view tmpl, const tokenizer& tok, const reasoning_profile& profile,
                                        const std::vector<chat_message>& msgs, const generate_options& opt,
                                        std::string_view tools_json = {});

// Plain completion: BOS when the vocabulary asks for it (or the text is empty: a prompt needs a token),
// then the text with special-token text kept literal.
std::vector<int32_t> completion_prompt_tokens(const tokenizer& tok, std::string_view text);

}  // namespace dianoia::detail
