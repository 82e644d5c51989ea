// dianoia chat: an interactive conversation on stdin/stdout. Each line is a user turn; the reply
// streams (thinking dimmed). The KV cache is kept between turns, and --save-session/--load-session
// carry the whole conversation across processes. An empty line or end of input ends it.
#include <iostream>
#include <string>

#include <dianoia/dianoia.hpp>

#include "cli.hpp"
#include "gen_options.hpp"
#include "printer.hpp"

namespace cli {
int cmd_chat(int argc, char** argv) {
  args a(argc, argv, 2);
  std::string model_path, system, v, save_path, load_path;
  if (!a.value({"-m", "--model"}, model_path)) model_path = default_model_path();
  a.value({"-s", "--system"}, system);
  gen_options g;
  g.parse(a);
  dianoia_session_params sp = dianoia_session_default_params();
  dianoia::model::params mp;
  parse_session_flags(a, sp);
  if (a.value({"-c", "--ctx-size"}, v)) mp.context_length = static_cast<uint32_t>(to_long(v, "-c"));
  if (a.value({"--max-memory"}, v)) mp.max_memory_bytes = static_cast<uint64_t>(to_long(v, "--max-memory")) << 20;
  mp.use_mmap = !a.flag("--no-mmap");
  a.value({"--save-session"}, save_path);
  a.value({"--load-session"}, load_path);
  const bool json = a.flag("--json"), hide = a.flag("--hide-reasoning");
  a.finish();

  dianoia::model model(model_path, mp);
  g.apply_model_defaults(model.get());
  dianoia::session session(model, sp);
  dianoia::conversation conv(session);
  if (!load_path.empty()) {
    conv.load(load_path);
    if (!json) std::fprintf(stderr, "[restored %zu messages]\n", conv.messages().size());
  } else if (!system.empty()) {
    conv.add("system", system);
  }
  cancel_on_sigint(session.get());
  printer out(json, hide);
  std::string line;
  for (;;) {
    if (!json) std::fputs("> ", stderr);
    if (!std::getline(std::cin, line) || line.empty()) break;
    auto done = conv.send(line, [&](const dianoia::event& ev) { return out.on_event(ev); }, g.p);
    out.done(done);
    if (!save_path.empty()) conv.save(save_path);
  }
  cancel_on_sigint(nullptr);
  return 0;
}

}  // namespace cli
