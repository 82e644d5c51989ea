// dianoia chat: an interactive conversation on stdin/stdout. Each line is a user turn; the reply
// streams (thinking dimmed). The KV cache is kept between turns, and --save-session/--load-session
// carry the whole conversation across processes. An empty line or end of input ends it. /reset, /save FILE,
// /load FILE and /budget N act on the conversation; Ctrl-C stops an answer (and at the prompt, leaves).
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include <dianoia/dianoia.hpp>

#include "catalogue.hpp"
#include "cli.hpp"
#include "gen_options.hpp"
#include "printer.hpp"

namespace cli {
namespace {

// A /command typed at the prompt; returns the line to show. Errors (a file that cannot be read, a bad
// number) are shown, and the conversation goes on.
std::string chat_command(const std::string& line, dianoia::conversation& conv, gen_options& g,
                         const std::function<void()>& reset) {
  const size_t sp = line.find(' ');
  const std::string cmd = line.substr(0, sp);
  std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);
  arg.erase(0, arg.find_first_not_of(' '));
  arg.erase(arg.find_last_not_of(' ') + 1);
  try {
    if (cmd == "/reset") {
      reset();
      return "[new conversation]";
    }
    if ((cmd == "/save" || cmd == "/load") && arg.empty()) return "[" + cmd + " needs a file name]";
    if (cmd == "/save") {
      conv.save(arg);
      return "[saved to " + arg + "]";
    }
    if (cmd == "/load") {
      conv.load(arg);
      return "[loaded " + std::to_string(conv.messages().size()) + " messages from " + arg + "]";
    }
    if (cmd == "/budget") {
      g.p.max_reasoning_tokens = static_cast<int32_t>(to_long(arg, "/budget", -1, 2147483647));
      return g.p.max_reasoning_tokens < 0 ? "[thinking budget: none]"
                                          : "[thinking budget: " + std::to_string(g.p.max_reasoning_tokens) + " tokens]";
    }
  } catch (const std::exception& e) {
    return std::string("[") + e.what() + "]";
  }
  return "[commands: /reset, /save FILE, /load FILE, /budget N (-1: no budget); an empty line ends the chat]";
}

}  // namespace

int cmd_chat(int argc, char** argv) {
  args a(argc, argv, 2);
  std::string model_path, system, v, save_path, load_path;
  model_path = a.value({"-m", "--model"}, model_path) ? resolve_model(model_path) : default_model_path();
  a.value({"-s", "--system"}, system);
  gen_options g;
  g.parse(a);
  dianoia_session_params sp = dianoia_session_default_params();
  dianoia::model::params mp;
  parse_session_flags(a, sp);
  if (a.value({"-c", "--ctx-size"}, v)) mp.context_length = static_cast<uint32_t>(to_long(v, "-c", 0, 1L << 24));
  if (a.value({"--max-memory"}, v)) mp.max_memory_bytes = static_cast<uint64_t>(to_long(v, "--max-memory", 0, 1L << 30)) << 20;
  mp.use_mmap = !a.flag("--no-mmap");
  a.value({"--save-session"}, save_path);
  a.value({"--load-session"}, load_path);
  const bool json = a.flag("--json"), hide = a.flag("--hide-reasoning");
  a.finish();
  if (g.p.logprobs >= 0 && !json) throw std::runtime_error("--logprobs shows in --json output only: add --json");

  dianoia::model model = load_model(model_path, mp);
  g.apply_model_defaults(model.get());
  dianoia::session session(model, sp);
  auto conv = std::make_unique<dianoia::conversation>(session);
  auto start = [&] {
    conv = std::make_unique<dianoia::conversation>(session);
    if (!system.empty()) conv->add("system", system);
  };
  if (!load_path.empty()) {
    conv->load(load_path);
    if (!json) std::fprintf(stderr, "[restored %zu messages]\n", conv->messages().size());
  } else {
    start();
  }
  printer out(json, hide);
  std::string line;
  for (;;) {
    // Ctrl-C at the prompt leaves; during an answer it stops the answer only.
    std::signal(SIGINT, SIG_DFL);
    if (!json) std::fputs("> ", stderr);
    if (!std::getline(std::cin, line) || line.empty()) break;
    if (line[0] == '/') {
      if (!json) std::fprintf(stderr, "%s\n", chat_command(line, *conv, g, start).c_str());
      continue;
    }
    cancel_on_sigint(session.get());
    auto done = conv->send(line, [&](const dianoia::event& ev) { return out.on_event(ev); }, g.p);
    cancel_on_sigint(nullptr);
    out.done(done);
    if (!save_path.empty()) conv->save(save_path);
  }
  return 0;
}

}  // namespace cli
