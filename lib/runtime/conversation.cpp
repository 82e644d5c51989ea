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
  return render_chat(template_, &tok_, messages_, add_generation_prompt, {}, enable_thinking, tools_json_);
}

generation_stats conversation::send(std::string_view user_text, const generate_options& opt, const text_sink& sink,
                                    const token_sink& tokens, const tool_sink& tools) {
  if (!utf8_valid(user_text)) fail(errc::invalid_argument, "the user text is not valid UTF-8");
  messages_.push_back({"user", std::string(user_text)});
  try {
    return reply(opt, sink, tokens, tools);
  } catch (...) {
    messages_.pop_back();
    throw;
  }
}

void conversation::set_tools(std::string tools_json, std::optional<tool_syntax> syntax) {
  if (!tools_json.empty()) {
    try {
      if (!json_parse(tools_json).is_array()) fail(errc::invalid_argument, "the tools are not a JSON array");
    } catch (const error& e) {
      if (e.code() == errc::invalid_argument) throw;
      fail(errc::invalid_argument, "the tools are not valid JSON: {}", e.what());
    }
  }
  tools_json_ = std::move(tools_json);
  syntax_ = tools_json_.empty() ? tool_syntax::none : syntax.value_or(detect_tool_syntax(template_));
}

void conversation::add_tool_result(std::string_view id, std::string_view name, std::string_view content) {
  chat_message m{"tool", std::string(content)};
  std::string extra;
  if (!id.empty()) extra += "\"tool_call_id\":" + json_quote(id);
  if (!name.empty()) extra += std::string(extra.empty() ? "" : ",") + "\"name\":" + json_quote(name);
  if (!extra.empty()) m.extra_json = "{" + extra + "}";
  if (!utf8_valid(id) || !utf8_valid(name)) fail(errc::invalid_argument, "the tool call id or name is not valid UTF-8");
  add(std::move(m));
}

namespace {
// The assistant message's tool_calls member, as OpenAI's API and HF templates have it.
std::string tool_calls_json(const std::vector<tool_call>& calls, bool arguments_as_text) {
  std::string out = "{\"tool_calls\":[";
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& c = calls[i];
    if (i) out += ',';
    out += "{\"id\":" + json_quote(c.id) + ",\"type\":\"function\",\"function\":{\"name\":" + json_quote(c.name) +
           ",\"arguments\":" + (arguments_as_text ? json_quote(c.arguments) : c.arguments) + "}}";
  }
  return out + "]}";
}
}  // namespace

generation_stats conversation::reply(const generate_options& opt_in, const text_sink& sink, const token_sink& tokens,
                                     const tool_sink& tools) {
  if (messages_.empty()) fail(errc::invalid_argument, "the conversation has no messages to reply to");
  generate_options opt = opt_in;
  if (opt.tool_calls == tool_syntax::none) opt.tool_calls = syntax_;
  opt.first_tool_call = n_tool_calls_;
  // Qwen3-style templates switch thinking in the prompt itself.
  const std::string prompt = render_chat(template_, &tok_, messages_, true, opt.chat_template_kwargs,
                                         thinking_switch(profile_, opt.reasoning), tools_json_);
  const auto ids = tok_.encode(prompt, false, true);
  std::string reasoning, content;
  std::vector<tool_call> calls;
  auto collect = [&](channel ch, std::string_view t) {
    (ch == channel::reasoning ? reasoning : content) += t;
    return sink(ch, t);
  };
  auto collect_call = [&](const tool_call& c) {
    calls.push_back(c);
    return tools ? tools(c) : true;
  };
  const bool parse_calls = opt.tool_calls != tool_syntax::none;
  auto st = s_.generate(ids, opt, collect, true, tokens, parse_calls ? tool_sink(collect_call) : tool_sink());
  chat_message reply{"assistant", std::move(content)};
  if (!reasoning.empty()) reply.reasoning_content = std::move(reasoning);
  if (!calls.empty()) reply.extra_json = tool_calls_json(calls, opt.tool_calls == tool_syntax::deepseek);
  n_tool_calls_ += static_cast<uint32_t>(calls.size());
  messages_.push_back(std::move(reply));
  return st;
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
  // Later calls' ids go on from the saved ones.
  uint32_t calls = 0;
  for (const auto& m : msgs) {
    if (m.extra_json.empty()) continue;
    const json_value extra = json_parse(m.extra_json);
    if (const auto* tc = extra.find("tool_calls")) calls += static_cast<uint32_t>(tc->as_array().size());
  }
  messages_ = std::move(msgs);
  n_tool_calls_ = calls;
}

}  // namespace dianoia::detail
