// The Jinja chat-template engine (lib/chat): the input is "<template text>\0<message text>". The template
// renders a fixed four-message conversation in which the user turn and the assistant's reasoning carry
// the fuzzed message text, with the engine's default resource limits (output size, loop iterations, call
// depth, evaluation steps): any template must end, quickly, in text or in error(format).
#include <string>

#include "chat/chat_template.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dianoia::detail;
  // Plain variables, not a structured binding: clang 14 cannot capture those in a lambda.
  const auto parts = dianoia::fuzz::split_at_nul(dianoia::fuzz::as_text(data, size));
  const std::string_view tmpl = parts.first, text = parts.second;

  chat_template_inputs in;
  in.messages = {
      {"system", "You are a helpful assistant."},
      {"user", std::string(text)},
      {"assistant", "The answer is 4.", std::string(text)},
      {"user", "Thanks! <think>"},
  };
  in.bos_token = "<|begin_of_text|>";
  in.eos_token = "<|im_end|>";
  // Vary the context a little with the input so that both branches of the usual tests are reachable.
  in.add_generation_prompt = size % 2 == 0;
  if (size % 3 != 0) in.enable_thinking = size % 3 == 1;

  std::string out;
  if (dianoia::fuzz::expect_ok([&] { out = render_chat_template(tmpl, in); }) && out.size() > (size_t{16} << 20))
    dianoia::fuzz::violated("chat template output over the 16 MiB limit");
  return 0;
}
