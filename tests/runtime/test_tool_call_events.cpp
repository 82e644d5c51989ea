// Tool calls through the decode loop on scripted models: cut out of the answer as calls (Hermes in plain
// text split over tokens, DeepSeek's markers as control tokens), never in the content, thoughts left
// alone; and a conversation that offers tools, records the call, takes the result back and answers.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/conversation.hpp"
#include "runtime/scripted_model.hpp"
#include "runtime/session.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
using namespace dianoia::detail::testing;

namespace {

struct outcome {
  std::string reasoning, content;
  std::vector<tool_call> calls;
  std::string order;  // 'r', 'c' text chunks and 'T' calls, in delivery order
  generation_stats st;
};

outcome run(const model& m, const test_vocab& v, const std::vector<int32_t>& prompt, tool_syntax syn,
            bool with_sink = true) {
  session s(m, *v.tok, 4096, 1);
  generate_options opt;
  opt.sampling.temperature = 0;
  opt.tool_calls = syn;
  outcome r;
  auto text = [&](channel ch, std::string_view t) {
    (ch == channel::reasoning ? r.reasoning : r.content) += t;
    r.order += ch == channel::reasoning ? 'r' : 'c';
    return true;
  };
  auto call = [&](const tool_call& c) {
    r.calls.push_back(c);
    r.order += 'T';
    return true;
  };
  r.st = s.generate(prompt, opt, text, true, {}, with_sink ? tool_sink(call) : tool_sink());
  return r;
}

std::vector<int32_t> cat(std::initializer_list<std::vector<int32_t>> parts) {
  std::vector<int32_t> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("tool call events: hermes after a thought, split over byte tokens, never in the content") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  const std::string call = "\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"<tool_call>\"}}\n</tool_call>";
  m.script = cat({v.bytes("check <tool_call> weather"), {v.end_think}, v.bytes("Let me look."), v.bytes(call)});
  const auto prompt = cat({v.bytes("Q"), {v.think}});
  const auto r = run(m, v, prompt, tool_syntax::hermes);
  CHECK(r.reasoning == "check <tool_call> weather");  // a thought is never parsed for calls
  CHECK(r.content == "Let me look.");
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].id == "call_0");
  CHECK(r.calls[0].name == "get_weather");
  CHECK(r.calls[0].arguments == R"({"city":"<tool_call>"})");
  CHECK(r.st.tool_calls == 1);
  CHECK(r.st.stop == stop_reason::eos);
  CHECK(r.order.back() == 'T');
  // Without a tool sink the text stays as it was.
  m.calls = 0;  // replay the script
  const auto plain = run(m, v, prompt, tool_syntax::hermes, false);
  CHECK(plain.content == "Let me look." + call);
  CHECK(plain.calls.empty());
}

TEST_CASE("tool call events: deepseek markers as control tokens are rendered for the parser only") {
  const std::vector<std::string> markers = {"<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>",
                                            "<｜tool▁call▁end｜>", "<｜tool▁calls▁end｜>"};
  test_vocab v(markers);
  auto id = [&](size_t k) { return static_cast<int32_t>(v.tok->n_vocab() - markers.size() + k); };
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = cat({v.bytes("think"), {v.end_think}, v.bytes("Sure."), {id(0), id(1)}, v.bytes("function"), {id(2)},
                  v.bytes("add\n```json\n{\"a\": 1, \"b\": 2}\n```"), {id(3), id(1)}, v.bytes("function"), {id(2)},
                  v.bytes("mul\n```json\n{\"a\": 3}\n```"), {id(3), id(4)}});
  const auto r = run(m, v, cat({v.bytes("Q"), {v.think}}), tool_syntax::deepseek);
  CHECK(r.reasoning == "think");
  CHECK(r.content == "Sure.");
  REQUIRE(r.calls.size() == 2);
  CHECK(r.calls[0].name == "add");
  CHECK(r.calls[0].arguments == R"({"a":1,"b":2})");
  CHECK(r.calls[1].id == "call_1");
  CHECK(r.calls[1].name == "mul");
  CHECK(r.order.ends_with("cTT"));
  CHECK(r.order.find('T') == r.order.size() - 2);
}

