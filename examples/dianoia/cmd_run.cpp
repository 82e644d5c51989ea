// dianoia run: one reply (chat template) or a plain completion (--raw), streamed: the model's thinking
// dimmed, then its answer. With --samples N the prompt is answered N times from one prompt cache and
// with --vote the answers are majority-voted.
#include <fstream>
#include <iostream>
#include <iterator>

#include <dianoia/dianoia.hpp>

#include "catalogue.hpp"
#include "cli.hpp"
#include "gen_options.hpp"
#include "printer.hpp"

namespace cli {
namespace {

std::string read_all(std::istream& in) { return std::string(std::istreambuf_iterator<char>(in), {}); }

}  // namespace

int cmd_run(int argc, char** argv) {
  args a(argc, argv, 2);
  std::string model_path, prompt, prompt_file, system, v, save_path, load_path;
  model_path = a.value({"-m", "--model"}, model_path) ? resolve_model(model_path) : default_model_path();
  const bool have_prompt = a.value({"-p", "--prompt"}, prompt);
  const bool have_file = a.value({"-f", "--file"}, prompt_file);
  a.value({"-s", "--system"}, system);
  gen_options g;
  g.parse(a);
  dianoia_session_params sp = dianoia_session_default_params();
  dianoia::model::params mp;
  parse_session_flags(a, sp);
  if (a.value({"-c", "--ctx-size"}, v)) mp.context_length = static_cast<uint32_t>(to_long(v, "-c", 0, 1L << 24));
  if (a.value({"--max-memory"}, v)) mp.max_memory_bytes = static_cast<uint64_t>(to_long(v, "--max-memory", 0, 1L << 30)) << 20;
  mp.use_mmap = !a.flag("--no-mmap");
  uint32_t samples = 1;
  if (a.value({"--samples"}, v)) samples = static_cast<uint32_t>(to_long(v, "--samples", 1, 1024));
  // --vote alone is a majority vote; --vote confidence weighs the samples by their confidence (DeepConf).
  std::string vote_kind;
  const bool vote = a.flag_or_choice("--vote", {"majority", "confidence"}, vote_kind);
  if (vote_kind == "confidence") g.p.vote = g.online ? DIANOIA_VOTE_CONFIDENCE_ONLINE : DIANOIA_VOTE_CONFIDENCE;
  a.value({"--save-session"}, save_path);
  a.value({"--load-session"}, load_path);
  const bool raw = a.flag("--raw"), json = a.flag("--json"), hide = a.flag("--hide-reasoning");
  a.finish();
  if (g.p.logprobs >= 0 && !json) throw std::runtime_error("--logprobs shows in --json output only: add --json");
  if (have_file) {
    std::ifstream f(prompt_file, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + prompt_file);
    prompt = read_all(f);
  } else if (have_prompt && prompt == "-") {
    prompt = read_all(std::cin);
  }
  const bool continuing = !have_file && !have_prompt && !load_path.empty();
  if (!have_file && !have_prompt && !continuing)
    throw std::runtime_error("run needs a prompt: -p PROMPT, -p - (stdin), -f FILE, or --load-session F to continue");
  if (continuing && !raw) throw std::runtime_error("continuing a loaded session without a prompt needs --raw");
  if (samples < 1 || samples > 1024) throw std::runtime_error("--samples takes 1..1024");
  if (vote && samples < 2) throw std::runtime_error("--vote needs --samples N with N >= 2");
  if (samples > 1 && raw) throw std::runtime_error("--samples works on chat prompts (not with --raw)");
  // After samples the session holds no single conversation worth saving: refuse rather than drop it.
  if (samples > 1 && !save_path.empty()) throw std::runtime_error("--save-session saves one generation; not with --samples");
  if (raw && !system.empty()) throw std::runtime_error("-s/--system needs a chat prompt (not --raw)");
  if (!g.wrap_up.empty() && g.p.max_reasoning_tokens < 0)
    throw std::runtime_error("--wrap-up is fed at the thinking budget: give --max-reasoning-tokens N");
  if (!g.continue_text.empty() && g.p.min_reasoning_tokens <= 0)
    throw std::runtime_error("--continue-text replaces an early end of thought: give --min-reasoning-tokens N");
  if (raw && !g.reasoning_given) g.p.reasoning = DIANOIA_REASONING_OFF;

  dianoia::model model = load_model(model_path, mp);
  g.apply_model_defaults(model.get());
  dianoia::session session(model, sp);
  if (!load_path.empty()) session.load(load_path);
  cancel_on_sigint(session.get());

  printer out(json, hide);
  auto on_event = [&](const dianoia::event& ev) { return out.on_event(ev); };
  std::vector<dianoia::chat_message> msgs;
  if (!system.empty()) msgs.push_back({"system", system});
  msgs.push_back({"user", prompt});

  dianoia_event done{};
  if (samples > 1) {
    // DONE events arrive per sample; print each as it comes.
    auto each = [&](const dianoia::event& ev) {
      if (ev.type == DIANOIA_EVENT_DONE) out.done(*ev.raw);
      return out.on_event(ev);
    };
    auto result = session.chat_samples(msgs, samples, each, g.p);
    if (vote) out.vote(result, samples);
    cancel_on_sigint(nullptr);
    return 0;
  }
  if (continuing)
    done = session.complete(session.tokens(), on_event, g.p);
  else if (raw)
    done = session.complete(prompt, on_event, g.p);
  else
    done = session.chat(msgs, on_event, g.p);
  cancel_on_sigint(nullptr);
  out.done(done);
  if (!save_path.empty()) session.save(save_path);
  return done.stop_reason == DIANOIA_STOP_CANCELLED ? 130 : 0;
}

}  // namespace cli
