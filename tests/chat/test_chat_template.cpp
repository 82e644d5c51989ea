// render_chat_template: the context it builds for a template, as HF's apply_chat_template does.
#include <doctest/doctest.h>

#include "chat/chat_template.hpp"
#include "core/error.hpp"

using namespace dianoia;
using detail::chat_message;
using detail::chat_template_inputs;
using detail::render_chat_template;

TEST_CASE("context variables") {
  chat_template_inputs in;
  in.messages = {{"system", "S", std::nullopt}, {"user", "U", std::nullopt}};
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  const char* t =
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m['content'] }}]{% endfor %}{{ eos_token }}"
      "|{{ add_generation_prompt }}|{{ tools is none }}|{{ documents is none }}|{{ enable_thinking is defined }}";
  CHECK(render_chat_template(t, in) == "<s>[system:S][user:U]</s>|True|True|True|False");
  in.add_generation_prompt = false;
  in.enable_thinking = false;
  CHECK(render_chat_template("{{ add_generation_prompt }} {{ enable_thinking }}", in) == "False False");
}

TEST_CASE("reasoning_content is exposed under HF's aliases") {
  chat_template_inputs in;
  in.messages = {{"assistant", "A", std::string("R")}, {"user", "U", std::nullopt}};
  const char* t =
      "{% for m in messages %}{{ m.reasoning_content }}/{{ m.thinking }}/{{ m.reasoning_content is defined }}/"
      "{{ m | length }};{% endfor %}";
  CHECK(render_chat_template(t, in) == "R/R/True/4;//False/2;");
}

TEST_CASE("a template's trailing newline is dropped, as jinja2 does by default") {
  chat_template_inputs in;
  CHECK(render_chat_template("x\n", in) == "x");
  CHECK(render_chat_template("x\n\n", in) == "x\n");
  CHECK(render_chat_template("a\r\nb\rc", in) == "a\nb\nc");
}

TEST_CASE("tools, documents and extra variables come from JSON") {
  chat_template_inputs in;
  in.messages = {{"user", "U", std::nullopt}};
  in.tools_json = R"([{"type": "function", "function": {"name": "f", "parameters": {"x": 1.5, "y": null}}}])";
  in.documents_json = R"([{"title": "T", "text": "body"}])";
  in.extra_context_json = R"({"date_string": "1 Jan 2030", "builtin_tools": ["a", "b"], "bos_token": "<B>", "flag": false})";
  const char* t =
      "{{ tools[0].function.name }}|{{ tools | tojson }}|{{ documents[0].title }}|{{ date_string }}|"
      "{{ builtin_tools | join(',') }}|{{ bos_token }}|{{ flag is false }}";
  CHECK(render_chat_template(t, in) ==
        R"(f|[{"type": "function", "function": {"name": "f", "parameters": {"x": 1.5, "y": null}}}]|T|1 Jan 2030|a,b|<B>|True)");
  in.tools_json = "[]";
  CHECK(render_chat_template("{{ tools is none }}{{ tools | length }}", in) == "False0");
}

TEST_CASE("extra message members: tool calls, replaced and removed keys") {
  chat_template_inputs in;
  chat_message call{"assistant", "", std::nullopt};
  call.extra_json = R"({"tool_calls": [{"type": "function", "function": {"name": "get", "arguments": {"k": "v"}}}]})";
  chat_message result{"tool", "42", std::nullopt};
  result.extra_json = R"({"tool_call_id": "c1", "content": null})";
  chat_message blocks{"user", "ignored", std::nullopt};
  blocks.extra_json = R"({"content": [{"type": "text", "text": "hi"}]})";
  in.messages = {call, result, blocks};
  const char* t =
      "{% for m in messages %}{{ m | list }}:{{ m.tool_calls[0].function.arguments | tojson if m.tool_calls }}"
      "{{ m.content is defined }};{% endfor %}{{ messages[2].content[0].text }}";
  CHECK(render_chat_template(t, in) ==
        "['role', 'content', 'tool_calls']:{\"k\": \"v\"}True;['role', 'tool_call_id']:False;['role', 'content']:True;hi");
  // A reasoning field under another of HF's names is aliased like reasoning_content.
  chat_message r{"assistant", "A", std::nullopt};
  r.extra_json = R"({"reasoning": "R"})";
  in.messages = {r};
  CHECK(render_chat_template("{{ messages[0] | list }}{{ messages[0].reasoning_content }}", in) ==
        "['thinking', 'role', 'content', 'reasoning', 'reasoning_content']R");
}

TEST_CASE("strftime_now reads the injected clock") {
  chat_template_inputs in;
  std::tm now{};
  now.tm_year = 2025 - 1900;
  now.tm_mon = 2;
  now.tm_mday = 7;
  now.tm_hour = 14;
  in.now = now;
  // The weekday is derived from the date, as Python does.
  CHECK(render_chat_template("{{ strftime_now('%d %b %Y %a %H') }}", in) == "07 Mar 2025 Fri 14");
}

TEST_CASE("malformed JSON inputs are invalid_argument errors") {
  auto code_of = [](const chat_template_inputs& in) {
    try {
      render_chat_template("x", in);
    } catch (const detail::error& e) {
      return e.code();
    }
    return detail::errc::ok;
  };
  chat_template_inputs in;
  in.tools_json = "[{]";
  CHECK(code_of(in) == detail::errc::invalid_argument);
  in.tools_json = R"({"not": "a list"})";
  CHECK(code_of(in) == detail::errc::invalid_argument);
  in.tools_json.clear();
  in.extra_context_json = R"({"messages": []})";
  CHECK(code_of(in) == detail::errc::invalid_argument);
  in.extra_context_json = "[1]";
  CHECK(code_of(in) == detail::errc::invalid_argument);
  in.extra_context_json.clear();
  chat_message m{"user", "u", std::nullopt};
  m.extra_json = "\"str\"";
  in.messages = {m};
  CHECK(code_of(in) == detail::errc::invalid_argument);
}
