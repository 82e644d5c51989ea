// Decode-loop features on test doubles: stop strings, reasoning budgets (wrap-up, forcing), token events
// with logprobs, prefix reuse, n samples sharing one prompt cache.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/utf8.hpp"
#include "runtime/scripted_model.hpp"
#include "runtime/session.hpp"
#include "runtime/stop_strings.hpp"

using namespace dianoia::detail;
using namespace dianoia::detail::testing;

namespace {

struct result {
  std::string reasoning, content;
  generation_stats st;
};

result run(const model& m, const test_vocab& v, const std::vector<int32_t>& prompt, generate_options opt,
           session* reuse = nullptr) {
  session own(m, *v.tok, 4096, 1);
  session& s = reuse ? *reuse : own;
  opt.sampling.temperature = 0;
  result r;
  r.st = s.generate(prompt, opt, [&](channel ch, std::string_view t) {
    CHECK(utf8_valid(t));
    CHECK(t.find("<think>") == std::string_view::npos);
    CHECK(t.find("</think>") == std::string_view::npos);
    (ch == channel::reasoning ? r.reasoning : r.content) += t;
    return true;
  });
  return r;
}

std::vector<int32_t> cat(std::initializer_list<std::vector<int32_t>> parts) {
  std::vector<int32_t> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("stop_matcher: holds back partial matches, releases them when they fail") {
  stop_matcher m({"STOP", "\n\n"});
  std::string out, rel;
  CHECK_FALSE(m.feed("Hello ST", rel));
  out += rel;
  CHECK(out == "Hello ");  // "ST" might start STOP
  CHECK_FALSE(m.feed("AR", rel));
  out += rel;
  CHECK(out == "Hello STAR");
  CHECK_FALSE(m.feed(" \n", rel));
  out += rel;
  CHECK(out == "Hello STAR ");
  CHECK(m.feed("\nrest", rel));
  out += rel;
  CHECK(out == "Hello STAR ");
  CHECK(m.matched() == "\n\n");
  stop_matcher none;
  CHECK_FALSE(none.feed("abc", rel));
  CHECK(rel == "abc");
}

TEST_CASE("stop strings: matched across tokens, never partly emitted") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = cat({v.bytes("The answer is 4. ST"), v.bytes("OP and more")});
  generate_options opt;
  opt.stop = {"STOP"};
  auto r = run(m, v, v.bytes("Q"), opt);
  CHECK(r.content == "The answer is 4. ");
  CHECK(r.st.stop == stop_reason::stop_string);
  CHECK(r.st.stop_string == "STOP");
}

TEST_CASE("stop strings: a near miss is released as text at the end") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = v.bytes("ends with STO");
  generate_options opt;
  opt.stop = {"STOP"};
  auto r = run(m, v, v.bytes("Q"), opt);
  CHECK(r.content == "ends with STO");
  CHECK(r.st.stop == stop_reason::eos);
}

TEST_CASE("stop strings: one spanning the end of the thought and the answer") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = cat({v.bytes("abc"), {v.end_think}, v.bytes("\n\nxyz")});
  generate_options opt;
  opt.stop = {"c</think>\n\nx"};
  auto r = run(m, v, cat({v.bytes("Q"), {v.think}}), opt);
  CHECK(r.reasoning == "ab");
  CHECK(r.content.empty());
  CHECK(r.st.stop == stop_reason::stop_string);
}

TEST_CASE("budget: wrap-up text is shown as reasoning, then the thought closes; counts stay exact") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  std::vector<int32_t> thought;
  for (int i = 0; i < 30; ++i) thought.push_back('a' + i % 26);
  m.script = cat({thought});
  generate_options opt;
  opt.max_reasoning_tokens = 3;
  opt.wrap_up_text = "\nTime is up.\n";
  opt.max_tokens = 8;
  auto r = run(m, v, cat({v.bytes("Q"), {v.think}}), opt);
  CHECK(r.reasoning == "abc\nTime is up.");
  CHECK(r.st.reasoning_tokens == 3);
  CHECK(r.st.injected_tokens == 13 + 4);  // wrap-up bytes + "\n", "</think>", "\n", "\n"
  CHECK(!r.content.empty());
}

