// The C ABI's 1.0 contract: enumerations as checked integers, messages with everything a template uses,
// template variables as JSON, the log callback, size queries, cancellation of a prompt evaluation.
#include <doctest/doctest.h>

#include <dianoia.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

std::string stories() { return dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf"; }

bool count_events(const dianoia_event* e, void* user) {
  if (e->type == DIANOIA_EVENT_DONE) *static_cast<dianoia_event*>(user) = *e;
  return true;
}

std::string render(const dianoia_chat_message* msgs, size_t n, const char* tmpl, const char* kwargs,
                   dianoia_status* st = nullptr) {
  size_t need = 0;
  dianoia_status s = dianoia_chat_apply_template(nullptr, tmpl, msgs, n, true, kwargs, nullptr, 0, &need);
  if (s == DIANOIA_ERR_BUFFER_TOO_SMALL) {
    std::string out(need, '\0');
    s = dianoia_chat_apply_template(nullptr, tmpl, msgs, n, true, kwargs, out.data(), out.size(), &need);
    if (st) *st = s;
    return s == DIANOIA_OK ? out : std::string();
  }
  if (st) *st = s;
  return {};
}

}  // namespace

TEST_CASE("abi: enumerations are 32-bit integers and unknown values are refused") {
  static_assert(sizeof(dianoia_status) == 4 && sizeof(dianoia_event_type) == 4 && sizeof(dianoia_stop_reason) == 4);
  static_assert(sizeof(dianoia_kv_type) == 4 && sizeof(dianoia_reasoning_mode) == 4 && sizeof(dianoia_message_part) == 4);
  CHECK(std::string(dianoia_status_string(42)) == "DIANOIA_ERR_UNKNOWN");
  CHECK(dianoia_log_set(nullptr, nullptr, 17) == DIANOIA_ERR_INVALID_ARGUMENT);
  dianoia_model* m = nullptr;
  REQUIRE(dianoia_model_load(stories().c_str(), nullptr, &m) == DIANOIA_OK);
  auto sp = dianoia_session_default_params();
  sp.kv_type = 7;
  dianoia_session* s = nullptr;
  CHECK(dianoia_session_create(m, &sp, &s) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(dianoia_last_error()).find("kv_type 7") != std::string::npos);
  REQUIRE(dianoia_session_create(m, nullptr, &s) == DIANOIA_OK);
  auto gp = dianoia_generate_default_params();
  gp.reasoning = -3;
  dianoia_event done{};
  CHECK(dianoia_session_complete(s, "Once", 4, &gp, count_events, &done) == DIANOIA_ERR_INVALID_ARGUMENT);
  gp = dianoia_generate_default_params();
  const dianoia_sampler* stages[] = {nullptr};
  gp.custom_samplers = stages;
  gp.n_custom_samplers = 1;
  CHECK(dianoia_session_complete(s, "Once", 4, &gp, count_events, &done) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(dianoia_last_error()).find("custom_samplers[0] is NULL") != std::string::npos);
  dianoia_session_free(s);
  dianoia_model_free(m);
}

TEST_CASE("abi: eval_logits answers a size query without evaluating") {
  dianoia_model* m = nullptr;
  REQUIRE(dianoia_model_load(stories().c_str(), nullptr, &m) == DIANOIA_OK);
  dianoia_session* s = nullptr;
  REQUIRE(dianoia_session_create(m, nullptr, &s) == DIANOIA_OK);
  const int32_t toks[] = {1, 403, 407};
  size_t need = 0;
  CHECK(dianoia_session_eval_logits(s, toks, 3, 2, nullptr, 0, &need) == DIANOIA_ERR_BUFFER_TOO_SMALL);
  CHECK(need == 2 * 512);
  std::vector<float> out(need);
  CHECK(dianoia_session_eval_logits(s, toks, 3, 2, out.data(), out.size(), &need) == DIANOIA_OK);
  CHECK(need == 2 * 512);
  CHECK(out[0] != 0.0f);
  dianoia_session_free(s);
  dianoia_model_free(m);
}

