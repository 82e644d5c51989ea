#include "runtime/tool_calls.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/json.hpp"

namespace dianoia::detail {

namespace {

constexpr std::string_view k_hermes_open = "<tool_call>";
constexpr std::string_view k_hermes_close = "</tool_call>";
constexpr std::string_view k_ds_calls_begin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view k_ds_calls_end = "<｜tool▁calls▁end｜>";
constexpr std::string_view k_ds_call_begin = "<｜tool▁call▁begin｜>";
constexpr std::string_view k_ds_call_end = "<｜tool▁call▁end｜>";
constexpr std::string_view k_ds_sep = "<｜tool▁sep｜>";
constexpr std::string_view k_python_tag = "<|python_tag|>";
constexpr std::string_view k_json_fence = "```json";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}
size_t leading_space(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// Bytes at the end of s that may still grow into `marker` (a proper prefix of it), with the whitespace
// before them: all of it is held back, since the whitespace before a call is dropped.
size_t held_tail(std::string_view s, std::string_view marker) {
  size_t keep = 0;
  for (size_t n = std::min(s.size(), marker.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == marker.substr(0, n)) {
      keep = n;
      break;
    }
  while (keep < s.size() && is_space(s[s.size() - keep - 1])) ++keep;
  return keep;
}

void dump(const json_value& v, std::string& out) {
  switch (v.type()) {
    case json_type::null: out += "null"; return;
    case json_type::boolean: out += v.as_bool() ? "true" : "false"; return;
    case json_type::integer: out += std::to_string(v.as_int()); return;
    case json_type::real: out += fmt::format("{}", v.as_double()); return;
    case json_type::string: out += json_quote(v.as_string()); return;
    case json_type::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (!first) out += ',';
        first = false;
        dump(e, out);
      }
      out += ']';
      return;
    }
    case json_type::object: {
      out += '{';
      bool first = true;
      for (const auto& m : v.as_object()) {
        if (!first) out += ',';
        first = false;
        out += json_quote(m.key);
        out += ':';
        dump(m.value, out);
      }
      out += '}';
      return;
    }
  }
}

std::optional<json_value> parse(std::string_view text) {
  try {
    return json_parse(text);
  } catch (const error&) {
    return std::nullopt;
  }
}

// Arguments as a compact JSON object: an object, or a string holding one; nullopt otherwise.
std::optional<std::string> arguments_of(const json_value* v) {
  if (!v) return std::string("{}");
  if (v->is_string()) {
    auto inner = parse(v->as_string());
    if (!inner) return std::nullopt;
    return arguments_of(&*inner);
  }
  if (!v->is_object()) return std::nullopt;
  std::string out;
  dump(*v, out);
  return out;
}

}  // namespace

std::string_view tool_syntax_name(tool_syntax s) {
  switch (s) {
    case tool_syntax::hermes: return "hermes";
    case tool_syntax::deepseek: return "deepseek";
    case tool_syntax::llama3: return "llama3";
    default: return "none";
  }
}

std::optional<tool_syntax> tool_syntax_from_name(std::string_view name) {
  for (auto s : {tool_syntax::none, tool_syntax::hermes, tool_syntax::deepseek, tool_syntax::llama3})
    if (name == tool_syntax_name(s)) return s;
  return std::nullopt;
}

tool_syntax detect_tool_syntax(std::string_view t) {
  if (t.find(k_hermes_open) != std::string_view::npos) return tool_syntax::hermes;
  if (t.find(k_ds_calls_begin) != std::string_view::npos) return tool_syntax::deepseek;
  // Llama 3.1+: tool results come back in the "ipython" role.
  if (t.find("ipython") != std::string_view::npos || t.find(k_python_tag) != std::string_view::npos)
    return tool_syntax::llama3;
  return tool_syntax::none;
}

