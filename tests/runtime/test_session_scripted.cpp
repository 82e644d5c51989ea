// The decode loop driven by a scripted model whose next token the test chooses: reasoning/content
// channels, budgets, UTF-8 integrity and cancellation, independent of any real network.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "runtime/session.hpp"
#include "runtime/scripted_model.hpp"

using namespace dianoia::detail;
using namespace dianoia::detail::testing;

namespace {

struct run_result {
  std::string reasoning, content;
  std::vector<std::pair<channel, std::string>> events;
  generation_stats st;
};

run_result run(scripted_model& m, const test_vocab& v, std::vector<int32_t> prompt, generate_options opt = {},
               bool allow_auto = true) {
  session s(m, *v.tok, 4096, 1);
  opt.sampling.temperature = 0;
  run_result r;
  r.st = s.generate(prompt, opt, [&](channel ch, std::string_view t) {
    (ch == channel::reasoning ? r.reasoning : r.content) += t;
    r.events.emplace_back(ch, std::string(t));
    return true;
  }, allow_auto);
  for (auto& [ch, t] : r.events) {
    CHECK(utf8_valid(t));  // never a split character
    if (allow_auto) {      // tags never leak into either channel (raw completion keeps them as text)
      CHECK(t.find("<think>") == std::string::npos);
      CHECK(t.find("</think>") == std::string::npos);
    }
  }
  return r;
}

std::vector<int32_t> concat(std::initializer_list<std::vector<int32_t>> parts) {
  std::vector<int32_t> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("scripted: a thought in single tag tokens is split from the answer") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = concat({{v.think}, v.bytes("Let me think."), {v.end_think}, v.bytes("\n\nThe answer.")});
  auto r = run(m, v, v.bytes("Q: "));
  CHECK(r.reasoning == "Let me think.");
  CHECK(r.content == "The answer.");
  CHECK(r.st.stop == stop_reason::eos);
  CHECK(r.st.reasoning_tokens == 13);
  CHECK(r.st.content_tokens == 13);  // "\n\nThe answer." (the tags count for neither channel)
}

TEST_CASE("scripted: tags split over several tokens never leak") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = concat({v.bytes("<th"), v.bytes("ink>"), v.bytes("abc"), {v.id("</"), v.id("think"), v.id(">")},
                     {v.id("Hello")}, {v.id(" world")}});
  auto r = run(m, v, v.bytes("Q"));
  CHECK(r.reasoning == "abc");
  CHECK(r.content == "Hello world");
}

TEST_CASE("scripted: an R1-style prompt that opens the thought starts in reasoning") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = concat({v.bytes("hmm"), {v.end_think}, v.bytes("ok")});
  auto r = run(m, v, concat({v.bytes("User: hi\nAssistant: "), {v.think}, v.bytes("\n")}));
  CHECK(r.reasoning == "hmm");
  CHECK(r.content == "ok");
}

TEST_CASE("scripted: multi-byte characters split across tokens arrive whole") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  const std::string text = "d\xC3\xA9j\xC3\xA0 \xF0\x9F\x98\x80 \xE4\xB8\xAD";  // "déjà 😀 中", fed byte by byte
  m.script = concat({{v.think}, v.bytes(text), {v.end_think}, v.bytes(text)});
  auto r = run(m, v, v.bytes("Q"));
  CHECK(r.reasoning == text);
  CHECK(r.content == text);
}

