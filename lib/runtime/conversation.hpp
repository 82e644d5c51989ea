// A multi-turn conversation on one session: the messages so far, rendered through the model's chat
// template for every turn. The session's KV cache is reused up to the first token where the new
// rendering differs from what is cached, so a plain append costs only the new turn, and a template that
// drops earlier thoughts (R1, Qwen3) costs a recomputation from the first changed token, not from zero.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_template.hpp"
#include "runtime/reasoning_profile.hpp"
#include "runtime/session.hpp"

namespace dianoia::detail {

class conversation {
 public:
  // `s` and `tok` must outlive the conversation. An empty template is error(unsupported).
  conversation(session& s, const tokenizer& tok, std::string chat_template);

  const reasoning_profile& profile() const { return profile_; }
  const std::vector<chat_message>& messages() const { return messages_; }

  // Appends a message without generating (a system prompt, an earlier exchange, a tool result).
  // Roles and text must be valid UTF-8: error(invalid_argument).
  void add(chat_message m);
  void clear() { messages_.clear(); }

  // Appends the user's turn, generates the reply (reasoning and answer split as the profile says) and
  // appends it as an assistant message with `reasoning_content` set to the thought. When the
  // generation fails the conversation is left as it was. `opt`'s tags default to the profile's.
  generation_stats send(std::string_view user_text, const generate_options& opt, const text_sink& sink,
                        const token_sink& tokens = {}, const tool_sink& tools = {});

  // Generates the assistant's next reply to the messages as they stand (after tool results, say) and
  // appends it; as send() without a new user turn. With tools set, calls in the reply go to `tools` and
  // are kept on the assistant message as `tool_calls` (OpenAI's shape; arguments an object, or the JSON
  // text for DeepSeek's template, which pastes them in as a string).
  generation_stats reply(const generate_options& opt, const text_sink& sink, const token_sink& tokens = {},
                         const tool_sink& tools = {});

  // The tools offered to the model: a JSON array of function definitions, as apply_chat_template takes
  // them ("" = none). Their syntax is `syntax` if given, else the template's (detect_tool_syntax); the
  // generation options can name one too. Invalid JSON, or not an array: error(invalid_argument).
  void set_tools(std::string tools_json, std::optional<tool_syntax> syntax = std::nullopt);
  const std::string& tools() const { return tools_json_; }
  tool_syntax syntax() const { return syntax_; }

  // Appends a tool's result for call `id` (from a tool_call) of tool `name` (either may be empty).
  void add_tool_result(std::string_view id, std::string_view name, std::string_view content);

  // The prompt for the current messages (what send() would evaluate, before the new turn).
  std::string render(bool add_generation_prompt, std::optional<bool> enable_thinking = std::nullopt) const;

  // The messages as a JSON array (for session files), and back. Malformed JSON: error(format).
  std::string messages_json() const;
  void restore_messages(std::string_view json);

 private:
  session& s_;
  const tokenizer& tok_;
  std::string template_;
  std::string bos_text_, eos_text_;
  reasoning_profile profile_;
  std::vector<chat_message> messages_;
  std::string tools_json_;
  tool_syntax syntax_ = tool_syntax::none;
  uint32_t n_tool_calls_ = 0;  // calls in the conversation so far: the next call's id
};

}  // namespace dianoia::detail