std::vector<std::string> tool_syntax_markers(tool_syntax s) {
  switch (s) {
    case tool_syntax::hermes: return {std::string(k_hermes_open), std::string(k_hermes_close)};
    case tool_syntax::deepseek:
      return {std::string(k_ds_calls_begin), std::string(k_ds_calls_end), std::string(k_ds_call_begin),
              std::string(k_ds_call_end), std::string(k_ds_sep)};
    case tool_syntax::llama3: return {std::string(k_python_tag)};
    default: return {};
  }
}

tool_call_parser::tool_call_parser(tool_syntax s, uint32_t first_index) : syntax_(s), first_(first_index) {}

void tool_call_parser::text(std::string_view t, std::vector<tool_piece>& out) {
  if (t.empty()) return;
  if (!out.empty() && !out.back().is_call)
    out.back().text += t;
  else
    out.push_back({false, std::string(t), {}});
}

void tool_call_parser::emit_call(std::optional<tool_call> c, std::string_view raw, std::vector<tool_piece>& out) {
  if (!c) {
    text(raw, out);
    return;
  }
  c->id = "call_" + std::to_string(first_ + n_calls_++);
  out.push_back({true, {}, std::move(*c)});
}

std::optional<tool_call> tool_call_parser::read_json_call(std::string_view body) {
  auto v = parse(trim(body));
  if (!v || !v->is_object()) return std::nullopt;
  const json_value* name = v->find("name");
  if (!name || !name->is_string() || name->as_string().empty()) return std::nullopt;
  const json_value* args = v->find("arguments");
  if (!args) args = v->find("parameters");
  auto a = arguments_of(args);
  if (!a) return std::nullopt;
  return tool_call{{}, name->as_string(), std::move(*a)};
}

std::optional<tool_call> tool_call_parser::read_deepseek_call(std::string_view body) {
  const size_t sep = body.find(k_ds_sep);
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view left = trim(body.substr(0, sep)), right = body.substr(sep + k_ds_sep.size());
  std::string_view name = left, args = right;
  if (left == "function") {  // R1 / V3: type, then the name on its own line, then fenced JSON
    const size_t nl = right.find('\n');
    name = right.substr(0, nl);
    args = nl == std::string_view::npos ? std::string_view() : right.substr(nl + 1);
  }
  name = trim(name);
  args = trim(args);
  if (args.starts_with("```")) {
    args.remove_prefix(3);
    if (args.starts_with("json")) args.remove_prefix(4);
    if (args.ends_with("```")) args.remove_suffix(3);
  }
  if (name.empty()) return std::nullopt;
  auto v = parse(trim(args));
  if (!v) return std::nullopt;
  auto a = arguments_of(&*v);
  if (!a) return std::nullopt;
  return tool_call{{}, std::string(name), std::move(*a)};
}

// Outside a call: give out text up to the next call's marker (returns true, the call is entered) or up to
// what may still become one (returns false: wait for more).
bool tool_call_parser::scan_outside(std::vector<tool_piece>& out, bool at_end) {
  if (after_call_) {
    buf_.erase(0, leading_space(buf_));
    if (buf_.empty()) return false;
    after_call_ = false;
  }
  const std::string_view open = syntax_ == tool_syntax::hermes ? k_hermes_open : k_ds_calls_begin;
  const size_t at = buf_.find(open);
  if (at != std::string::npos) {
    // Whitespace right before the call goes with it (held_tail kept it back until now).
    std::string_view before(buf_.data(), at);
    while (!before.empty() && is_space(before.back())) before.remove_suffix(1);
    text(before, out);
    buf_.erase(0, at + open.size());
    inside_ = true;
    return true;
  }
  const size_t keep = at_end ? 0 : held_tail(buf_, open);
  text(std::string_view(buf_).substr(0, buf_.size() - keep), out);
  buf_.erase(0, buf_.size() - keep);
  return false;
}