TEST_CASE("scripted: the reasoning budget cuts at exactly N tokens and the answer follows") {
  for (int budget : {0, 1, 5, 17}) {
    CAPTURE(budget);
    test_vocab v;
    scripted_model m(v.tok->n_vocab(), v.eos);
    // 40 reasoning tokens would follow; the budget must close the thought first.
    std::vector<int32_t> long_thought;
    for (int i = 0; i < 40; ++i) long_thought.push_back('a' + i % 26);
    m.script = concat({long_thought, v.bytes("X")});
    generate_options opt;
    opt.max_reasoning_tokens = budget;
    opt.max_tokens = 200;
    auto r = run(m, v, concat({v.bytes("Q"), {v.think}}), opt);
    CHECK(r.st.reasoning_tokens == static_cast<uint32_t>(budget));
    CHECK(r.reasoning.size() == static_cast<size_t>(budget));
    CHECK(!r.content.empty());  // the model keeps writing after the forced close: that is the answer
    // The close tag was fed to the model.
    bool saw_close = false;
    for (int32_t t : m.fed) saw_close |= t == v.end_think;
    CHECK(saw_close);
  }
}

TEST_CASE("scripted: raw completion keeps tags as content") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = concat({{v.think}, v.bytes("x"), {v.end_think}});
  auto r = run(m, v, v.bytes("Q"), {}, /*allow_auto=*/false);
  CHECK(r.reasoning.empty());
  CHECK(r.content == "<think>x</think>");
}

TEST_CASE("scripted: max_tokens, EOS inside a thought, context full") {
  test_vocab v;
  SUBCASE("max_tokens") {
    scripted_model m(v.tok->n_vocab(), v.eos);
    m.script = v.bytes("abcdefghij");
    generate_options opt;
    opt.max_tokens = 4;
    auto r = run(m, v, v.bytes("Q"), opt);
    CHECK(r.content == "abcd");
    CHECK(r.st.stop == stop_reason::max_tokens);
  }
  SUBCASE("EOS inside the thought flushes it") {
    scripted_model m(v.tok->n_vocab(), v.eos);
    m.script = concat({{v.think}, v.bytes("unfinished")});
    auto r = run(m, v, v.bytes("Q"));
    CHECK(r.reasoning == "unfinished");
    CHECK(r.st.stop == stop_reason::eos);
  }
  SUBCASE("prompt longer than the context") {
    scripted_model m(v.tok->n_vocab(), v.eos);
    session s(m, *v.tok, 8, 1);
    auto prompt = v.bytes("0123456789");
    CHECK_THROWS_WITH_AS(s.generate(prompt, {}, [](channel, std::string_view) { return true; }),
                         doctest::Contains("context"), error);
  }
  SUBCASE("generation stops when the context fills") {
    scripted_model m(v.tok->n_vocab(), v.eos);
    m.script = v.bytes("abcdefghijklmnop");
    session s(m, *v.tok, 6, 1);
    generate_options opt;
    opt.sampling.temperature = 0;
    auto p = v.bytes("Q");
    std::string out;
    auto st = s.generate(p, opt, [&](channel, std::string_view t) {
      out += t;
      return true;
    });
    CHECK(st.stop == stop_reason::context_full);
    CHECK(out == "abcdef");
  }
}

TEST_CASE("scripted: cancellation from another thread stops within one token") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  for (int i = 0; i < 1000; ++i) m.script.push_back('a');
  session s(m, *v.tok, 4096, 1);
  generate_options opt;
  opt.sampling.temperature = 0;
  opt.max_tokens = 0;
  int after_cancel = 0, seen = 0;
  bool cancelled = false;
  auto p = v.bytes("Q");
  auto st = s.generate(p, opt, [&](channel, std::string_view) {
    if (cancelled) ++after_cancel;
    if (++seen == 10) {
      std::thread([&] { s.cancel(); }).join();
      cancelled = true;
    }
    return true;
  });
  CHECK(st.stop == stop_reason::cancelled);
  CHECK(after_cancel == 0);
  CHECK(seen == 10);
}

TEST_CASE("scripted: the callback can stop the generation") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = v.bytes("abcdef");
  session s(m, *v.tok, 64, 1);
  generate_options opt;
  opt.sampling.temperature = 0;
  int n = 0;
  auto p = v.bytes("Q");
  auto st = s.generate(p, opt, [&](channel, std::string_view) { return ++n < 3; });
  CHECK(st.stop == stop_reason::callback);
  CHECK(n == 3);
}