TEST_CASE("budget forcing: an early close is replaced by the continuation word") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  // The model tries to close at once (R1's empty thought), then after "Wait" thinks 3 tokens and closes.
  m.script = cat({{v.end_think}, v.bytes("xyz"), {v.end_think}, v.bytes("ok")});
  generate_options opt;
  opt.min_reasoning_tokens = 2;
  opt.continue_text = "Wait";
  auto r = run(m, v, cat({v.bytes("Q"), {v.think}, v.bytes("\n")}), opt);
  // The rejected close came from the prompt's logits; the forward of "Wait" yields 'x'.
  CHECK(r.reasoning == "Waitxyz");
  CHECK(r.content == "ok");
  CHECK(r.st.reasoning_tokens == 3);
  CHECK(r.st.injected_tokens == 4);
}

TEST_CASE("budget forcing: end-of-generation inside a short thought is refused too") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = cat({v.bytes("a"), {v.eos}, v.bytes("bcd"), {v.end_think}, v.bytes("ok")});
  generate_options opt;
  opt.min_reasoning_tokens = 3;
  opt.continue_text = " Wait";
  auto r = run(m, v, cat({v.bytes("Q"), {v.think}}), opt);
  CHECK(r.reasoning == "a Waitbcd");
  CHECK(r.content == "ok");
  CHECK(r.st.stop == stop_reason::eos);
}

TEST_CASE("budget forcing: a textual close tag split over tokens is caught at its first piece") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = cat({{v.id("</")}, v.bytes("more"), {v.id("</"), v.id("think"), v.id(">")}, v.bytes("A")});
  generate_options opt;
  opt.min_reasoning_tokens = 1;
  opt.continue_text = "Hmm";
  auto r = run(m, v, cat({v.bytes("Q"), {v.think}}), opt);
  CHECK(r.reasoning == "Hmmmore");
  CHECK(r.content == "A");
}

TEST_CASE("options are validated") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  session s(m, *v.tok, 64, 1);
  auto sink = [](channel, std::string_view) { return true; };
  auto p = v.bytes("Q");
  generate_options o;
  o.min_reasoning_tokens = 5;
  o.max_reasoning_tokens = 2;
  CHECK_THROWS_WITH_AS(s.generate(p, o, sink), doctest::Contains("exceeds max_reasoning_tokens"), error);
  o = {};
  o.stop = {std::string("\xff")};
  CHECK_THROWS_WITH_AS(s.generate(p, o, sink), doctest::Contains("stop string is not valid UTF-8"), error);
  o = {};
  o.close_tag = "";
  CHECK_THROWS_AS(s.generate(p, o, sink), error);
}

TEST_CASE("token events: ids, channels, tags, injections and raw logprobs") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = cat({v.bytes("ab"), {v.end_think}, v.bytes("c")});
  session s(m, *v.tok, 256, 1);
  generate_options opt;
  opt.sampling.temperature = 0;
  opt.logprobs = 2;
  struct seen {
    int32_t id;
    channel ch;
    bool tag, injected;
    double lp;
    std::vector<token_logprob> top;
  };
  std::vector<seen> ev;
  auto p = cat({v.bytes("Q"), {v.think}});
  s.generate(p, opt, [](channel, std::string_view) { return true; }, true, [&](const token_event& e) {
    ev.push_back({e.id, e.ch, e.is_tag, e.injected, e.logprob, {e.top.begin(), e.top.end()}});
    return true;
  });
  REQUIRE(ev.size() == 4);
  // The scripted model gives the next token logit 10 and every other 0.
  const double lse = 10.0 + std::log1p((v.tok->n_vocab() - 1) * std::exp(-10.0));
  CHECK(ev[0].id == 'a');
  CHECK(ev[0].ch == channel::reasoning);
  CHECK(ev[0].lp == doctest::Approx(10.0 - lse).epsilon(1e-6));
  REQUIRE(ev[0].top.size() == 2);
  CHECK(ev[0].top[0].id == 'a');
  CHECK(ev[0].top[1].id == 0);  // ties among the rest go to the lowest id
  CHECK(ev[0].top[1].logprob == doctest::Approx(-lse).epsilon(1e-6));
  CHECK(ev[2].id == v.end_think);
  CHECK(ev[2].tag);
  CHECK(ev[3].ch == channel::content);
}

