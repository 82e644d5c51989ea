#include "runtime/conversation.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/utf8.hpp"
#include "runtime/chat_prompt.hpp"

namespace dianoia::detail {

conversation::conversation(session& s, const tokenizer& tok, std::string chat_template)
    : s_(s), tok_(tok), template_(std::move(chat_template)) {
  if (template_.empty()) fail(errc::unsupported, "the model has no chat template: a conversation needs one");
  if (tok.bos() >= 0) bos_text_ = std::string(tok.token_text(tok.bos()));
  if (tok.eos() >= 0) eos_text_ = std::string(tok.token_text(tok.eos()));
  profile_ = detect_reasoning_profile(template_, tok, bos_text_, eos_text_);
}

void conversation::add(chat_message m) {
  if (!utf8_valid(m.role) || m.role.empty()) fail(errc::invalid_argument, "the message role is empty or not UTF-8");
  if (!utf8_valid(m.content)) fail(errc::invalid_argument, "the message content is not valid UTF-8");
  if (m.reasoning_content && !utf8_valid(*m.reasoning_content))
    fail(errc::invalid_argument, "the message reasoning is not valid UTF-8");
  if (!m.extra_json.empty()) {
    bool object = false;
    try {
      object = json_parse(m.extra_json).is_object();
    } catch (const error& e) {
      fail(errc::invalid_argument, "the message's further members: {}", e.what());
    }
    if (!object) fail(errc::invalid_argument, "the message's further members are not a JSON object");
  }
  messages_.push_back(std::move(m));
}

std::string conversation::render(bool add_generation_prompt, std::optional<bool> enable_thinking) const {
  return render_chat(template_, &tok_, messages_, add_generation_prompt, {}, enable_thinking);
}

generation_stats conversation::send(std::string_view user_text, const generate_options& opt_in, const text_sink& sink,
                                    const token_sink& tokens) {
  if (!utf8_valid(user_text)) fail(errc::invalid_argument, "the user text is not valid UTF-8");
  const generate_options& opt = opt_in;
  const size_t before = messages_.size();
  messages_.push_back({"user", std::string(user_text)});
  try {
    const auto ids = chat_prompt_tokens(template_, tok_, profile_, messages_, opt);
    std::string reasoning, content;
    auto collect = [&](channel ch, std::string_view t) {
      (ch == channel::reasoning ? reasoning : content) += t;
      return sink(ch, t);
    };
    auto st = s_.generate(ids, opt, collect, true, tokens);
    chat_message reply{"assistant", std::move(content)};
    if (!reasoning.empty()) reply.reasoning_content = std::move(reasoning);
    messages_.push_back(std::move(reply));
    return st;
  } catch (...) {
    messages_.resize(before);
    throw;
  }
}

std::string conversation::messages_json() const {
  std::string out = "[";
  for (size_t i = 0; i < messages_.size(); ++i) {
    const auto& m = messages_[i];
    if (i) out += ',';
    out += "{\"role\":" + json_quote(m.role) + ",\"content\":" + json_quote(m.content);
    if (m.reasoning_content) out += ",\"reasoning_content\":" + json_quote(*m.reasoning_content);
    if (!m.extra_json.empty()) out += ",\"extra_json\":" + json_quote(m.extra_json);
    out += '}';
  }
  return out + "]";
}

void conversation::restore_messages(std::string_view json) {
  const json_value v = json_parse(json);
  std::vector<chat_message> msgs;
  for (const auto& e : v.as_array()) {
    const auto* role = e.find("role");
    const auto* content = e.find("content");
    if (!role || !content) fail(errc::format, "a saved message lacks role or content");
    chat_message m{role->as_string(), content->as_string()};
    if (const auto* r = e.find("reasoning_content")) m.reasoning_content = r->as_string();
    if (const auto* x = e.find("extra_json")) m.extra_json = x->as_string();
    msgs.push_back(std::move(m));
  }
  messages_ = std::move(msgs);
}

}  // namespace dianoia::detail
