// dianoia serve's request parser and response writer on scripted events, with no model: the shapes of
// OpenAI's tool calling (message.tool_calls, finish_reason "tool_calls", streamed delta.tool_calls) and the
// tool fields of requests. The same paths on a real tool-trained model: tests/serve/serve_tools_test.py.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "serve_generate.hpp"
#include "serve_request.hpp"

namespace {

using json = nlohmann::json;

const char* k_tools = R"([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}])";

cli::gen_request request(const std::string& body) {
  auto parsed = cli::parse_request(cli::endpoint::chat, body, cli::serve_limits());
  if (auto* e = std::get_if<cli::api_error>(&parsed)) FAIL("refused: " << e->message);
  return std::get<cli::gen_request>(parsed);
}

std::string refusal(const std::string& body) {
  auto parsed = cli::parse_request(cli::endpoint::chat, body, cli::serve_limits());
  auto* e = std::get_if<cli::api_error>(&parsed);
  return e ? e->param + ": " + e->message : "accepted";
}

// Plays a generation's events into a writer: text pieces, tool calls, then DONE with `stop`. Returns
// what the writer sent and records whether it asked to stop.
struct script {
  std::vector<std::pair<std::string, std::string>> calls;  // name, arguments
  std::string content;
  dianoia_stop_reason stop = DIANOIA_STOP_EOS;
};

std::string play(const cli::gen_request& r, const script& sc, bool* stopped = nullptr) {
  cli::gen_context ctx;
  ctx.model = nullptr;
  ctx.model_id = "m";
  ctx.id = "chatcmpl-1";
  ctx.tool_call_prefix = "call_abc_";
  std::string out;
  cli::body_writer write = [&out](std::string_view s) {
    out += s;
    return true;
  };
  cli::response_writer w(r, ctx, write);
  bool go = true;
  auto send = [&](dianoia_event e, std::string_view text = {}) {
    e.struct_size = sizeof e;
    return w.on_event(dianoia::event{e.type, text, &e});
  };
  if (!sc.content.empty()) {
    dianoia_event e{};
    e.type = DIANOIA_EVENT_CONTENT;
    e.text = sc.content.data();
    e.text_len = sc.content.size();
    go = send(e, sc.content);
  }
  for (size_t i = 0; i < sc.calls.size() && go; ++i) {
    dianoia_event e{};
    e.type = DIANOIA_EVENT_TOOL_CALL;
    const std::string id = "call_" + std::to_string(i);
    e.tool_call_id = id.c_str(), e.tool_call_id_len = id.size();
    e.tool_name = sc.calls[i].first.c_str(), e.tool_name_len = sc.calls[i].first.size();
    e.tool_arguments = sc.calls[i].second.c_str(), e.tool_arguments_len = sc.calls[i].second.size();
    go = send(e);
  }
  if (stopped) *stopped = !go;
  dianoia_event done{};
  done.type = DIANOIA_EVENT_DONE;
  done.stop_reason = go ? sc.stop : DIANOIA_STOP_CALLBACK;
  done.prompt_tokens = 10;
  done.content_tokens = 5;
  send(done);
  w.finish();
  return out;
}

std::vector<json> chunks(const std::string& sse) {
  std::vector<json> out;
  size_t pos = 0;
  while ((pos = sse.find("data: ", pos)) != std::string::npos) {
    const size_t end = sse.find("\n\n", pos);
    const std::string payload = sse.substr(pos + 6, end - pos - 6);
    pos = end;
    if (payload == "[DONE]") break;
    out.push_back(json::parse(payload));
  }
  return out;
}

const script k_one_call = {{{"get_weather", R"({"city":"Paris"})"}}, "", DIANOIA_STOP_EOS};

}  // namespace

TEST_CASE("serve writer: an answer of one tool call is message.tool_calls with finish_reason tool_calls") {
  const auto r = request(std::string(R"({"messages": [{"role": "user", "content": "weather?"}], "tools": )") + k_tools + "}");
  const json out = json::parse(play(r, k_one_call));
  const json& choice = out["choices"][0];
  CHECK(choice["finish_reason"] == "tool_calls");
  CHECK(choice["message"]["content"].is_null());
  REQUIRE(choice["message"]["tool_calls"].size() == 1);
  const json& call = choice["message"]["tool_calls"][0];
  CHECK(call["id"] == "call_abc_0");  // the server's own id, not the library's per-generation "call_0"
  CHECK(call["type"] == "function");
  CHECK(call["function"]["name"] == "get_weather");
  CHECK(call["function"]["arguments"] == R"({"city":"Paris"})");  // a string of JSON, as OpenAI sends it
  CHECK_FALSE(call.contains("index"));
}

TEST_CASE("serve writer: text and two calls keep the text as content; streamed as delta.tool_calls by index") {
  auto r = request(std::string(R"({"messages": [{"role": "user", "content": "x"}], "stream": true, "tools": )") + k_tools + "}");
  const script sc = {{{"get_weather", R"({"city":"Paris"})"}, {"get_weather", R"({"city":"Rome"})"}}, "Checking.", DIANOIA_STOP_EOS};
  const std::string sse = play(r, sc);
  CHECK(sse.size() >= 14);
  CHECK(sse.substr(sse.size() - 14) == "data: [DONE]\n\n");
  const auto cs = chunks(sse);
  REQUIRE(cs.size() == 4);  // content, call 0, call 1, finish
  CHECK(cs[0]["choices"][0]["delta"]["content"] == "Checking.");
  CHECK(cs[0]["choices"][0]["delta"]["role"] == "assistant");
  for (int i = 0; i < 2; ++i) {
    const json& d = cs[1 + i]["choices"][0]["delta"];
    CHECK_FALSE(d.contains("role"));  // the role went out with the first delta
    REQUIRE(d["tool_calls"].size() == 1);
    CHECK(d["tool_calls"][0]["index"] == i);
    CHECK(d["tool_calls"][0]["id"] == "call_abc_" + std::to_string(i));
    CHECK(d["tool_calls"][0]["function"]["name"] == "get_weather");
  }
  CHECK(cs[2]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] == R"({"city":"Rome"})");
  CHECK(cs[3]["choices"][0]["finish_reason"] == "tool_calls");

  r.stream = false;
  const json out = json::parse(play(r, sc));
  CHECK(out["choices"][0]["message"]["content"] == "Checking.");
  CHECK(out["choices"][0]["message"]["tool_calls"].size() == 2);
}