TEST_CASE("prefix reuse: a prompt that extends the cached context evaluates only the new tokens") {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  // Always answer 'x' then EOS after an 'x'.
  m.next = [&](const std::vector<int32_t>& ctx, float* l) { l[ctx.back() == 'x' ? v.eos : 'x'] = 10; };
  session s(m, *v.tok, 256, 1);
  generate_options opt;
  opt.sampling.temperature = 0;
  auto sink = [](channel, std::string_view) { return true; };
  auto p1 = v.bytes("first question ");
  auto st1 = s.generate(p1, opt, sink);
  CHECK(st1.prompt_reused == 0);
  CHECK(s.tokens().size() == p1.size() + 1);  // + 'x'
  auto p2 = s.tokens();
  const auto more = v.bytes("second ");
  p2.insert(p2.end(), more.begin(), more.end());
  m.evaluated = 0;
  auto st2 = s.generate(p2, opt, sink);
  // Everything up to and including the generated 'x' is cached: only the new text is evaluated.
  CHECK(st2.prompt_reused == p1.size() + 1);
  CHECK(m.evaluated == more.size() + 1);  // the new turn, then the generated 'x'
  // A prompt that diverges early is recomputed from the first differing token.
  auto p3 = v.bytes("first answer");
  auto st3 = s.generate(p3, opt, sink);
  CHECK(st3.prompt_reused == 6);  // "first "
}

TEST_CASE("n samples share the prompt cache and draw with consecutive seeds") {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  // After the prompt: '1', '2' or '3' equally likely, then EOS.
  size_t prompt_len = 0;
  m.next = [&](const std::vector<int32_t>& ctx, float* l) {
    if (ctx.size() == prompt_len)
      for (int c : {'1', '2', '3'}) l[c] = 5;
    else
      l[v.eos] = 10;
  };
  session s(m, *v.tok, 256, 1);
  auto p = v.bytes("pick a digit: ");
  prompt_len = p.size();
  generate_options opt;
  opt.sampling.temperature = 1.0f;
  opt.sampling.top_k = 0;
  opt.sampling.top_p = 1.0f;
  opt.sampling.min_p = 0.0f;
  opt.sampling.seed = 7;
  std::vector<std::string> outs(12);
  m.evaluated = 0;
  auto stats = s.generate_samples(p, 12, opt, [&](uint32_t i, channel, std::string_view t) {
    outs.at(i) += t;
    return true;
  });
  REQUIRE(stats.size() == 12);
  // The prompt was evaluated once; each sample evaluated its one digit (EOS is never evaluated).
  CHECK(m.evaluated == p.size() + 12);
  int distinct = 0;
  for (char c : {'1', '2', '3'}) distinct += std::count(outs.begin(), outs.end(), std::string(1, c)) > 0;
  CHECK(distinct >= 2);
  // Sample i is the same as a single generation with seed + i.
  for (uint32_t i : {0u, 5u, 11u}) {
    generate_options o = opt;
    o.sampling.seed = opt.sampling.seed + i;
    std::string one;
    s.generate(p, o, [&](channel, std::string_view t) {
      one += t;
      return true;
    });
    CHECK(one == outs[i]);
  }
}

TEST_CASE("tags between multi-byte characters fed byte by byte never leak or split a character") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  // "中</think>文": the close tag sits between two 3-byte characters, all of it one byte per token.
  m.script = cat({v.bytes("\xE4\xB8\xAD</think>\xE6\x96\x87")});
  auto r = run(m, v, cat({v.bytes("Q"), {v.think}}), {});
  CHECK(r.reasoning == "\xE4\xB8\xAD");
  CHECK(r.content == "\xE6\x96\x87");
}

TEST_CASE("a stop string made of multi-byte characters, split across tokens") {
  test_vocab v;
  scripted_model m(v.tok->n_vocab(), v.eos);
  m.script = v.bytes("ok \xE7\xBB\x93\xE6\x9D\x9F more");  // "ok 结束 more", byte by byte
  generate_options opt;
  opt.stop = {"\xE7\xBB\x93\xE6\x9D\x9F"};
  auto r = run(m, v, v.bytes("Q"), opt);
  CHECK(r.content == "ok ");
  CHECK(r.st.stop == stop_reason::stop_string);
}