TEST_CASE("abi: messages carry reasoning, tool calls, ids and names; template variables arrive as JSON") {
  const char* tmpl =
      "{% for m in messages %}{{ m.role }}|{{ m.content }}|{{ m.reasoning_content }}|{% if m.tool_calls %}{{ m.tool_calls | tojson }}{% endif %}|"
      "{{ m.tool_call_id }}|{{ m.name }}|{{ m.extra }}|{{ 'content' in m }}\n{% endfor %}"
      "{{ tools | tojson }}|{{ enable_thinking }}|{{ add_generation_prompt }}|{{ date_string }}";
  const dianoia_tool_call calls[] = {{"call_1", "get_weather", "{\"city\": \"Paris\"}"}, {nullptr, "now", nullptr}};
  dianoia_chat_message msgs[3] = {};
  msgs[0].role = "user";
  msgs[0].content = "weather?";
  msgs[1].role = "assistant";
  msgs[1].reasoning_content = "use the tool";
  msgs[1].tool_calls = calls;
  msgs[1].n_tool_calls = 2;
  msgs[2].role = "tool";
  msgs[2].content = "18 C";
  msgs[2].tool_call_id = "call_1";
  msgs[2].name = "get_weather";
  msgs[2].extra_json = "{\"extra\": 5}";
  const std::string got = render(msgs, 3, tmpl,
                                 "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}], "
                                 "\"enable_thinking\": false, \"date_string\": \"1 Jan\"}");
  CHECK(got ==
        "user|weather?||||||True\n"
        "assistant||use the tool|[{\"id\": \"call_1\", \"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
        "\"arguments\": {\"city\": \"Paris\"}}}, {\"type\": \"function\", \"function\": {\"name\": \"now\", \"arguments\": "
        "{}}}]||||False\n"
        "tool|18 C|||call_1|get_weather|5|True\n"
        "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}]|False|True|1 Jan");

  dianoia_status st = DIANOIA_OK;
  render(msgs, 3, tmpl, "{\"tools\": 3}", &st);
  CHECK(st == DIANOIA_ERR_INVALID_ARGUMENT);
  render(msgs, 3, tmpl, "{\"messages\": []}", &st);
  CHECK(st == DIANOIA_ERR_INVALID_ARGUMENT);
  render(msgs, 3, tmpl, "[1]", &st);
  CHECK(st == DIANOIA_ERR_INVALID_ARGUMENT);
  dianoia_tool_call bad = {nullptr, "f", "{not json"};
  msgs[1].tool_calls = &bad;
  msgs[1].n_tool_calls = 1;
  render(msgs, 3, tmpl, nullptr, &st);
  CHECK(st == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(dianoia_last_error()).find("message 1 tool call arguments") != std::string::npos);
  msgs[1].n_tool_calls = 0;
  msgs[2].extra_json = "{\"name\": \"twice\"}";
  render(msgs, 3, tmpl, nullptr, &st);
  CHECK(st == DIANOIA_ERR_INVALID_ARGUMENT);
  msgs[2].extra_json = "[]";
  render(msgs, 3, tmpl, nullptr, &st);
  CHECK(st == DIANOIA_ERR_INVALID_ARGUMENT);
}

