// Failures are error(format) naming the line and column, never a crash, hang or unbounded allocation.
#include <doctest/doctest.h>

#include <string>

#include "chat/chat_template.hpp"
#include "core/error.hpp"

using namespace dianoia;

namespace {

// Renders `tmpl` with one user message and returns the error message (or fails the check).
std::string error_of(const std::string& tmpl) {
  detail::chat_template_inputs in;
  in.messages = {{"user", "hi", std::nullopt}};
  try {
    const std::string out = detail::render_chat_template(tmpl, in);
    FAIL_CHECK("expected an error, rendered " << out.size() << " bytes");
  } catch (const detail::error& e) {
    CHECK(e.code() == detail::errc::format);
    return e.what();
  }
  return {};
}

void expect_error(const std::string& tmpl, const std::string& where, const std::string& what) {
  const std::string msg = error_of(tmpl);
  CAPTURE(tmpl);
  CAPTURE(msg);
  CHECK(msg.find(where) != std::string::npos);
  CHECK(msg.find(what) != std::string::npos);
}

}  // namespace

TEST_CASE("syntax errors name line and column") {
  expect_error("ab\ncd {{ x ", "line 2, column 4", "unterminated expression tag");
  // The template's final newline is dropped (keep_trailing_newline=False), so the end is on line 2.
  expect_error("{% if true %}\n  {% for x in y %}\n", "line 2, column 19", "expected 'endfor'");
  expect_error("{% if true %}x", "line 1, column 15", "expected 'endif'");
  expect_error("{# open comment", "line 1, column 1", "unterminated comment");
  expect_error("{% raw %}never closed", "line 1, column 1", "unterminated raw block");
  expect_error("{{ 'abc }}", "line 1, column 4", "unterminated string literal");
  expect_error("x\n\n  {{ a | nosuchfilter }}", "line 3, column 8", "no filter named 'nosuchfilter'");
  expect_error("{% if a is nosuchtest %}{% endif %}", "line 1, column 9", "no test named 'nosuchtest'");
  expect_error("{% frobnicate %}", "line 1, column 4", "unknown or unexpected tag 'frobnicate'");
  expect_error("{% endif %}", "line 1, column 4", "unexpected tag 'endif'");
  expect_error("{{ 1 + }}", "line 1, column 8", "unexpected '}}'");
  expect_error("{{ (1, 2 }}", "line 1, column 10", "unexpected '}'");
  expect_error("{{ a ? b }}", "line 1, column 6", "unexpected character '?'");
  // Non-ASCII before the error counts as one column per character.
  expect_error("日本 {{ 1 + }}", "line 1, column 11", "unexpected '}}'");
}

TEST_CASE("runtime errors name line and column") {
  expect_error("{{ 1 + 'a' }}", "line 1, column 6", "unsupported operand type(s) for +: 'int' and 'str'");
  expect_error("ok\n{{ nope() }}", "line 2, column 4", "'nope' is undefined");
  expect_error("{{ nope + 1 }}", "line 1, column 9", "'nope' is undefined");
  expect_error("{{ 1 // 0 }}", "line 1, column 6", "division or modulo by zero");
  expect_error("{% set x = 5 %}{% set x.a = 1 %}", "line 1, column 16", "non-namespace");
  expect_error("{% for a, b in [[1, 2, 3]] %}{% endfor %}", "line 1, column 1", "cannot unpack");
  expect_error("{{ messages | tojson }}{{ nope | tojson }}", "line 1, column 32", "not JSON serializable");
}

TEST_CASE("formatting errors name line and column") {
  expect_error("{{ '{} {}'.format(1) }}", "line 1, column 11", "Replacement index 1 out of range");
  expect_error("{{ '%s %s' % ('a',) }}", "line 1, column 12", "not enough arguments for format string");
  expect_error("{{ '%d' | format('x') }}", "line 1, column 9", "real number is required");
  expect_error("{{ '{:d}'.format('x') }}", "line 1, column 10", "Unknown format code 'd'");
  expect_error("{{ 'a}'.format() }}", "line 1, column 8", "Single '}' encountered");
}

TEST_CASE("raise_exception surfaces its message") {
  const std::string tmpl =
      "{% for m in messages %}\n"
      "  {% if m.role != 'system' %}{{ raise_exception('Conversation roles must alternate!') }}{% endif %}\n"
      "{% endfor %}";
  expect_error(tmpl, "line 2, column 33", "Conversation roles must alternate!");
}

TEST_CASE("resource limits stop runaway templates") {
  SUBCASE("loop iterations") {
    expect_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                 "line 1, column 29", "loop iteration limit");
  }
  SUBCASE("output size") {
    expect_error("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "line 1", "output exceeds the size limit");
  }
  SUBCASE("string size") {
    expect_error("{{ 'x' * 100000000 }}", "line 1, column 8", "exceeds the size limit");
    expect_error("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                 "line 1", "exceeds the size limit");
  }
  SUBCASE("range size") { expect_error("{% for i in range(10**9) %}{% endfor %}", "line 1", "range too big"); }
  SUBCASE("recursion depth") {
    expect_error("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "line 1", "recursion depth limit (64)");
  }
  SUBCASE("exponential work") {
    expect_error("{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
                 "line 1", "evaluation step limit");
  }
  SUBCASE("self-referencing containers") {
    expect_error("{% set l = [] %}{% set _ = l.append(l) %}{{ l }}", "line 1", "nesting deeper");
  }
  SUBCASE("deeply nested source") {
    const std::string deep = "{{ " + std::string(2000, '(') + "1" + std::string(2000, ')') + " }}";
    expect_error(deep, "line 1", "nesting deeper than");
    std::string ifs;
    for (int i = 0; i < 1000; ++i) ifs += "{% if true %}";
    expect_error(ifs, "line 1", "nesting deeper than");
  }
  SUBCASE("format widths") {
    expect_error("{{ '{:>99999999}'.format('x') }}", "line 1", "format width or precision too big");
    expect_error("{{ '%99999999s' | format('x') }}", "line 1", "format width or precision too big");
    expect_error("{{ 'x'.center(99999999999) }}", "line 1", "exceeds the size limit");
    expect_error("{{ 'x' | center(99999999999) }}", "line 1", "exceeds the size limit");
  }
  SUBCASE("integer overflow") { expect_error("{{ 2 ** 200 }}", "line 1, column 6", "integer overflow"); }
}
