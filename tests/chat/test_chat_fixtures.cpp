// Every case of tests/fixtures/chat_templates.json (real templates rendered by HF transformers) must
// render byte-identically.
#include <doctest/doctest.h>

#include <map>

#include "chat/chat_template.hpp"
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

}  // namespace

TEST_CASE("chat templates render exactly as HF transformers") {
  const std::string path = test::fixtures_dir() + "/chat_templates.json";
  REQUIRE(test::file_exists(path));
  const value fixture = test::parse_json(test::read_file(path));

  std::map<std::string, std::string> templates;
  for (const auto& [name, entry] : field(fixture, "templates").dict().entries) {
    templates[name.str()] = template_text(entry);
  }

  std::map<std::string, std::pair<int, int>> tally;  // template -> (passed, total)
  for (const value& c : field(fixture, "cases").items()) {
    const std::string tname = field(c, "template").str();
    detail::chat_template_inputs in;
    for (const value& m : field(c, "messages").items()) {
      detail::chat_message msg{field(m, "role").str(), field(m, "content").str(), std::nullopt};
      if (const value& r = field(m, "reasoning_content"); r.is_string()) msg.reasoning_content = r.str();
      in.messages.push_back(std::move(msg));
    }
    in.add_generation_prompt = field(c, "add_generation_prompt").as_bool();
    if (const value& t = field(c, "enable_thinking"); t.is_bool()) in.enable_thinking = t.as_bool();
    in.bos_token = field(c, "bos_token").str();
    in.eos_token = field(c, "eos_token").str();

    const std::string expected = field(c, "expected").str();
    std::string got;
    try {
      got = detail::render_chat_template(templates.at(tname), in);
    } catch (const std::exception& e) {
      got = std::string("<error: ") + e.what() + ">";
    }
    auto& [passed, total] = tally[tname];
    ++total;
    if (got == expected) {
      ++passed;
    } else {
      CHECK_MESSAGE(got == expected, tname << " / " << field(c, "name").str() << " gen="
                                           << in.add_generation_prompt << "\nexpected: " << expected
                                           << "\ngot:      " << got);
    }
  }
  for (const auto& [name, pt] : tally) MESSAGE(name << ": " << pt.first << "/" << pt.second << " cases identical");
  CHECK(tally.size() == 5);
}