TEST_CASE("tool call events: a llama3 JSON answer is a call; a sink that refuses a call stops") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = v.bytes("{\"name\": \"now\", \"parameters\": {\"tz\": \"UTC\"}}");
  auto r = run(m, v, v.bytes("Q"), tool_syntax::llama3);
  CHECK(r.content.empty());
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].arguments == R"({"tz":"UTC"})");

  scripted_model m2(v.tok->n_vocab(), v.eos);
  m2.script = v.bytes("<tool_call>{\"name\": \"a\"}</tool_call>then more text");
  session s(m2, *v.tok, 4096, 1);
  generate_options opt;
  opt.sampling.temperature = 0;
  opt.tool_calls = tool_syntax::hermes;
  std::string content;
  const auto st = s.generate(v.bytes("Q"), opt, [&](channel, std::string_view t) { content += t; return true; }, true,
                             {}, [](const tool_call&) { return false; });
  CHECK(st.stop == stop_reason::callback);
  CHECK(content.empty());
}

TEST_CASE("conversation with tools: Qwen2.5's template, the call recorded, the result taken back") {
  const std::string tmpl = read_file(dianoia::test::data_dir() + "/chat_templates/Qwen-Qwen2.5-7B-Instruct.jinja");
  if (tmpl.empty()) {
    MESSAGE("shared chat template missing: skipped");
    return;
  }
  test_vocab v;
  context_model m(v.tok->n_vocab());
  // Calls the tool until a result is in the prompt, then answers with it.
  m.next = [&v](const std::vector<int32_t>& ctx, float* l) {
    std::string text;
    for (int32_t t : ctx) text += v.tok->token_bytes(t, true);
    const size_t gen = text.rfind("<|im_start|>assistant\n");
    const std::string out = text.substr(gen + 22);
    const bool has_result = text.find("<tool_response>\n18C\n</tool_response>") != std::string::npos;
    const std::string want =
        has_result ? "It is 18C." : "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
    if (out.size() < want.size())
      l[static_cast<unsigned char>(want[out.size()])] = 10;
    else
      l[v.eos] = 10;
  };
  session s(m, *v.tok, 4096, 1);
  conversation c(s, *v.tok, tmpl);
  c.set_tools(R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])");
  CHECK(c.syntax() == tool_syntax::hermes);
  CHECK(c.render(true).find("# Tools") != std::string::npos);
  generate_options opt;
  opt.sampling.temperature = 0;
  std::string content;
  std::vector<tool_call> calls;
  auto text = [&](channel, std::string_view t) { content += t; return true; };
  auto tools = [&](const tool_call& tc) { calls.push_back(tc); return true; };
  c.send("Weather in Paris?", opt, text, {}, tools);
  CHECK(content.empty());
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].name == "get_weather");
  CHECK(calls[0].arguments == R"({"city":"Paris"})");
  REQUIRE(c.messages().size() == 2);
  CHECK(c.messages()[1].extra_json.find("\"tool_calls\"") != std::string::npos);
  c.add_tool_result(calls[0].id, "get_weather", "18C");
  // The template shows the call as the model wrote it, then the result.
  const std::string prompt = c.render(true);
  CHECK(prompt.find("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                    "</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n18C\n</tool_response><|im_end|>") !=
        std::string::npos);
  content.clear();
  const auto st = c.reply(opt, text, {}, tools);
  CHECK(content == "It is 18C.");
  CHECK(calls.size() == 1);
  CHECK(st.tool_calls == 0);
  CHECK(c.messages().size() == 4);
  // Saved and restored with the calls; ids go on from there.
  conversation c2(s, *v.tok, tmpl);
  c2.restore_messages(c.messages_json());
  REQUIRE(c2.messages().size() == 4);
  CHECK(c2.messages()[1].extra_json == c.messages()[1].extra_json);
  CHECK(c2.messages()[2].extra_json == c.messages()[2].extra_json);
  CHECK_THROWS(c.set_tools("{not json"));
  CHECK_THROWS(c.set_tools("{}"));
}
