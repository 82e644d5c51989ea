// "Think freely, answer in a grammar": a model that would answer with prose is held to a JSON schema
// on the answer channel only, its thought staying free, whether the model closes the thought itself
// or the reasoning budget closes it; samples each follow their own copy of the grammar.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "grammar/grammar.hpp"
#include "runtime/scripted_model.hpp"
#include "runtime/session.hpp"

using namespace dianoia::detail;
using namespace dianoia::detail::testing;

namespace {

const char* k_schema =
    R"({"type":"object","properties":{"answer":{"type":"integer"}},"required":["answer"],"additionalProperties":false})";

// A model that thinks "thought" (byte by byte), closes the thought with the close-tag token, then
// wants to answer "Sure! 42" in prose. Where the grammar refuses its wish it falls back on the
// bytes of `fallback`, earlier ones preferred, and otherwise on nothing in particular.
struct prose_model {
  test_vocab& v;
  std::string thought = "I think it is 42! {not json";
  std::string wish = "Sure! 42";
  std::string fallback = "}{\"answer:4";
  size_t prompt_len = 0;

  void operator()(const std::vector<int32_t>& ctx, float* logits) const {
    size_t close = ctx.size();
    for (size_t i = prompt_len; i < ctx.size(); ++i)
      if (ctx[i] == v.end_think) close = i;
    for (size_t k = 0; k < fallback.size(); ++k)
      logits[static_cast<unsigned char>(fallback[k])] = 5.0f - 0.1f * static_cast<float>(k);
    if (close == ctx.size()) {  // thinking
      const size_t k = ctx.size() - prompt_len;
      logits[k < thought.size() ? static_cast<unsigned char>(thought[k]) : v.end_think] = 10.0f;
      return;
    }
    // The answer so far, less the blank lines after the tag.
    size_t k = 0;
    for (size_t i = close + 1; i < ctx.size(); ++i)
      if (ctx[i] != '\n' || k > 0) ++k;
    logits[k < wish.size() ? static_cast<unsigned char>(wish[k]) : v.eos] = 10.0f;
  }
};

struct result {
  std::string reasoning, content;
  generation_stats st;
};

result run(session& s, const std::vector<int32_t>& prompt, const generate_options& opt, bool allow_auto = true) {
  result r;
  r.st = s.generate(prompt, opt, [&](channel ch, std::string_view t) {
    (ch == channel::reasoning ? r.reasoning : r.content) += t;
    return true;
  }, allow_auto);
  return r;
}

generate_options greedy() {
  generate_options o;
  o.sampling.temperature = 0;
  o.max_tokens = 200;
  return o;
}

// The answer is one JSON object {"answer": <integer>} and nothing else.
void check_schema_valid(const std::string& answer) {
  CAPTURE(answer);
  const json_value j = json_parse(answer);
  REQUIRE(j.is_object());
  CHECK(j.as_object().size() == 1);
  REQUIRE(j.find("answer"));
  CHECK(j.find("answer")->is_int());
}

std::vector<int32_t> with(std::vector<int32_t> a, std::initializer_list<int32_t> more) {
  a.insert(a.end(), more);
  return a;
}

}  // namespace

TEST_CASE("grammar: the thought is free, the answer follows the JSON schema" * doctest::skip(!grammar_engine_available())) {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  prose_model pm{v};
  const auto prompt = with(v.bytes("Q: 6*7?\n"), {v.think});
  pm.prompt_len = prompt.size();
  m.next = pm;
  session s(m, *v.tok, 1024, 1);

  // Unconstrained, the answer is prose: not JSON.
  const result free = run(s, prompt, greedy());
  CHECK(free.reasoning == pm.thought);
  CHECK(free.content == "Sure! 42");
  CHECK_THROWS_AS(json_parse(free.content), error);

  generate_options o = greedy();
  o.grammar = {grammar_kind::json_schema, k_schema};
  const result r = run(s, prompt, o);
  // The same thought, which the schema would refuse, then a schema-valid answer.
  CHECK(r.reasoning == pm.thought);
  check_schema_valid(r.content);
  CHECK(r.content == R"({"answer":4})");
  CHECK(r.st.stop == stop_reason::eos);  // the grammar completed: no token sampled after the '}'
  CHECK(r.st.content_tokens == r.content.size());
}

TEST_CASE("grammar: when the budget closes the thought, the grammar starts at the first answer token" *
          doctest::skip(!grammar_engine_available())) {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  prose_model pm{v};
  pm.thought = std::string(100, 'x');  // longer than the budget
  const auto prompt = with(v.bytes("Q\n"), {v.think});
  pm.prompt_len = prompt.size();
  m.next = pm;
  session s(m, *v.tok, 1024, 1);
  generate_options o = greedy();
  o.max_reasoning_tokens = 7;
  o.wrap_up_text = " {time's up";  // injected into the thought: never seen by the grammar
  o.grammar = {grammar_kind::json_schema, k_schema};
  const result r = run(s, prompt, o);
  CHECK(r.st.reasoning_tokens == 7);
  CHECK(r.reasoning == std::string(7, 'x') + " {time's up");
  check_schema_valid(r.content);
  CHECK(r.st.stop == stop_reason::eos);
}