TEST_CASE("serve writer: a call's first stream chunk carries the role; parallel_tool_calls=false stops after one") {
  auto r = request(std::string(R"({"messages": [{"role": "user", "content": "x"}], "stream": true,
                                   "parallel_tool_calls": false, "tools": )") + k_tools + "}");
  const script two = {{{"a", "{}"}, {"b", "{}"}}, "", DIANOIA_STOP_EOS};
  bool stopped = false;
  const auto cs = chunks(play(r, two, &stopped));
  CHECK(stopped);  // the writer asked the generation to end after the first call
  REQUIRE(cs.size() == 2);
  const json& d = cs[0]["choices"][0]["delta"];
  CHECK(d["role"] == "assistant");
  CHECK(d["content"].is_null());
  CHECK(d["tool_calls"][0]["function"]["name"] == "a");
  CHECK(cs[1]["choices"][0]["finish_reason"] == "tool_calls");  // not "cancelled": the server ended it
}

TEST_CASE("serve writer: a call cut by max_tokens reports length") {
  const auto r = request(std::string(R"({"messages": [{"role": "user", "content": "x"}], "tools": )") + k_tools + "}");
  script cut = k_one_call;
  cut.stop = DIANOIA_STOP_MAX_TOKENS;
  CHECK(json::parse(play(r, cut))["choices"][0]["finish_reason"] == "length");
}

TEST_CASE("serve request: tool fields of a round trip's history reach the messages") {
  const auto r = request(R"({"messages": [
      {"role": "user", "content": "weather in Paris?"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_7", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "call_7", "content": "18 C"}],
    "tools": [{"type": "function", "function": {"name": "get_weather"}}], "tool_choice": "auto"})");
  REQUIRE(r.messages.size() == 3);
  REQUIRE(r.messages[1].tool_calls.size() == 1);
  CHECK(r.messages[1].tool_calls[0].id == "call_7");
  CHECK(r.messages[1].tool_calls[0].arguments == R"({"city": "Paris"})");
  CHECK(r.messages[1].content.empty());
  CHECK(r.messages[2].tool_call_id == "call_7");
  CHECK(r.messages[2].name == "get_weather");  // filled from the call it answers, for templates that show it
  CHECK(json::parse(r.tools_json).size() == 1);
  CHECK_FALSE(r.tool_choice_none);
  CHECK(request(R"({"messages": [{"role": "user", "content": "x"}], "tools": [], "tool_choice": "none"})").tool_choice_none);
  // Arguments given as an object are taken too (some clients send them so).
  const auto o = request(R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}]})");
  CHECK(o.messages[0].tool_calls[0].arguments == R"({"x":1})");
  const auto e = request(R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": ""}}]}]})");
  CHECK(e.messages[0].tool_calls[0].arguments == "{}");
}

TEST_CASE("serve request: bad tool fields are named 400s") {
  const std::string user = R"({"role": "user", "content": "x"})";
  CHECK(refusal(R"({"messages": [)" + user + R"(], "tool_choice": "required"})").rfind("tool_choice: ", 0) == 0);
  CHECK(refusal(R"({"messages": [)" + user + R"(], "tool_choice": {"type": "function", "function": {"name": "f"}}})").rfind("tool_choice: ", 0) == 0);
  CHECK(refusal(R"({"messages": [)" + user + R"(], "tools": {"name": "f"}})").rfind("tools: ", 0) == 0);
  CHECK(refusal(R"({"messages": [)" + user + R"(], "tools": [{"type": "function", "function": {}}]})").rfind("tools: ", 0) == 0);
  CHECK(refusal(R"({"messages": [)" + user + R"(], "n": 2, "tools": [{"type": "function", "function": {"name": "f"}}]})").rfind("n: ", 0) == 0);
  CHECK(refusal(R"({"messages": [{"role": "tool", "content": "x"}]})").find("tool_call_id") != std::string::npos);
  CHECK(refusal(R"({"messages": [{"role": "user", "content": "x", "tool_calls": [{"function": {"name": "f"}}]}]})")
            .find("assistant") != std::string::npos);
  CHECK(refusal(R"({"messages": [{"role": "user", "content": "x", "tool_calls": [], "name": null}]})") == "accepted");
  CHECK(refusal(R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}]})")
            .find("JSON") != std::string::npos);
  CHECK(refusal(R"({"messages": [{"role": "assistant", "tool_calls": [{"type": "code", "function": {"name": "f"}}]}]})") != "accepted");
  CHECK(refusal(R"({"messages": [)" + user + R"(], "functions": [{"name": "f"}]})").find("tools") != std::string::npos);
  auto parsed = cli::parse_request(cli::endpoint::completion, R"({"prompt": "x", "tools": []})", cli::serve_limits());
  REQUIRE(std::holds_alternative<cli::api_error>(parsed));
  CHECK(std::get<cli::api_error>(parsed).param == "tools");
}
