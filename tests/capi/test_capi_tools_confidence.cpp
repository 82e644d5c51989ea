// Tool calls and confidence votes through the public ABI: TOOL_CALL events on a real Qwen2.5-Coder model
// (a conversation that calls a tool, takes its result back and answers), the checks on bad input, and
// DeepConf votes on the default model (per-sample confidences, online early stops).
#include <doctest/doctest.h>

#include <dianoia/dianoia.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

const char* k_tools =
    R"([{"type":"function","function":{"name":"get_weather","description":"Get the current weather in a city",)"
    R"("parameters":{"type":"object","properties":{"city":{"type":"string","description":"The city name"}},)"
    R"("required":["city"]}}}])";

struct turn {
  std::string content;
  std::vector<std::string> calls;  // "id name arguments"
  dianoia_event done{};
};

dianoia::session::callback collect(turn& t) {
  return [&t](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) t.content += e.text;
    if (e.type == DIANOIA_EVENT_TOOL_CALL)
      t.calls.push_back(std::string(e.tool_call_id()) + " " + std::string(e.tool_name()) + " " +
                        std::string(e.tool_arguments()));
    return true;
  };
}

}  // namespace

// Runs only as the ctest entry capi_tools_qwen (which passes --no-skip), so that a missing model shows
// as skipped (exit 77) there and not as a pass.
TEST_CASE("capi tools: Qwen2.5-Coder-0.5B calls a tool, gets its result back and answers" * doctest::skip()) {
  const std::string path = dianoia::test::model_dir() + "/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";
  if (!dianoia::test::file_exists(path)) {
    std::fprintf(stderr, "%s is missing (bash scripts/fetch-models.sh): skipped\n", path.c_str());
    std::exit(77);
  }
  dianoia::model m(path);
  auto sp = dianoia_session_default_params();
  sp.context_length = 2048;
  dianoia::session s(m, sp);
  auto p = dianoia_generate_default_params();
  p.temperature = 0;
  p.max_tokens = 96;
  p.tools = k_tools;
  dianoia::conversation c(s);
  turn t1;
  c.send("What is the weather like in Paris right now?", collect(t1), p);
  REQUIRE(t1.calls.size() == 1);
  CHECK(t1.calls[0] == R"(call_0 get_weather {"city":"Paris"})");
  CHECK(t1.content.find("get_weather") == std::string::npos);  // nothing of the call in the content
  auto msgs = c.messages();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[1].extra_json.find(R"("tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather")") !=
        std::string::npos);
  c.add_tool_result("call_0", "get_weather", R"({"temperature_c": 18, "sky": "sunny"})");
  turn t2;
  t2.done = c.reply(collect(t2), p);
  MESSAGE("answer after the tool: " << t2.content);
  CHECK(t2.calls.empty());
  CHECK(!t2.content.empty());
  CHECK(t2.content.find("18") != std::string::npos);
  CHECK(c.messages().size() == 4);
  // The cache is kept up to the assistant's turn, which the template renders in its own form
  // (<tool_call> tags) rather than as the model wrote it.
  CHECK(t2.done.prompt_reused > 150);
  // One-shot chat gives the same call.
  turn t3;
  s.chat({{"user", "What is the weather like in Paris right now?"}}, collect(t3), p);
  REQUIRE(t3.calls.size() == 1);
  CHECK(t3.calls[0] == t1.calls[0]);
}

