#include "chat/chat_template.hpp"

#include "chat/jinja_ast.hpp"
#include "chat/jinja_interp.hpp"

namespace dianoia::detail {

std::string render_chat_template(std::string_view tmpl, const chat_template_inputs& in) {
  using namespace jinja;
  const template_ast ast = parse_template(tmpl);
  interpreter interp(ast);

  list_t messages;
  messages.reserve(in.messages.size());
  for (const auto& m : in.messages) {
    dict_t d;
    // Key order matches HF's aliasing ({"thinking": r, **message, "reasoning_content": r}), which only
    // matters to templates that iterate a message's keys.
    if (m.reasoning_content) d.set(value::string("thinking"), value::string(*m.reasoning_content));
    d.set(value::string("role"), value::string(m.role));
    d.set(value::string("content"), value::string(m.content));
    if (m.reasoning_content) d.set(value::string("reasoning_content"), value::string(*m.reasoning_content));
    messages.push_back(value::dict(std::move(d)));
  }

  std::vector<std::pair<std::string, value>> globals;
  globals.emplace_back("messages", value::list(std::move(messages)));
  globals.emplace_back("tools", value::none());
  globals.emplace_back("documents", value::none());
  globals.emplace_back("add_generation_prompt", value::boolean(in.add_generation_prompt));
  globals.emplace_back("bos_token", value::string(in.bos_token));
  globals.emplace_back("eos_token", value::string(in.eos_token));
  if (in.enable_thinking) globals.emplace_back("enable_thinking", value::boolean(*in.enable_thinking));
  return interp.render(globals);
}

}  // namespace dianoia::detail