// Inside a call (hermes) or a block of calls (deepseek): read what is complete.
bool tool_call_parser::scan_inside(std::vector<tool_piece>& out, bool at_end) {
  if (syntax_ == tool_syntax::hermes) {
    const size_t at = buf_.find(k_hermes_close);
    if (at == std::string::npos && !at_end) return false;
    const std::string_view body = std::string_view(buf_).substr(0, at == std::string::npos ? buf_.size() : at);
    std::string raw = std::string(k_hermes_open) + std::string(body);
    if (at != std::string::npos) raw += k_hermes_close;
    emit_call(read_json_call(body), raw, out);
    buf_.erase(0, at == std::string::npos ? buf_.size() : at + k_hermes_close.size());
    inside_ = false;
    after_call_ = true;
    return true;
  }
  // deepseek: calls one by one, as each completes, until the end of the block.
  for (;;) {
    buf_.erase(0, leading_space(buf_));
    const std::string_view b = buf_;
    if (b.starts_with(k_ds_calls_end)) {
      buf_.erase(0, k_ds_calls_end.size());
      inside_ = false;
      after_call_ = true;
      return true;
    }
    if (b.starts_with(k_ds_call_begin)) {
      const size_t end = b.find(k_ds_call_end);
      if (end == std::string_view::npos && !at_end) return false;
      const std::string_view body =
          b.substr(k_ds_call_begin.size(), end == std::string_view::npos ? std::string_view::npos : end - k_ds_call_begin.size());
      std::string raw(b.substr(0, end == std::string_view::npos ? b.size() : end + k_ds_call_end.size()));
      emit_call(read_deepseek_call(body), raw, out);
      buf_.erase(0, raw.size());
      continue;
    }
    if (b.empty() || (!at_end && (k_ds_call_begin.starts_with(b) || k_ds_calls_end.starts_with(b)))) {
      if (at_end) inside_ = false;
      return false;
    }
    // Something else inside the block: it is text, up to the next marker.
    const size_t next = std::min(b.find(k_ds_call_begin), b.find(k_ds_calls_end));
    if (next == std::string_view::npos && !at_end) return false;
    text(b.substr(0, next), out);
    buf_.erase(0, next == std::string_view::npos ? buf_.size() : next);
  }
}

void tool_call_parser::scan(std::vector<tool_piece>& out, bool at_end) {
  if (syntax_ == tool_syntax::none) {
    text(buf_, out);
    buf_.clear();
    return;
  }
  if (syntax_ == tool_syntax::llama3 || (syntax_ == tool_syntax::hermes && (!decided_ || whole_))) {
    // Llama 3: the answer is either one call (it starts with '{' or the python tag) or plain text.
    // Hermes models may skip the tags and answer with the bare call, or the call in a ```json fence
    // (Qwen2.5-Coder does): such an answer is held to the end and read as one call if it is one.
    if (!decided_) {
      const std::string_view b = std::string_view(buf_).substr(leading_space(buf_));
      const std::string_view lead = syntax_ == tool_syntax::llama3 ? k_python_tag : k_json_fence;
      if (b.empty() || (!at_end && lead.starts_with(b) && b.size() < lead.size())) {
        if (at_end) text(buf_, out), buf_.clear();
        return;
      }
      decided_ = true;
      whole_ = b.starts_with('{') || b.starts_with(lead);
    }
    if (whole_) {
      if (!at_end) return;
      std::string_view b = trim(buf_);
      if (b.starts_with(k_python_tag)) b.remove_prefix(k_python_tag.size());
      if (b.starts_with(k_json_fence) && b.ends_with("```")) b = b.substr(k_json_fence.size(), b.size() - k_json_fence.size() - 3);
      emit_call(read_json_call(b), buf_, out);
      buf_.clear();
      return;
    }
    if (syntax_ == tool_syntax::llama3) {
      text(buf_, out);
      buf_.clear();
      return;
    }
  }
  while (inside_ ? scan_inside(out, at_end) : scan_outside(out, at_end)) {
  }
  if (at_end && !buf_.empty()) {
    text(buf_, out);
    buf_.clear();
  }
}

void tool_call_parser::feed(std::string_view t, std::vector<tool_piece>& out) {
  buf_ += t;
  scan(out, false);
}

void tool_call_parser::finish(std::vector<tool_piece>& out) {
  scan(out, true);
  if (inside_ && !buf_.empty()) scan(out, true);
}

}  // namespace dianoia::detail
