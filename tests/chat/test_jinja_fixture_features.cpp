// Single-feature templates of tests/fixtures/chat_jinja_features.json, rendered by HF's jinja2
// environment (tools/make_chat_template_fixtures.py): each must render identically, or fail where
// jinja2 failed (with raise_exception's message).
#include <doctest/doctest.h>

#include <cstdio>

#include "chat/jinja_ast.hpp"
#include "chat/jinja_builtins.hpp"
#include "chat/jinja_interp.hpp"
#include "core/error.hpp"
#include "json_value.hpp"
#include "test_support.hpp"

using namespace dianoia;
namespace jj = dianoia::detail::jinja;

namespace {

const jj::value& field(const jj::value& obj, std::string_view key) {
  static const jj::value missing;
  const jj::value* v = obj.dict().find(key);
  return v ? *v : missing;
}

}  // namespace

TEST_CASE("engine features match HF's jinja2 environment (fixture)") {
  const std::string path = test::fixtures_dir() + "/chat_jinja_features.json";
  REQUIRE(test::file_exists(path));
  const jj::value fixture = test::parse_json(test::read_file(path));
  std::tm now{};
  REQUIRE(std::sscanf(field(fixture, "now").str().c_str(), "%d-%d-%d %d:%d:%d", &now.tm_year, &now.tm_mon,
                      &now.tm_mday, &now.tm_hour, &now.tm_min, &now.tm_sec) == 6);
  now.tm_year -= 1900;
  now.tm_mon -= 1;

  int passed = 0, total = 0;
  for (const jj::value& c : field(fixture, "cases").items()) {
    const std::string& tmpl = field(c, "template").str();
    CAPTURE(tmpl);
    std::vector<std::pair<std::string, jj::value>> globals;
    globals.emplace_back("strftime_now", jj::strftime_now_function(&now));
    for (const auto& [k, v] : field(c, "variables").dict().entries) globals.emplace_back(k.str(), v);
    std::string got;
    bool threw = false;
    try {
      const jj::template_ast ast = jj::parse_template(tmpl);
      jj::interpreter in(ast);
      got = in.render(globals);
    } catch (const detail::error& e) {
      threw = true;
      got = e.what();
    }
    bool ok;
    if (const jj::value& err = field(c, "error"); err.is_string()) {
      ok = threw && got.find(err.str()) != std::string::npos;
      CHECK_MESSAGE(ok, "expected error: " << err.str() << "\ngot: " << got);
    } else {
      ok = !threw && got == field(c, "expected").str();
      CHECK_MESSAGE(ok, "expected: " << field(c, "expected").str() << "\ngot:      " << got);
    }
    passed += ok;
    ++total;
  }
  MESSAGE(passed << "/" << total << " feature templates as jinja2");
  CHECK(total >= 30);
}
