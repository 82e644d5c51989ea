// C ABI: chat messages in, as the chat template sees them.
#include "chat_glue.hpp"
#include "core/json.hpp"
#include "guard.hpp"

using namespace dianoia;
using detail::errc;
using detail::fail;

namespace dianoia::capi {
namespace {

std::string c_str(const char* s, size_t index, const char* what) {
  const std::string_view v(s);
  size_t bad = 0;
  if (!detail::utf8_valid(v, &bad)) fail(errc::invalid_argument, "message {} {} is not valid UTF-8 (byte {})", index, what, bad);
  return std::string(v);
}

// JSON text from the caller, parsed to check it (a template error later would point at the wrong thing).
detail::json_value c_json(const char* s, size_t index, const char* what) {
  const std::string text = c_str(s, index, what);
  try {
    return detail::json_parse(text);
  } catch (const detail::error& e) {
    fail(errc::invalid_argument, "message {} {}: {}", index, what, e.what());
  }
}

std::string tool_call_json(const dianoia_tool_call& c, size_t index, size_t k) {
  if (!c.name) fail(errc::invalid_argument, "message {} tool call {}: name is NULL", index, k);
  std::string out = "{";
  if (c.id) out += "\"id\":" + detail::json_quote(c_str(c.id, index, "tool call id")) + ",";
  out += "\"type\":\"function\",\"function\":{\"name\":" + detail::json_quote(c_str(c.name, index, "tool call name"));
  std::string args = "{}";
  if (c.arguments) {
    c_json(c.arguments, index, "tool call arguments");
    args = c.arguments;
  }
  return out + ",\"arguments\":" + args + "}}";
}

}  // namespace

detail::chat_message read_message(const dianoia_chat_message& m, size_t i) {
  if (!m.role) fail(errc::invalid_argument, "message {} has a NULL role", i);
  detail::chat_message out;
  out.role = c_str(m.role, i, "role");
  if (out.role.empty()) fail(errc::invalid_argument, "message {} has an empty role", i);
  // The runtime's message always has content; a NULL one is made None through the further members.
  std::string members;
  auto member = [&](std::string_view key, const std::string& json) {
    members += members.empty() ? "" : ",";
    members += detail::json_quote(key) + ":" + json;
  };
  // A NULL content is None, unless extra_json gives a content of another type (a list of parts).
  if (m.content)
    out.content = c_str(m.content, i, "content");
  else if (!m.extra_json || !c_json(m.extra_json, i, "extra_json").find("content"))
    member("content", "null");
  if (m.reasoning_content) out.reasoning_content = c_str(m.reasoning_content, i, "reasoning_content");
  if (m.n_tool_calls) {
    if (!m.tool_calls) fail(errc::invalid_argument, "message {}: tool_calls is NULL but n_tool_calls is {}", i, m.n_tool_calls);
    if (m.n_tool_calls > 4096) fail(errc::invalid_argument, "message {}: {} tool calls is too many", i, m.n_tool_calls);
    std::string calls = "[";
    for (size_t k = 0; k < m.n_tool_calls; ++k) {
      if (k) calls += ',';
      calls += tool_call_json(m.tool_calls[k], i, k);
    }
    member("tool_calls", calls + "]");
  }
  if (m.tool_call_id) member("tool_call_id", detail::json_quote(c_str(m.tool_call_id, i, "tool_call_id")));
  if (m.name) member("name", detail::json_quote(c_str(m.name, i, "name")));
  if (m.extra_json) {
    const auto v = c_json(m.extra_json, i, "extra_json");
    if (!v.is_object()) fail(errc::invalid_argument, "message {} extra_json is not a JSON object", i);
    // Splice the object's members after ours; a key given twice is refused when the template parses it.
    std::string_view text(m.extra_json);
    const size_t open = text.find('{'), close = text.rfind('}');
    const std::string_view inner = text.substr(open + 1, close - open - 1);
    if (inner.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      members += members.empty() ? "" : ",";
      members += inner;
    }
  }
  if (!members.empty()) {
    out.extra_json = "{" + members + "}";
    try {
      detail::json_parse(out.extra_json);
    } catch (const detail::error& e) {
      fail(errc::invalid_argument, "message {}: a key is given twice ({})", i, e.what());
    }
  }
  return out;
}

std::vector<detail::chat_message> read_messages(const dianoia_chat_message* msgs, size_t n) {
  if (n && !msgs) fail(errc::invalid_argument, "messages is NULL");
  if (n > (size_t{1} << 20)) fail(errc::invalid_argument, "{} messages is too many", n);
  std::vector<detail::chat_message> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(read_message(msgs[i], i));
  return out;
}

std::string read_kwargs(const char* json) {
  if (!json) return {};
  const std::string_view v(json);
  return std::string(text_arg(v.data(), v.size(), "chat_template_kwargs"));
}

}  // namespace dianoia::capi
