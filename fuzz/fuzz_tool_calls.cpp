// The streaming tool-call parser (lib/runtime/tool_calls.hpp). Input: a byte choosing the syntax, a
// byte choosing how the text is cut into pieces, then the answer text. Beyond "no crash":
//  - the pieces do not depend on the cut (the parser must give the same calls and text however the
//    stream arrives, at UTF-8 character boundaries);
//  - every call has a name, an id counting up from the first index, and arguments that are a JSON object;
//  - adjacent text pieces are merged, and a text piece is never empty.
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/utf8.hpp"
#include "fuzz_common.hpp"
#include "runtime/tool_calls.hpp"

namespace {

using dianoia::detail::tool_call_parser;
using dianoia::detail::tool_piece;
using dianoia::detail::tool_syntax;
using dianoia::fuzz::violated;

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Feeds `text` in pieces of 1..8 bytes (pattern from `cut`; never inside a character), then finishes.
std::vector<tool_piece> parse(tool_syntax s, std::string_view text, unsigned cut) {
  tool_call_parser p(s, 3);
  std::vector<tool_piece> out;
  size_t at = 0;
  unsigned k = cut;
  while (at < text.size()) {
    size_t n = cut == 0 ? text.size() : 1 + (k % 8);
    k = k * 1103515245u + 12345u;
    size_t end = std::min(text.size(), at + n);
    while (end < text.size() && continuation(text[end])) ++end;
    p.feed(text.substr(at, end - at), out);
    at = end;
  }
  p.finish(out);
  return out;
}

// Adjacent text pieces merged: the comparison ignores how text was grouped.
std::vector<tool_piece> normalized(const std::vector<tool_piece>& in) {
  std::vector<tool_piece> out;
  for (const auto& p : in) {
    if (!p.is_call && !out.empty() && !out.back().is_call) {
      out.back().text += p.text;
      continue;
    }
    out.push_back(p);
  }
  return out;
}

bool same(const std::vector<tool_piece>& a, const std::vector<tool_piece>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_call != b[i].is_call) return false;
    if (a[i].is_call ? (a[i].call.id != b[i].call.id || a[i].call.name != b[i].call.name ||
                        a[i].call.arguments != b[i].call.arguments)
                     : a[i].text != b[i].text)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const tool_syntax syntax[] = {tool_syntax::hermes, tool_syntax::deepseek, tool_syntax::llama3};
  const tool_syntax s = syntax[data[0] % 3];
  const unsigned cut = data[1];
  const std::string_view text = dianoia::fuzz::as_text(data + 2, size - 2);
  // The decode loop hands the parser whole UTF-8 characters of valid text only.
  if (!dianoia::detail::utf8_valid(text)) return 0;

  std::vector<tool_piece> whole, pieces;
  dianoia::fuzz::expect_ok([&] { whole = normalized(parse(s, text, 0)); });
  if (!dianoia::fuzz::expect_ok([&] { pieces = normalized(parse(s, text, cut | 1u)); })) return 0;
  if (!same(whole, pieces)) violated("tool calls: the result depends on how the text was cut");

  uint32_t next_id = 3;
  for (const auto& p : pieces) {
    if (!p.is_call) {
      if (p.text.empty()) violated("tool calls: an empty text piece");
      continue;
    }
    if (p.call.name.empty()) violated("tool calls: a call without a name");
    if (p.call.id != "call_" + std::to_string(next_id++)) violated("tool calls: ids do not count up");
    dianoia::detail::json_value args;
    if (!dianoia::fuzz::expect_ok([&] { args = dianoia::detail::json_parse(p.call.arguments); }) ||
        !args.is_object())
      violated("tool calls: arguments are not a JSON object");
  }
  return 0;
}
