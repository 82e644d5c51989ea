// Grammar-constrained answers through the public ABI: bad grammars fail with the engine's message
// before anything is generated; stories260K (raw completion) and the real Qwen2.5-Coder-0.5B (chat)
// answer with JSON valid under a schema.
#include <doctest/doctest.h>

#include <dianoia/dianoia.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "json.hpp"
#include "test_support.hpp"

namespace {

std::string stories() { return dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf"; }

const char* k_schema =
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120}},)"
    R"("required":["name","age"],"additionalProperties":false})";

struct texts {
  std::string reasoning, content;
  dianoia_event done{};
};

dianoia::session::callback collect(texts& t) {
  return [&t](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_REASONING) t.reasoning += e.text;
    if (e.type == DIANOIA_EVENT_CONTENT) t.content += e.text;
    return true;
  };
}

void check_person(const std::string& text) {
  CAPTURE(text);
  const auto j = dianoia::test::json::parse(text);
  REQUIRE(j.kind == dianoia::test::json::object);
  CHECK(j.obj.size() == 2);
  REQUIRE(j.has("name"));
  CHECK(j["name"].kind == dianoia::test::json::string);
  CHECK(j["name"].str.size() <= 12);
  REQUIRE(j.has("age"));
  CHECK(j["age"].kind == dianoia::test::json::number);
}

}  // namespace

TEST_CASE("capi grammar: bad grammars and kinds are clear errors, before any event") {
  dianoia::model m(stories());
  dianoia_session* s = nullptr;
  const auto sp = dianoia_session_default_params();
  REQUIRE(dianoia_session_create(m.get(), &sp, &s) == DIANOIA_OK);
  int events = 0;
  auto on_event = [](const dianoia_event*, void* ud) {
    ++*static_cast<int*>(ud);
    return true;
  };
  auto p = dianoia_generate_default_params();
  auto expect = [&](dianoia_status want, const char* fragment) {
    const dianoia_status st = dianoia_session_complete(s, "Once", 4, &p, on_event, &events);
    CHECK(st == want);
    const std::string err = dianoia_last_error();
    CAPTURE(err);
    CHECK(err.find(fragment) != std::string::npos);
    CHECK(events == 0);
  };
  p.grammar_kind = 99;
  p.grammar = "x";
  expect(DIANOIA_ERR_INVALID_ARGUMENT, "grammar_kind 99");
  p.grammar_kind = DIANOIA_GRAMMAR_JSON_SCHEMA;
  p.grammar = nullptr;
  expect(DIANOIA_ERR_INVALID_ARGUMENT, "grammar is NULL");
  p.grammar = "{\"type\": \"objec";
  if (dianoia::has_grammar_engine()) {
    expect(DIANOIA_ERR_INVALID_ARGUMENT, "invalid JSON schema");
    p.grammar_kind = DIANOIA_GRAMMAR_LARK;
    p.grammar = "start: (";
    expect(DIANOIA_ERR_INVALID_ARGUMENT, "invalid Lark grammar");
    p.grammar_kind = DIANOIA_GRAMMAR_REGEX;
    p.grammar = "[a-";
    expect(DIANOIA_ERR_INVALID_ARGUMENT, "invalid regular expression");
  } else {
    expect(DIANOIA_ERR_UNSUPPORTED, "DIANOIA_WITH_LLGUIDANCE");
  }
  dianoia_session_free(s);
}

TEST_CASE("capi grammar: stories260K completes into schema-valid JSON" * doctest::skip(!dianoia_has_grammar_engine())) {
  dianoia::model m(stories());
  dianoia::session s(m);
  auto p = dianoia_generate_default_params();
  p.temperature = 0;
  p.max_tokens = 64;
  p.reasoning = DIANOIA_REASONING_OFF;
  texts free, held;
  s.complete("Once upon a time", collect(free), p);
  CHECK_THROWS(dianoia::test::json::parse(free.content));  // a story, not JSON
  p.grammar_kind = DIANOIA_GRAMMAR_JSON_SCHEMA;
  p.grammar = k_schema;
  held.done = s.complete("Once upon a time", collect(held), p);
  MESSAGE("stories260K: " << held.content);
  check_person(held.content);
  CHECK(held.done.stop_reason == DIANOIA_STOP_EOS);

  // A sampled answer, a regex: every sample of several follows it.
  p.temperature = 1.0f;
  p.grammar_kind = DIANOIA_GRAMMAR_REGEX;
  p.grammar = "(yes|no), [a-z]{1,8}\\.";
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    p.seed = seed;
    texts t;
    s.complete("Once upon a time", collect(t), p);
    CAPTURE(t.content);
    const size_t comma = t.content.find(", ");
    REQUIRE(comma != std::string::npos);
    CHECK((t.content.substr(0, comma) == "yes" || t.content.substr(0, comma) == "no"));
    CHECK(t.content.back() == '.');
  }
}

TEST_CASE("capi grammar: Qwen2.5-Coder-0.5B answers with schema-valid JSON" * doctest::skip()) {
  const std::string path = dianoia::test::model_dir() + "/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";
  if (!dianoia::test::file_exists(path)) {
    std::fprintf(stderr, "%s is missing (bash scripts/fetch-models.sh): skipped\n", path.c_str());
    std::exit(77);
  }
  if (!dianoia::has_grammar_engine()) {
    std::fprintf(stderr, "this build has no grammar engine: skipped\n");
    std::exit(77);
  }
  dianoia::model m(path);
  auto sp = dianoia_session_default_params();
  sp.context_length = 1024;
  dianoia::session s(m, sp);
  auto p = dianoia_generate_default_params();
  p.temperature = 0;
  p.max_tokens = 64;
  p.grammar_kind = DIANOIA_GRAMMAR_JSON_SCHEMA;
  p.grammar = k_schema;
  texts t;
  t.done = s.chat({{"user", "Invent a person: tell me their name and age."}}, collect(t), p);
  MESSAGE("Qwen2.5-Coder-0.5B: " << t.content);
  check_person(t.content);
  CHECK(t.done.stop_reason == DIANOIA_STOP_EOS);
}
