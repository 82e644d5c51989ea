#include "runtime/chat_prompt.hpp"

#include "core/error.hpp"

namespace dianoia::detail {

std::string render_chat(std::string_view tmpl, const tokenizer* tok, const std::vector<chat_message>& msgs,
                        bool add_generation_prompt, std::string_view kwargs_json,
                        std::optional<bool> enable_thinking, std::string_view tools_json) {
  chat_template_inputs in;
  in.tools_json = std::string(tools_json);
  in.messages = msgs;
  in.add_generation_prompt = add_generation_prompt;
  in.enable_thinking = enable_thinking;
  in.kwargs_json = std::string(kwargs_json);
  if (tok) {
    if (tok->bos() >= 0) in.bos_token = std::string(tok->token_text(tok->bos()));
    if (tok->eos() >= 0) in.eos_token = std::string(tok->token_text(tok->eos()));
  }
  return render_chat_template(tmpl, in);
}

std::optional<bool> thinking_switch(const reasoning_profile& profile, reasoning_mode mode) {
  if (!profile.has_enable_thinking) return std::nullopt;
  return mode != reasoning_mode::off;
}

std::vector<int32_t> chat_prompt_tokens(std::string_view tmpl, const tokenizer& tok, const reasoning_profile& profile,
                                        const std::vector<chat_message>& msgs, const generate_options& opt,
                                        std::string_view tools_json) {
  if (tmpl.empty()) fail(errc::unsupported, "the model has no chat template");
  if (msgs.empty()) fail(errc::invalid_argument, "the conversation has no messages");
  const std::string text =
      render_chat(tmpl, &tok, msgs, true, opt.chat_template_kwargs, thinking_switch(profile, opt.reasoning), tools_json);
  return tok.encode(text, false, true);
}

std::vector<int32_t> completion_prompt_tokens(const tokenizer& tok, std::string_view text) {
  auto ids = tok.encode(text, false, false);
  if (tok.bos() >= 0 && (tok.add_bos() || ids.empty())) ids.insert(ids.begin(), tok.bos());
  return ids;
}

}  // namespace dianoia::detail
