#include "chat/chat_template.hpp"

#include <algorithm>

#include "chat/jinja_ast.hpp"
#include "chat/jinja_builtins.hpp"
#include "chat/jinja_interp.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace dianoia::detail {
namespace {

using jinja::value;

// JSON as the template sees it after HF's _plain_template_data: objects are dicts in document order.
value from_json(const json_value& j) {
  switch (j.type()) {
    case json_type::null: return value::none();
    case json_type::boolean: return value::boolean(j.as_bool());
    case json_type::integer: return value::integer(j.as_int());
    case json_type::real: return value::floating(j.as_double());
    case json_type::string: return value::string(j.as_string());
    case json_type::array: {
      jinja::list_t items;
      items.reserve(j.as_array().size());
      for (const auto& x : j.as_array()) items.push_back(from_json(x));
      return value::list(std::move(items));
    }
    case json_type::object: {
      jinja::dict_t d;
      for (const auto& m : j.as_object()) d.set(value::string(m.key), from_json(m.value));
      return value::dict(std::move(d));
    }
  }
  return value::none();
}

json_value parse_input(std::string_view text, std::string_view what) {
  try {
    return json_parse(text);
  } catch (const error& e) {
    fail(errc::invalid_argument, "chat template input {}: {}", what, e.what());
  }
}

using member_list = std::vector<std::pair<std::string, value>>;

void put(member_list& m, std::string_view key, value v) {
  for (auto& [k, x] : m) {
    if (k == key) {
      x = std::move(v);
      return;
    }
  }
  m.emplace_back(std::string(key), std::move(v));
}

value message_value(const chat_message& msg, size_t index) {
  member_list m;
  m.emplace_back("role", value::string(msg.role));
  m.emplace_back("content", value::string(msg.content));
  if (msg.reasoning_content) m.emplace_back("reasoning_content", value::string(*msg.reasoning_content));
  if (!msg.extra_json.empty()) {
    const json_value extra = parse_input(msg.extra_json, fmt::format("message {} extra_json", index));
    if (!extra.is_object()) fail(errc::invalid_argument, "chat template input message {} extra_json: not a JSON object", index);
    for (const auto& mem : extra.as_object()) {
      if (mem.value.is_null()) {
        // apply_chat_template drops None-valued keys before rendering.
        std::erase_if(m, [&](const auto& kv) { return kv.first == mem.key; });
      } else {
        put(m, mem.key, from_json(mem.value));
      }
    }
  }
  // HF's _alias_reasoning_fields: the first reasoning field present becomes {"thinking": r, **message,
  // "reasoning_content": r}.
  for (const char* key : {"reasoning_content", "thinking", "reasoning"}) {
    const auto it = std::find_if(m.begin(), m.end(), [&](const auto& kv) { return kv.first == key; });
    if (it == m.end()) continue;
    const value r = it->second;
    jinja::dict_t d;
    d.set(value::string("thinking"), r);
    for (auto& [k, v] : m) d.set(value::string(k), v);
    d.set(value::string("reasoning_content"), r);
    return value::dict(std::move(d));
  }
  jinja::dict_t d;
  for (auto& [k, v] : m) d.set(value::string(k), std::move(v));
  return value::dict(std::move(d));
}

}  // namespace

std::string render_chat_template(std::string_view tmpl, const chat_template_inputs& in) {
  using namespace jinja;
  const template_ast ast = parse_template(tmpl);
  interpreter interp(ast);

  list_t messages;
  messages.reserve(in.messages.size());
  for (size_t i = 0; i < in.messages.size(); ++i) messages.push_back(message_value(in.messages[i], i));

  std::vector<std::pair<std::string, value>> globals;
  auto set_global = [&](std::string_view name, value v) {
    for (auto& [k, x] : globals) {
      if (k == name) {
        x = std::move(v);
        return;
      }
    }
    globals.emplace_back(std::string(name), std::move(v));
  };
  auto json_global = [&](std::string_view name, const std::string& text) {
    if (text.empty()) return value::none();
    const value v = from_json(parse_input(text, name));
    if (!v.is_sequence()) fail(errc::invalid_argument, "chat template input {}: not a JSON array", name);
    return v;
  };
  set_global("messages", value::list(std::move(messages)));
  set_global("tools", json_global("tools_json", in.tools_json));
  set_global("documents", json_global("documents_json", in.documents_json));
  set_global("add_generation_prompt", value::boolean(in.add_generation_prompt));
  set_global("bos_token", value::string(in.bos_token));
  set_global("eos_token", value::string(in.eos_token));
  if (in.enable_thinking) set_global("enable_thinking", value::boolean(*in.enable_thinking));
  if (in.now) set_global("strftime_now", strftime_now_function(&*in.now));
  if (!in.extra_context_json.empty()) {
    const json_value extra = parse_input(in.extra_context_json, "extra_context_json");
    if (!extra.is_object()) fail(errc::invalid_argument, "chat template input extra_context_json: not a JSON object");
    for (const auto& mem : extra.as_object()) {
      // HF passes these as named arguments of render(), so a second value for one is a TypeError.
      for (const char* reserved : {"messages", "tools", "documents", "add_generation_prompt"}) {
        if (mem.key == reserved) {
          fail(errc::invalid_argument, "chat template input extra_context_json: '{}' has its own field", mem.key);
        }
      }
      set_global(mem.key, from_json(mem.value));
    }
  }
  if (!in.kwargs_json.empty()) {
    const json_value kw = parse_input(in.kwargs_json, "template variables");
    if (!kw.is_object()) fail(errc::invalid_argument, "template variables: not a JSON object");
    for (const auto& mem : kw.as_object()) {
      if (mem.key == "messages" || mem.key == "add_generation_prompt")
        fail(errc::invalid_argument, "template variables: '{}' is not a template variable but an argument", mem.key);
      value v = from_json(mem.value);
      if ((mem.key == "tools" || mem.key == "documents") && !v.is_none() && !v.is_sequence())
        fail(errc::invalid_argument, "template variables: '{}' must be a JSON array or null", mem.key);
      set_global(mem.key, std::move(v));
    }
  }
  return interp.render(globals);
}

}  // namespace dianoia::detail
