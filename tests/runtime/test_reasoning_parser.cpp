// reasoning_parser: channel split, tags split at any byte, UTF-8 integrity, whitespace rules,
// force_close and finish.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "runtime/reasoning_parser.hpp"

using namespace dianoia::detail;

namespace {

struct options {
  std::string open = "<think>";
  std::string close = "</think>";
  bool start_in_reasoning = false;
  bool enabled = true;
};

struct result {
  std::string reasoning, content;
  channel state = channel::content;
};

// Every event must be non-empty whole-character UTF-8 and free of the tags that delimit the thought.
void check_event(const text_event& e, const options& o, bool tags_may_appear_in_content) {
  CHECK_FALSE(e.text.empty());
  CHECK(utf8_valid(e.text));
  if (e.ch == channel::reasoning || !tags_may_appear_in_content) {
    CHECK(e.text.find(o.close) == std::string::npos);
    if (e.ch == channel::content) CHECK(e.text.find(o.open) == std::string::npos);
  }
}

result run(const std::vector<std::string>& pieces, const options& o = {}, bool tags_in_content = false) {
  reasoning_parser p(o.open, o.close, o.start_in_reasoning, o.enabled);
  result r;
  std::vector<text_event> ev;
  auto collect = [&] {
    for (const auto& e : ev) {
      check_event(e, o, tags_in_content);
      (e.ch == channel::reasoning ? r.reasoning : r.content) += e.text;
    }
    ev.clear();
  };
  for (const auto& piece : pieces) {
    p.feed(piece, ev);
    collect();
  }
  p.finish(ev);
  collect();
  r.state = p.state();
  return r;
}

// The same byte stream fed whole, byte by byte, split at every single point and (for short streams)
// at every pair of points must give the same channels.
void check_all_splits(const std::string& s, const std::string& reasoning, const std::string& content,
                      const options& o = {}, bool tags_in_content = false) {
  auto expect = [&](const std::vector<std::string>& pieces, const char* how) {
    CAPTURE(how);
    const result r = run(pieces, o, tags_in_content);
    CHECK(r.reasoning == reasoning);
    CHECK(r.content == content);
  };
  CAPTURE(s);
  expect({s}, "whole");
  std::vector<std::string> bytes;
  for (char c : s) bytes.emplace_back(1, c);
  expect(bytes, "byte by byte");
  for (size_t i = 0; i <= s.size(); ++i) {
    CAPTURE(i);
    expect({s.substr(0, i), s.substr(i)}, "one split");
  }
  if (s.size() <= 48) {
    for (size_t i = 1; i < s.size(); ++i)
      for (size_t j = i + 1; j < s.size(); ++j) {
        CAPTURE(i);
        CAPTURE(j);
        expect({s.substr(0, i), s.substr(i, j - i), s.substr(j)}, "two splits");
      }
  }
}

}  // namespace

TEST_CASE("tags as single pieces") {
  const result r = run({"<think>", "\n", "Hmm", ",", " 2+2", "\n", "</think>", "\n\n", "It is", " 4."});
  CHECK(r.reasoning == "Hmm, 2+2");
  CHECK(r.content == "It is 4.");
  CHECK(r.state == channel::content);
}

TEST_CASE("tags split at every possible byte boundary") {
  check_all_splits("<think>\nLet me think.\n</think>\n\nThe answer.", "Let me think.", "The answer.");
  check_all_splits("<think> a \n\n b </think> c d ", "a \n\n b", "c d ");
  check_all_splits("  \n<think>x</think>y", "x", "y");
  check_all_splits("<think>a<</think>b", "a<", "b");
  check_all_splits("<think>x</think</think>y", "x</think", "y");
  check_all_splits("<think>\n\n</think>\n\nX", "", "X");  // empty thought
  check_all_splits("<think>é</think>ü", "é", "ü");
  check_all_splits("<think>ça 😀 va\n</think>\n日本", "ça 😀 va", "日本");
}

TEST_CASE("tag split in the middle of a multi-byte run") {
  options o;
  o.start_in_reasoning = true;
  result r = run({"é</th", "ink>ü"}, o);
  CHECK(r.reasoning == "é");
  CHECK(r.content == "ü");
  r = run({"\xC3", "\xA9</th", "ink>\xC3", "\xBC"}, o);
  CHECK(r.reasoning == "é");
  CHECK(r.content == "ü");
  check_all_splits("éé</think>üü", "éé", "üü", o);
}

