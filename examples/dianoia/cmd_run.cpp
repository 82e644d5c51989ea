// dianoia run: stream a model's thinking (dim) and its answer.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include <dianoia/dianoia.hpp>

#include "cli.hpp"

namespace cli {
namespace {

dianoia_session* g_session = nullptr;

extern "C" void on_sigint(int) {
  // dianoia_session_cancel only sets an atomic flag, so it is safe in a signal handler.
  if (g_session) dianoia_session_cancel(g_session);
}

const char* stop_name(dianoia_stop_reason r) {
  switch (r) {
    case DIANOIA_STOP_EOS: return "eos";
    case DIANOIA_STOP_MAX_TOKENS: return "max_tokens";
    case DIANOIA_STOP_CONTEXT_FULL: return "context_full";
    case DIANOIA_STOP_CANCELLED: return "cancelled";
    case DIANOIA_STOP_CALLBACK: return "callback";
    default: return "none";
  }
}

std::string read_all(std::istream& in) { return std::string(std::istreambuf_iterator<char>(in), {}); }

}  // namespace

int cmd_run(int argc, char** argv) {
  args a(argc, argv, 2);
  std::string model_path, prompt, prompt_file, system, v;
  if (!a.value({"-m", "--model"}, model_path)) model_path = default_model_path();
  const bool have_prompt = a.value({"-p", "--prompt"}, prompt);
  const bool have_file = a.value({"-f", "--file"}, prompt_file);
  a.value({"-s", "--system"}, system);
  dianoia_generate_params gp = dianoia_generate_default_params();
  dianoia_session_params sp = dianoia_session_default_params();
  dianoia::model::params mp;
  if (a.value({"-n", "--max-tokens"}, v)) gp.max_tokens = static_cast<int32_t>(to_long(v, "-n"));
  if (a.value({"--temp", "--temperature"}, v)) gp.temperature = static_cast<float>(to_double(v, "--temp"));
  if (a.value({"--top-k"}, v)) gp.top_k = static_cast<int32_t>(to_long(v, "--top-k"));
  if (a.value({"--top-p"}, v)) gp.top_p = static_cast<float>(to_double(v, "--top-p"));
  if (a.value({"--min-p"}, v)) gp.min_p = static_cast<float>(to_double(v, "--min-p"));
  if (a.value({"--seed"}, v)) gp.seed = static_cast<uint64_t>(to_long(v, "--seed"));
  if (a.value({"--max-reasoning-tokens"}, v))
    gp.max_reasoning_tokens = static_cast<int32_t>(to_long(v, "--max-reasoning-tokens"));
  if (a.value({"-t", "--threads"}, v)) sp.n_threads = static_cast<int32_t>(to_long(v, "-t"));
  if (a.value({"-c", "--ctx-size"}, v)) mp.context_length = static_cast<uint32_t>(to_long(v, "-c"));
  bool reasoning_given = false;
  if (a.value({"--reasoning"}, v)) {
    reasoning_given = true;
    if (v == "auto") gp.reasoning = DIANOIA_REASONING_AUTO;
    else if (v == "on") gp.reasoning = DIANOIA_REASONING_ON;
    else if (v == "off") gp.reasoning = DIANOIA_REASONING_OFF;
    else throw std::runtime_error("--reasoning takes auto, on or off");
  }
  const bool raw = a.flag("--raw"), json = a.flag("--json"), hide = a.flag("--hide-reasoning");
  a.finish();
  if (have_file) {
    std::ifstream f(prompt_file, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + prompt_file);
    prompt = read_all(f);
  } else if (have_prompt && prompt == "-") {
    prompt = read_all(std::cin);
  } else if (!have_prompt) {
    throw std::runtime_error("run needs a prompt: -p PROMPT, -p - (stdin) or -f FILE");
  }
  if (raw && !reasoning_given) gp.reasoning = DIANOIA_REASONING_OFF;

  dianoia::model model(model_path, mp);
  dianoia::session session(model, sp);
  g_session = session.get();
  std::signal(SIGINT, on_sigint);

  const bool tty = isatty(STDOUT_FILENO);
  dianoia_event_type last = DIANOIA_EVENT_DONE;
  auto on_event = [&](const dianoia::event& ev) {
    if (ev.type == DIANOIA_EVENT_DONE) return true;
    if (json) {
      std::printf("{\"type\":\"%s\",\"text\":%s}\n", ev.type == DIANOIA_EVENT_REASONING ? "reasoning" : "content",
                  json_string(ev.text).c_str());
    } else if (ev.type == DIANOIA_EVENT_REASONING) {
      if (hide) return true;
      if (tty && last != DIANOIA_EVENT_REASONING) std::fputs("\033[2m", stdout);
      std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
    } else {
      if (last == DIANOIA_EVENT_REASONING && !hide) std::fputs(tty ? "\033[0m\n\n" : "\n\n", stdout);
      std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
    }
    last = ev.type;
    std::fflush(stdout);
    return true;
  };

  dianoia_event done;
  if (raw) {
    done = session.complete(prompt, on_event, gp);
  } else {
    std::vector<dianoia::chat_message> msgs;
    if (!system.empty()) msgs.push_back({"system", system});
    msgs.push_back({"user", prompt});
    done = session.chat(msgs, on_event, gp);
  }
  g_session = nullptr;

  const unsigned gen = done.reasoning_tokens + done.content_tokens;
  const double tps = done.generate_seconds > 0 ? gen / done.generate_seconds : 0.0;
  const double pps = done.prompt_seconds > 0 ? done.prompt_tokens / done.prompt_seconds : 0.0;
  if (json) {
    std::printf(
        "{\"type\":\"done\",\"stop_reason\":\"%s\",\"prompt_tokens\":%u,\"reasoning_tokens\":%u,"
        "\"content_tokens\":%u,\"prompt_seconds\":%.6f,\"generate_seconds\":%.6f,\"tokens_per_second\":%.3f}\n",
        stop_name(done.stop_reason), done.prompt_tokens, done.reasoning_tokens, done.content_tokens,
        done.prompt_seconds, done.generate_seconds, tps);
  } else {
    if (tty && last == DIANOIA_EVENT_REASONING) std::fputs("\033[0m", stdout);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    std::fprintf(stderr, "[%u prompt tokens at %.1f tok/s; %u reasoning + %u answer tokens at %.1f tok/s; stop: %s]\n",
                 done.prompt_tokens, pps, done.reasoning_tokens, done.content_tokens, tps, stop_name(done.stop_reason));
  }
  return done.stop_reason == DIANOIA_STOP_CANCELLED ? 130 : 0;
}

}  // namespace cli