TEST_CASE("grammar: without reasoning the grammar holds from the first token; a regex and a Lark grammar" *
          doctest::skip(!grammar_engine_available())) {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  prose_model pm{v};
  pm.wish = "<think>no";  // would open a thought, but there is none to open with reasoning off
  pm.prompt_len = 2;
  m.next = [&](const std::vector<int32_t>& ctx, float* logits) {
    // As if the thought had just closed: answer from the first token.
    std::vector<int32_t> c(ctx.begin(), ctx.begin() + 1);
    c.push_back(v.end_think);
    c.insert(c.end(), ctx.begin() + 2, ctx.end());
    pm(c, logits);
  };
  session s(m, *v.tok, 1024, 1);
  generate_options o = greedy();
  o.reasoning = reasoning_mode::off;
  o.grammar = {grammar_kind::json_schema, k_schema};
  const auto prompt = v.bytes("Q:");
  result r = run(s, prompt, o);
  CHECK(r.reasoning.empty());
  check_schema_valid(r.content);

  o.grammar = {grammar_kind::regex, "an(sw)+er: [0-9]{2}"};
  pm.fallback = "aner: 4sw";
  r = run(s, prompt, o);
  CHECK(r.content == "answer: 44");
  CHECK(r.st.stop == stop_reason::eos);

  o.grammar = {grammar_kind::lark, "start: \"yes\" | \"no\""};
  pm.fallback = "nyeso";
  r = run(s, prompt, o);
  CHECK(r.content == "no");
}

TEST_CASE("grammar: in automatic mode a model may still open its thought with its first token" *
          doctest::skip(!grammar_engine_available())) {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  prose_model pm{v};
  const auto prompt = v.bytes("Q: 6*7?\n");  // the prompt does not open the thought
  pm.prompt_len = prompt.size() + 1;
  m.next = [&](const std::vector<int32_t>& ctx, float* logits) {
    if (ctx.size() == prompt.size()) {
      logits[v.think] = 10.0f;  // the model opens its thought itself
      return;
    }
    pm(ctx, logits);
  };
  session s(m, *v.tok, 1024, 1);
  generate_options o = greedy();
  o.grammar = {grammar_kind::json_schema, k_schema};
  const result r = run(s, prompt, o);
  CHECK(r.reasoning == pm.thought);
  check_schema_valid(r.content);
}

TEST_CASE("grammar: every sample follows its own copy of the grammar" * doctest::skip(!grammar_engine_available())) {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  prose_model pm{v};
  const auto prompt = with(v.bytes("Q\n"), {v.think});
  pm.prompt_len = prompt.size();
  m.next = pm;
  session s(m, *v.tok, 2048, 1);
  generate_options o = greedy();
  o.grammar = {grammar_kind::json_schema, k_schema};
  std::vector<std::string> content(3), reasoning(3);
  const auto st = s.generate_samples(prompt, 3, o, [&](uint32_t i, channel ch, std::string_view t) {
    (ch == channel::reasoning ? reasoning : content)[i] += t;
    return true;
  });
  REQUIRE(st.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(reasoning[i] == pm.thought);
    check_schema_valid(content[i]);
  }
}

TEST_CASE("grammar: a grammar the engine refuses fails before the prompt is evaluated, with its message") {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  m.next = [](const std::vector<int32_t>&, float*) {};
  session s(m, *v.tok, 256, 1);
  generate_options o = greedy();
  auto fails = [&](grammar_kind k, const char* text, const char* expect) {
    CAPTURE(text);
    o.grammar = {k, text};
    try {
      run(s, v.bytes("Q"), o);
      FAIL("no error");
    } catch (const error& e) {
      const std::string msg = e.what();
      CAPTURE(msg);
      if (!grammar_engine_available()) {
        CHECK(e.code() == errc::unsupported);
        CHECK(msg.find("DIANOIA_WITH_LLGUIDANCE") != std::string::npos);
        return;
      }
      CHECK(e.code() == errc::invalid_argument);
      CHECK(msg.find(expect) != std::string::npos);
    }
    CHECK(m.evaluated == 0);
  };
  fails(grammar_kind::json_schema, "{not json", "invalid JSON schema");
  fails(grammar_kind::json_schema, R"({"type":"no-such-type"})", "invalid JSON schema");
  fails(grammar_kind::lark, "start: undefined_rule", "invalid Lark grammar");
  fails(grammar_kind::regex, "(unclosed", "invalid regular expression");
}