TEST_CASE("capi tools: bad tools, syntaxes and votes are named errors") {
  dianoia::model m(dianoia::test::default_model_path());
  dianoia::session s(m);
  auto p = dianoia_generate_default_params();
  p.max_tokens = 4;
  auto bad = [&](const dianoia_generate_params& q, const char* what) {
    CAPTURE(what);
    CHECK_THROWS_AS(s.chat({{"user", "hi"}}, [](const dianoia::event&) { return true; }, q), dianoia::error);
  };
  auto q = p;
  q.tools = "{not json";
  bad(q, "invalid JSON");
  q.tools = R"({"name": "f"})";
  bad(q, "not an array");
  q = p;
  q.tool_call_syntax = 99;
  bad(q, "syntax");
  q = p;
  q.tools = k_tools;
  CHECK_THROWS_AS(s.chat_samples({{"user", "hi"}}, 2, [](const dianoia::event&) { return true; }, q), dianoia::error);
  q = p;
  q.vote = 7;
  CHECK_THROWS_AS(s.chat_samples({{"user", "hi"}}, 2, [](const dianoia::event&) { return true; }, q), dianoia::error);
  q.vote = DIANOIA_VOTE_CONFIDENCE;
  q.confidence_keep_percent = 0;
  CHECK_THROWS_AS(s.chat_samples({{"user", "hi"}}, 2, [](const dianoia::event&) { return true; }, q), dianoia::error);
  dianoia::conversation c(s);
  CHECK_THROWS_AS(c.reply([](const dianoia::event&) { return true; }, p), dianoia::error);  // nothing to reply to
  // The default model's template knows no tool syntax: tools are rendered, nothing is parsed.
  q = p;
  q.tools = k_tools;
  CHECK_NOTHROW(s.chat({{"user", "hi"}}, [](const dianoia::event&) { return true; }, q));
}

TEST_CASE("capi confidence votes: offline weights and per-sample scores; online stops samples early") {
  dianoia::model m(dianoia::test::default_model_path());
  dianoia::session s(m);
  auto p = dianoia_generate_default_params();
  p.temperature = 0.9f;
  p.max_tokens = 24;
  p.reasoning = DIANOIA_REASONING_OFF;
  p.vote = DIANOIA_VOTE_CONFIDENCE;
  p.confidence_window = 8;
  p.confidence_keep_percent = 50;
  std::map<uint32_t, double> done_conf;
  auto cb = [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_DONE) done_conf[e.raw->sample_index] = e.raw->confidence;
    return true;
  };
  auto v = s.chat_samples({{"user", "What is 6*7? Answer with a number."}}, 6, cb, p);
  REQUIRE(v.sample_confidences.size() == 6);
  REQUIRE(done_conf.size() == 6);
  int voted = 0;
  for (size_t i = 0; i < 6; ++i) {
    CHECK(std::isfinite(v.sample_confidences[i]));
    CHECK(v.sample_confidences[i] > 0);
    CHECK(done_conf[static_cast<uint32_t>(i)] == v.sample_confidences[i]);
    voted += v.sample_voted[i];
  }
  CHECK(voted >= 3);  // the top half (ties at the cut included)
  double weights = 0;
  for (const auto& e : v.entries) weights += e.weight;
  double expect = 0;
  for (size_t i = 0; i < 6; ++i) expect += v.sample_voted[i] ? v.sample_confidences[i] : 0;
  CHECK(weights <= expect + 1e-9);  // abstaining voters carry no weight
  CHECK(std::isnan(v.threshold));

  // Online with a strict threshold (keep only the best warm-up trace): later traces stop early.
  p.vote = DIANOIA_VOTE_CONFIDENCE_ONLINE;
  p.confidence_warmup = 3;
  p.confidence_keep_percent = 10;
  p.confidence_consensus = 2;  // never safe: all 8 run
  std::map<uint32_t, int> stops;
  auto v2 = s.chat_samples({{"user", "What is 6*7? Answer with a number."}}, 8, [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_DONE) stops[e.raw->sample_index] = e.raw->stop_reason;
    return true;
  }, p);
  REQUIRE(v2.sample_confidences.size() == 8);
  CHECK(std::isfinite(v2.threshold));
  int early = 0;
  for (const auto& [i, r] : stops) {
    if (r == DIANOIA_STOP_LOW_CONFIDENCE) {
      CHECK(i >= 3);
      CHECK_FALSE(v2.sample_voted[i]);
      ++early;
    }
  }
  MESSAGE("online: threshold " << v2.threshold << ", " << early << " of 5 later samples stopped early");
  CHECK(early >= 1);
}