TEST_CASE("a 4-byte emoji over 4 feeds, in each channel") {
  const std::string smile = "😀", party = "🎉";
  REQUIRE(smile.size() == 4);
  std::vector<std::string> pieces{"<think>"};
  for (char c : smile) pieces.emplace_back(1, c);
  pieces.push_back("</think>");
  for (char c : party) pieces.emplace_back(1, c);
  // run() checks every event is valid UTF-8, i.e. no event carries a piece of the character.
  const result r = run(pieces);
  CHECK(r.reasoning == smile);
  CHECK(r.content == party);

  // Nothing is emitted before the character is whole.
  reasoning_parser p;
  std::vector<text_event> ev;
  p.feed("<think>", ev);
  for (int i = 0; i < 3; ++i) p.feed(smile.substr(i, 1), ev);
  CHECK(ev.empty());
  p.feed(smile.substr(3), ev);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].text == smile);
}

TEST_CASE("false tag prefixes stay text") {
  result r = run({"<think>x", "</thinking is", " fun</think>ok"});
  CHECK(r.reasoning == "x</thinking is fun");
  CHECK(r.content == "ok");
  r = run({"<th", "e cat"});
  CHECK(r.reasoning.empty());
  CHECK(r.content == "<the cat");
  check_all_splits("<thinking>no", "", "<thinking>no", {}, true);
  check_all_splits("<think>a </thin b</think>c", "a </thin b", "c");
  check_all_splits("<<think>x", "", "<<think>x", {}, true);  // an open tag only counts at the very start
}

TEST_CASE("held whitespace and partial tag are released by the next character") {
  reasoning_parser p;
  std::vector<text_event> ev;
  p.feed("<think>a \n", ev);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].text == "a");  // the run waits: it might precede </think>
  ev.clear();
  p.feed("</t", ev);
  CHECK(ev.empty());
  p.feed("x", ev);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].ch == channel::reasoning);
  CHECK(ev[0].text == " \n</tx");
}

TEST_CASE("start_in_reasoning: the prompt opened the thought") {
  options o;
  o.start_in_reasoning = true;
  check_all_splits("\nReason.\n</think>\n\nAnswer", "Reason.", "Answer", o);
  // An open tag inside the thought is reasoning text.
  check_all_splits("<think>x</think>y", "<think>x", "y", o);
  reasoning_parser p("<think>", "</think>", true);
  CHECK(p.state() == channel::reasoning);
}

TEST_CASE("disabled parser: everything is content, verbatim") {
  options o;
  o.enabled = false;
  const std::string raw = "  <think>\n a </think>\n\nb <think>";
  check_all_splits(raw, "", raw, o, true);
  reasoning_parser p("<think>", "</think>", true, false);
  CHECK(p.state() == channel::content);
  std::vector<text_event> ev;
  p.feed("x</think>", ev);
  p.force_close(ev);
  p.finish(ev);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].text == "x</think>");
}

TEST_CASE("content: tags after the thought and tags without a thought are text") {
  check_all_splits("<think>a</think>b <think>c</think>", "a", "b <think>c</think>", {}, true);
  check_all_splits("Hello <think>x</think>", "", "Hello <think>x</think>", {}, true);
  check_all_splits("  hi", "", "  hi");  // no thought: leading whitespace is part of the answer
  check_all_splits("</think>z", "", "</think>z", {}, true);
}

TEST_CASE("force_close mid-word") {
  reasoning_parser p;
  std::vector<text_event> ev;
  p.feed("<think>\nI am thin", ev);
  CHECK(p.state() == channel::reasoning);
  p.force_close(ev);
  CHECK(p.state() == channel::content);
  p.feed("\n\nAnswer", ev);
  p.finish(ev);
  std::string r, c;
  for (auto& e : ev) (e.ch == channel::reasoning ? r : c) += e.text;
  CHECK(r == "I am thin");
  CHECK(c == "Answer");
}

