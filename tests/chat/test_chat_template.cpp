// render_chat_template: the context it builds for a template, as HF's apply_chat_template does.
#include <doctest/doctest.h>

#include "chat/chat_template.hpp"

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
