// Every case of tests/fixtures/chat_templates.json (real templates rendered by HF transformers'
// apply_chat_template path) must render byte-identically, or fail where the reference failed.
#include <doctest/doctest.h>

#include <cstdio>
#include <map>

#include "chat/chat_template.hpp"
#include "core/error.hpp"
#include "json_value.hpp"
#include "test_support.hpp"

using namespace dianoia;
using detail::jinja::value;

namespace {

const value& field(const value& obj, std::string_view key) {
  static const value missing;
  const value* v = obj.dict().find(key);
  return v ? *v : missing;
}

std::string template_text(const value& entry) {
  if (const value& src = field(entry, "source"); src.is_string()) return src.str();
  const std::string path = test::data_dir() + "/" + field(entry, "path").str();
  REQUIRE_MESSAGE(test::file_exists(path), "missing shared data file " << path);
  const std::string text = test::read_file(path);
  if (const value& key = field(entry, "key"); key.is_string()) {
    const value cfg = test::parse_json(text);
    return field(cfg, key.str()).str();
  }
  return text;
}

std::string json_text(const value& v) {
  detail::jinja::json_options o;
  o.item_sep = ", ";
  o.key_sep = ": ";
  return detail::jinja::to_json(v, o);
}

// An HF message dict as chat_message: role and string content and reasoning_content in their fields,
// everything else (and a missing or non-string content) through extra_json.
detail::chat_message to_message(const value& m) {
  detail::chat_message msg;
  detail::jinja::dict_t extra;
  msg.role = field(m, "role").str();
  const value& content = field(m, "content");
  if (content.is_string()) {
    msg.content = content.str();
  } else {
    extra.set(value::string("content"), content.is_undefined() ? value::none() : content);
  }
  for (const auto& [k, v] : m.dict().entries) {
    if (k.str() == "role" || k.str() == "content") continue;
    if (k.str() == "reasoning_content" && v.is_string()) {
      msg.reasoning_content = v.str();
    } else {
      extra.set(k, v);
    }
  }
  if (extra.size()) msg.extra_json = json_text(value::dict(std::move(extra)));
  return msg;
}

std::tm parse_now(const std::string& s) {
  std::tm tm{};
  REQUIRE(std::sscanf(s.c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                      &tm.tm_sec) == 6);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return tm;
}

}  // namespace

TEST_CASE("chat templates render exactly as HF transformers") {
  const std::string path = test::fixtures_dir() + "/chat_templates.json";
  REQUIRE(test::file_exists(path));
  const value fixture = test::parse_json(test::read_file(path));
  const std::tm now = parse_now(field(fixture, "now").str());

  std::map<std::string, std::string> templates;
  for (const auto& [name, entry] : field(fixture, "templates").dict().entries) {
    templates[name.str()] = template_text(entry);
  }
  const value& tool_sets = field(fixture, "tool_sets");
  const value& conversations = field(fixture, "conversations");

  struct tally_t {
    int passed = 0, total = 0, errors = 0;
  };
  std::map<std::string, tally_t> tally;
  for (const value& c : field(fixture, "cases").items()) {
    const std::string tname = field(c, "template").str();
    const std::string cname = field(c, "conversation").str();
    const value& conv = field(conversations, cname);
    detail::chat_template_inputs in;
    for (const value& m : field(conv, "messages").items()) in.messages.push_back(to_message(m));
    if (const value& t = field(conv, "tools"); t.is_string()) in.tools_json = json_text(field(tool_sets, t.str()));
    if (const value& x = field(conv, "extra"); x.is_dict()) in.extra_context_json = json_text(x);
    in.add_generation_prompt = field(c, "add_generation_prompt").as_bool();
    if (const value& t = field(c, "enable_thinking"); t.is_bool()) in.enable_thinking = t.as_bool();
    in.bos_token = field(c, "bos_token").str();
    in.eos_token = field(c, "eos_token").str();
    in.now = now;

    std::string got;
    bool threw = false;
    try {
      got = detail::render_chat_template(templates.at(tname), in);
    } catch (const detail::error& e) {
      threw = true;
      got = e.what();
    }
    auto& t = tally[tname];
    ++t.total;
    bool ok;
    if (const value& err = field(c, "error"); err.is_string()) {
      ++t.errors;
      // raise_exception() messages must come through; other failures (undefined values) only need to fail.
      ok = threw && (field(c, "error_type").str() != "TemplateError" || got.find(err.str()) != std::string::npos);
      CHECK_MESSAGE(ok, tname << " / " << cname << " gen=" << in.add_generation_prompt << "\nexpected error: "
                              << err.str() << "\ngot: " << got);
    } else {
      const std::string& expected = field(c, "expected").str();
      ok = !threw && got == expected;
      CHECK_MESSAGE(ok, tname << " / " << cname << " gen=" << in.add_generation_prompt << "\nexpected: " << expected
                              << "\ngot:      " << got);
    }
    t.passed += ok;
  }
  for (const auto& [name, t] : tally) {
    MESSAGE(name << ": " << t.passed << "/" << t.total << " cases as HF (" << t.errors << " expected errors)");
  }
  CHECK(tally.size() == 7);
  for (const auto& [name, t] : tally) CHECK(t.total - t.errors >= 20);
}