TEST_CASE("force_close: held whitespace dropped, partial tag and incomplete character flushed, echo swallowed") {
  auto split = [](reasoning_parser& p, std::vector<std::string> before, std::vector<std::string> after) {
    std::vector<text_event> ev;
    for (auto& s : before) p.feed(s, ev);
    p.force_close(ev);
    for (auto& s : after) p.feed(s, ev);
    p.finish(ev);
    result r;
    for (auto& e : ev) {
      CHECK(utf8_valid(e.text));
      (e.ch == channel::reasoning ? r.reasoning : r.content) += e.text;
    }
    return r;
  };
  {
    reasoning_parser p;
    const result r = split(p, {"<think>abc \n"}, {"X"});
    CHECK(r.reasoning == "abc");
    CHECK(r.content == "X");
  }
  {
    reasoning_parser p;
    const result r = split(p, {"<think>abc </th"}, {});
    CHECK(r.reasoning == "abc </th");
    CHECK(r.content.empty());
  }
  {
    reasoning_parser p;
    const result r = split(p, {"<think>caf", "\xC3"}, {"ok"});
    CHECK(r.reasoning == "caf\xEF\xBF\xBD");
    CHECK(r.content == "ok");
  }
  {
    // The runtime injects the close tag after the budget: it must not show up as content.
    reasoning_parser p;
    const result r = split(p, {"<think>step 1"}, {"\n", "</th", "ink>", "\n\n", "Final"});
    CHECK(r.reasoning == "step 1");
    CHECK(r.content == "Final");
  }
  {
    // Only one echo is swallowed, and only before any content.
    reasoning_parser p;
    const result r = split(p, {"<think>s"}, {"</think>", "a</think>"});
    CHECK(r.content == "a</think>");
  }
  {
    reasoning_parser p;
    const result r = split(p, {"<think>s"}, {"</thi"});
    CHECK(r.content == "</thi");  // finish: the unfinished echo is content text
  }
  {
    // Outside reasoning it does nothing.
    reasoning_parser p;
    std::vector<text_event> ev;
    p.feed("<think>a</think>b", ev);
    const size_t n = ev.size();
    p.force_close(ev);
    CHECK(ev.size() == n);
    p.feed("</think>", ev);
    CHECK(ev.back().text.find("</think>") != std::string::npos);
  }
}

TEST_CASE("finish with a pending partial tag") {
  result r = run({"<think>abc</thi"});
  CHECK(r.reasoning == "abc</thi");
  CHECK(r.state == channel::reasoning);
  r = run({"<think>abc  "});
  CHECK(r.reasoning == "abc  ");
  r = run({"\n<thi"});
  CHECK(r.content == "\n<thi");
  CHECK(r.reasoning.empty());
  r = run({"<think>\n\n"});
  CHECK(r.reasoning.empty());
  CHECK(r.content.empty());
  r = run({"<think>a</think>\n\n"});
  CHECK(r.content.empty());
}

TEST_CASE("no close tag at all") {
  const result r = run({"<think>", "abc", " def"});
  CHECK(r.reasoning == "abc def");
  CHECK(r.content.empty());
  CHECK(r.state == channel::reasoning);
}

TEST_CASE("incomplete UTF-8 at the end becomes U+FFFD; invalid bytes too") {
  result r = run({"<think>a</think>b\xE2\x82"});
  CHECK(r.content == "b\xEF\xBF\xBD");
  r = run({"<think>a\xFF</think>b"});
  CHECK(r.reasoning == "a\xEF\xBF\xBD");
  CHECK(r.content == "b");
}

TEST_CASE("custom multi-byte tags") {
  options o;
  o.open = "◁think▷";
  o.close = "◁/think▷";
  check_all_splits("◁think▷ é ◁/thinkx ◁/think▷ ü", "é ◁/thinkx", "ü", o);
}

TEST_CASE("state() follows the stream; events of one call are merged per channel") {
  reasoning_parser p;
  std::vector<text_event> ev;
  CHECK(p.state() == channel::content);
  p.feed("<thi", ev);
  CHECK(p.state() == channel::content);
  p.feed("nk>", ev);
  CHECK(p.state() == channel::reasoning);
  p.feed("x</think>y", ev);
  CHECK(p.state() == channel::content);
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].ch == channel::reasoning);
  CHECK(ev[1].ch == channel::content);
  p.feed("z", ev);
  CHECK(ev.size() == 3);  // an earlier call's event is never extended
}

TEST_CASE("invalid tags are invalid_argument") {
  auto code = [](auto f) {
    try {
      f();
    } catch (const error& e) {
      return e.code();
    }
    return errc::ok;
  };
  CHECK(code([] { reasoning_parser p("", "</think>"); }) == errc::invalid_argument);
  CHECK(code([] { reasoning_parser p("<think>", ""); }) == errc::invalid_argument);
  CHECK(code([] { reasoning_parser p("<think>", "\xC3"); }) == errc::invalid_argument);
}
