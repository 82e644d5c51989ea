// The streaming tool-call parser on each syntax: calls cut out of the answer whole, whatever the split of
// the text, never leaking into it; unreadable calls given back as text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/tool_calls.hpp"

using namespace dianoia::detail;

namespace {

struct parsed {
  std::string text;
  std::vector<tool_call> calls;
  std::string order;  // 't' for text, 'c' for a call, in output order (adjacent text merged)
};

parsed parse_pieces(tool_syntax s, const std::vector<std::string>& pieces) {
  tool_call_parser p(s);
  std::vector<tool_piece> out;
  for (const auto& x : pieces) p.feed(x, out);
  p.finish(out);
  parsed r;
  for (const auto& o : out) {
    if (o.is_call) {
      r.calls.push_back(o.call);
      r.order += 'c';
    } else {
      CHECK_FALSE(o.text.empty());
      r.text += o.text;
      if (r.order.empty() || r.order.back() != 't') r.order += 't';
    }
  }
  return r;
}

// Every split of `text` into two pieces, and byte by byte (whole characters are the parser's input, but
// the markers are ASCII or whole characters too, so bytes exercise every held prefix).
std::vector<std::vector<std::string>> splits(const std::string& text) {
  std::vector<std::vector<std::string>> out{{text}};
  for (size_t i = 1; i < text.size(); ++i) out.push_back({text.substr(0, i), text.substr(i)});
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  out.push_back(bytes);
  return out;
}

void check_all_splits(tool_syntax s, const std::string& text, const std::string& want_text,
                      const std::vector<tool_call>& want_calls) {
  for (const auto& sp : splits(text)) {
    const auto r = parse_pieces(s, sp);
    CAPTURE(sp.size());
    CHECK(r.text == want_text);
    REQUIRE(r.calls.size() == want_calls.size());
    for (size_t i = 0; i < want_calls.size(); ++i) {
      CHECK(r.calls[i].id == want_calls[i].id);
      CHECK(r.calls[i].name == want_calls[i].name);
      CHECK(r.calls[i].arguments == want_calls[i].arguments);
    }
  }
}

}  // namespace

TEST_CASE("tool calls: hermes, two calls after some text, at every split") {
  const std::string text =
      "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n"
      "</tool_call>\n<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>";
  check_all_splits(tool_syntax::hermes, text, "Let me check.",
                   {{"call_0", "get_weather", R"({"city":"Paris","days":2})"}, {"call_1", "now", "{}"}});
}

TEST_CASE("tool calls: hermes text after a call, near-miss markers stay text, arguments as a string") {
  check_all_splits(tool_syntax::hermes,
                   "<tool_call>{\"name\":\"f\",\"arguments\":\"{\\\"x\\\": [1, 2.5, null, true]}\"}</tool_call>\n\nDone <tool <b>",
                   "Done <tool <b>", {{"call_0", "f", R"({"x":[1,2.5,null,true]})"}});
  const auto r = parse_pieces(tool_syntax::hermes, {"a < b and <tool_", "cal> x\n"});
  CHECK(r.text == "a < b and <tool_cal> x\n");
  CHECK(r.calls.empty());
}

TEST_CASE("tool calls: hermes calls that cannot be read come back as text") {
  auto r = parse_pieces(tool_syntax::hermes, {"<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>"});
  CHECK(r.calls.empty());
  CHECK(r.text == "<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>");
  r = parse_pieces(tool_syntax::hermes, {"x <tool_call>{\"arguments\": {}}</tool_call>"});
  CHECK(r.calls.empty());
  CHECK(r.text == "x<tool_call>{\"arguments\": {}}</tool_call>");
  // Unterminated at the end (max_tokens): read if complete JSON, else given back.
  r = parse_pieces(tool_syntax::hermes, {"<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n"});
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].arguments == R"({"a":1})");
  r = parse_pieces(tool_syntax::hermes, {"<tool_call>\n{\"name\": \"f\", \"argu"});
  CHECK(r.calls.empty());
  CHECK(r.text == "<tool_call>\n{\"name\": \"f\", \"argu");
}

TEST_CASE("tool calls: deepseek R1/V3 block with two calls, and the V3.1 form") {
  const std::string r1 =
      "I will look it up.\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
      "{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>now\n```json\n{}\n```"
      "<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  check_all_splits(tool_syntax::deepseek, r1, "I will look it up.",
                   {{"call_0", "get_weather", R"({"city":"Paris"})"}, {"call_1", "now", "{}"}});
  check_all_splits(tool_syntax::deepseek,
                   "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>search<｜tool▁sep｜>{\"q\": \"x\"}<｜tool▁call▁end｜>"
                   "<｜tool▁calls▁end｜> ok",
                   "ok", {{"call_0", "search", R"({"q":"x"})"}});
}

TEST_CASE("tool calls: llama3 JSON answers are calls, other answers pass through") {
  check_all_splits(tool_syntax::llama3, "  {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}", "",
                   {{"call_0", "get_weather", R"({"city":"Oslo"})"}});
  check_all_splits(tool_syntax::llama3, "<|python_tag|>{\"name\": \"f\", \"parameters\": {}}", "", {{"call_0", "f", "{}"}});
  check_all_splits(tool_syntax::llama3, "The answer is {x}.", "The answer is {x}.", {});
  check_all_splits(tool_syntax::llama3, "{not json", "{not json", {});
}

TEST_CASE("tool calls: no syntax passes everything; detection from templates; ids count on") {
  check_all_splits(tool_syntax::none, "<tool_call>{\"name\":\"f\"}</tool_call>", "<tool_call>{\"name\":\"f\"}</tool_call>", {});
  CHECK(detect_tool_syntax("... <tool_call> ...") == tool_syntax::hermes);
  CHECK(detect_tool_syntax("{{'<｜tool▁calls▁begin｜>'}}") == tool_syntax::deepseek);
  CHECK(detect_tool_syntax("<|start_header_id|>ipython<|end_header_id|>") == tool_syntax::llama3);
  CHECK(detect_tool_syntax("{{ messages }}") == tool_syntax::none);
  CHECK(tool_syntax_from_name("deepseek") == tool_syntax::deepseek);
  CHECK_FALSE(tool_syntax_from_name("xml"));
  tool_call_parser p(tool_syntax::hermes, 7);
  std::vector<tool_piece> out;
  p.feed("<tool_call>{\"name\":\"f\"}</tool_call>", out);
  p.finish(out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].call.id == "call_7");
  CHECK(out[0].call.arguments == "{}");
  CHECK(p.calls() == 1);
}

TEST_CASE("tool calls: hermes answers that are a bare or fenced call (Qwen2.5-Coder's habit)") {
  check_all_splits(tool_syntax::hermes, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}", "",
                   {{"call_0", "get_weather", R"({"city":"Paris"})"}});
  check_all_splits(tool_syntax::hermes, "```json\n{\n  \"name\": \"f\",\n  \"arguments\": {\"a\": 1}\n}\n```\n", "",
                   {{"call_0", "f", R"({"a":1})"}});
  // JSON or code that is not a call stays text; so does prose, streamed as it comes.
  check_all_splits(tool_syntax::hermes, "{\"a\": 1}", "{\"a\": 1}", {});
  check_all_splits(tool_syntax::hermes, "```json\n[1, 2]\n```", "```json\n[1, 2]\n```", {});
  check_all_splits(tool_syntax::hermes, "```python\nprint(1)\n```", "```python\nprint(1)\n```", {});
  tool_call_parser p(tool_syntax::hermes);
  std::vector<tool_piece> out;
  p.feed("Sunny", out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].text == "Sunny");
}