TEST_CASE("abi: a conversation takes the same message type and gives the further keys back") {
  dianoia_model* m = nullptr;
  REQUIRE(dianoia_model_load(dianoia::test::default_model_path().c_str(), nullptr, &m) == DIANOIA_OK);
  dianoia_session* s = nullptr;
  REQUIRE(dianoia_session_create(m, nullptr, &s) == DIANOIA_OK);
  dianoia_conversation* c = nullptr;
  REQUIRE(dianoia_conversation_create(s, &c) == DIANOIA_OK);
  const dianoia_tool_call call = {"c1", "lookup", "{\"q\": 1}"};
  dianoia_chat_message msg = {};
  msg.role = "assistant";
  msg.content = "";
  msg.tool_calls = &call;
  msg.n_tool_calls = 1;
  REQUIRE(dianoia_conversation_add(c, &msg) == DIANOIA_OK);
  char buf[256];
  size_t n = 0;
  REQUIRE(dianoia_conversation_get_message(c, 0, DIANOIA_MESSAGE_EXTRA_JSON, buf, sizeof buf, &n) == DIANOIA_OK);
  CHECK(std::string(buf, n) ==
        "{\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"arguments\":{\"q\": 1}}}]}");
  CHECK(dianoia_conversation_get_message(c, 0, 9, buf, sizeof buf, &n) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(dianoia_conversation_add(c, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
  dianoia_conversation_free(c);
  dianoia_session_free(s);
  dianoia_model_free(m);
}

TEST_CASE("abi: the log callback receives the library's messages at its level") {
  struct sink {
    std::vector<std::string> lines;
    std::vector<int> levels;
  } got;
  auto fn = [](dianoia_log_level lvl, const char* msg, void* u) {
    static_cast<sink*>(u)->lines.emplace_back(msg);
    static_cast<sink*>(u)->levels.push_back(lvl);
  };
  REQUIRE(dianoia_log_set(fn, &got, DIANOIA_LOG_INFO) == DIANOIA_OK);
  dianoia_model* m = nullptr;
  REQUIRE(dianoia_model_load(stories().c_str(), nullptr, &m) == DIANOIA_OK);
  REQUIRE(dianoia_log_set(fn, &got, DIANOIA_LOG_ERROR) == DIANOIA_OK);
  dianoia_model* m2 = nullptr;
  REQUIRE(dianoia_model_load(stories().c_str(), nullptr, &m2) == DIANOIA_OK);
  REQUIRE(dianoia_log_set(nullptr, nullptr, DIANOIA_LOG_WARN) == DIANOIA_OK);
  REQUIRE(got.lines.size() == 1);  // the second load logged below the threshold
  CHECK(got.levels[0] == DIANOIA_LOG_INFO);
  CHECK(got.lines[0].find("stories260K.gguf") != std::string::npos);
  CHECK(got.lines[0].find("llama") != std::string::npos);
  dianoia_model_free(m2);
  dianoia_model_free(m);
}

TEST_CASE("abi: cancel stops a long prompt evaluation between chunks") {
  dianoia_model* m = nullptr;
  REQUIRE(dianoia_model_load(dianoia::test::default_model_path().c_str(), nullptr, &m) == DIANOIA_OK);
  auto sp = dianoia_session_default_params();
  sp.context_length = 4096;
  dianoia_session* s = nullptr;
  REQUIRE(dianoia_session_create(m, &sp, &s) == DIANOIA_OK);
  std::string prompt;
  for (int i = 0; i < 400; ++i) prompt += "The quick brown fox jumps. ";  // ~2400 tokens: 5 chunks
  auto gp = dianoia_generate_default_params();
  gp.temperature = 0;
  gp.max_tokens = 4;
  std::atomic<bool> running{true};
  // Cancels over and over from another thread: the generation must stop while the prompt is evaluated.
  std::thread canceller([&] {
    while (running.load()) dianoia_session_cancel(s);
  });
  dianoia_event done{};
  const dianoia_status st = dianoia_session_complete(s, prompt.data(), prompt.size(), &gp, count_events, &done);
  running = false;
  canceller.join();
  REQUIRE(st == DIANOIA_OK);
  CHECK(done.stop_reason == DIANOIA_STOP_CANCELLED);
  CHECK(done.content_tokens == 0);
  const uint32_t n_prompt = done.prompt_tokens;
  CHECK(n_prompt > 2000);
  // The next run reuses only whole chunks evaluated before the cancel: not the whole prompt.
  dianoia_event again{};
  REQUIRE(dianoia_session_complete(s, prompt.data(), prompt.size(), &gp, count_events, &again) == DIANOIA_OK);
  CHECK(again.stop_reason == DIANOIA_STOP_MAX_TOKENS);
  CHECK(again.prompt_reused % 512 == 0);
  CHECK(again.prompt_reused < n_prompt - 1);
  dianoia_session_free(s);
  dianoia_model_free(m);
}
