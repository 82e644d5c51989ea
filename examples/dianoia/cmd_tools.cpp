// dianoia tokenize / info / bench.
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <dianoia/dianoia.hpp>
#include <nlohmann/json.hpp>

#include "catalogue.hpp"
#include "cli.hpp"

namespace cli {

int cmd_tokenize(int argc, char** argv) {
  args a(argc, argv, 2);
  std::string path;
  if (!a.value({"-m", "--model"}, path)) throw std::runtime_error("tokenize needs -m MODEL");
  const bool special = a.flag("--special"), add_special = a.flag("--add-special");
  a.finish();
  // A tokenizer needs no weights: load vocab-only, so that ggml-vocab-*.gguf files, a Hugging Face
  // tokenizer.json and a directory holding one work too.
  dianoia::model::params mp;
  mp.vocab_only = true;
  dianoia::model m(path, mp);
  const std::string text(std::istreambuf_iterator<char>(std::cin), {});
  const std::vector<int32_t> ids = m.tokenize(text, add_special, special);
  for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "%d", ids[i]);
  std::printf("\n");
  return 0;
}

int cmd_info(int argc, char** argv) {
  args a(argc, argv, 2);
  std::string path;
  if (!a.value({"-m", "--model"}, path)) {
    if (argc < 3) throw std::runtime_error("info needs a model path");
    path = argv[2];
    a = args(argc, argv, 3);
  }
  path = resolve_model(path);
  std::string cap;
  dianoia::model::params mp;
  if (a.value({"--max-memory"}, cap)) mp.max_memory_bytes = static_cast<uint64_t>(to_long(cap, "--max-memory", 0, 1L << 30)) << 20;
  a.finish();
  dianoia::model m(path, mp);
  auto i = m.info();
  std::printf("architecture     %s\n", i.architecture);
  std::printf("name             %s\n", i.name);
  std::printf("parameters       %llu (%.1fM)\n", static_cast<unsigned long long>(i.n_params), i.n_params / 1e6);
  std::printf("layers           %u\n", i.n_layers);
  std::printf("embedding        %u\n", i.n_embd);
  std::printf("vocabulary       %u\n", i.n_vocab);
  std::printf("context length   %u (trained %u)\n", i.context_length, i.context_length_train);
  std::printf("chat template    %s\n", i.has_chat_template ? "yes" : "no");
  std::printf("bos / eos        %d / %d\n", i.bos_token, i.eos_token);
  std::printf("format           %s\n", i.format);
  std::printf("tokenizer        %s\n", i.tokenizer_kind);
  std::printf("reasoning        %s\n", i.reasoning_family);
  std::printf("tensor types     %s\n", i.tensor_types);
  std::printf("file size        %.1f MiB\n", i.file_bytes / 1048576.0);
  std::printf("expected memory  %.1f MiB weights (%.1f MiB repacked at load) + KV cache per session\n",
              i.memory_bytes / 1048576.0, i.repacked_bytes / 1048576.0);
  return 0;
}

namespace {


// Peak resident memory of this program, KiB. VmHWM first: ru_maxrss also counts the pre-exec image, and
// a parent that spawned us with vfork (Python's subprocess does) passes its own peak on to it.
long bench_peak_rss_kib() {
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, f))
      if (!std::strncmp(line, "VmHWM:", 6)) kib = std::strtol(line + 6, nullptr, 10);
    std::fclose(f);
    if (kib > 0) return kib;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // KiB on Linux
}

// One bench run's figures, printed as text or as one JSON object (stdout with --json; a file with
// --json-out, the record bench/ scripts and plots compare across commits).
struct bench_result {
  std::string model;
  int32_t threads = 0;
  long n_prompt = 0, n_gen = 0;
  unsigned evaluated = 0, generated = 0;
  double prompt_seconds = 0, generate_seconds = 0;
  size_t chat_tokens = 0;
  double ttft = -1;  // < 0: not measured
  double usd_per_hour = 0;  // 0: no cost figures
};

nlohmann::json bench_json(const bench_result& r) {
  const double pf = r.evaluated / r.prompt_seconds, dc = r.generated / r.generate_seconds;
  nlohmann::json j = {{"prefill_tokens", r.evaluated}, {"prefill_seconds", r.prompt_seconds},
                      {"decode_tokens", r.generated}, {"decode_seconds", r.generate_seconds},
                      {"prefill_tok_s", pf}, {"decode_tok_s", dc}};
  if (r.ttft >= 0) j["chat_prompt_tokens"] = r.chat_tokens, j["ttft_seconds"] = r.ttft;
  j["peak_rss_kib"] = bench_peak_rss_kib();
  j["system_info"] = dianoia_system_info();
  j["model"] = r.model;
  j["threads"] = r.threads;
  j["version"] = dianoia_version_string();
  if (r.usd_per_hour > 0) {
    // The whole machine's price spread over the tokens it processes in an hour at these speeds.
    j["usd_per_hour"] = r.usd_per_hour;
    j["usd_per_m_prompt"] = r.usd_per_hour / (pf * 3600) * 1e6;
    j["usd_per_m_generated"] = r.usd_per_hour / (dc * 3600) * 1e6;
  }
  return j;
}

void bench_report(const bench_result& r, bool json, const std::string& json_out) {
  const nlohmann::json j = bench_json(r);
  if (!json_out.empty()) {
    std::FILE* f = std::fopen(json_out.c_str(), "w");
    const std::string text = j.dump(1) + "\n";
    if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0)
      throw std::runtime_error("cannot write --json-out " + json_out + ": " + std::strerror(errno));
  }
  if (json) {
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("prefill %u tokens: %.2f tok/s\n", r.evaluated, j["prefill_tok_s"].get<double>());
  std::printf("decode  %u tokens: %.2f tok/s\n", r.generated, j["decode_tok_s"].get<double>());
  if (r.ttft >= 0) std::printf("time to first token (%zu-token chat prompt): %.1f ms\n", r.chat_tokens, r.ttft * 1e3);
  std::printf("peak RSS %.1f MiB\n", bench_peak_rss_kib() / 1024.0);
  if (r.usd_per_hour > 0)
    std::printf("cost at $%g/hour: $%.4f per million prompt tokens, $%.4f per million generated tokens\n",
                r.usd_per_hour, j["usd_per_m_prompt"].get<double>(), j["usd_per_m_generated"].get<double>());
  std::printf("%s\n", dianoia_system_info());
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  args a(argc, argv, 2);
  std::string path = default_model_path(), v, chat_text, json_out;
  if (a.value({"-m", "--model"}, path)) path = resolve_model(path);
  dianoia_session_params sp = dianoia_session_default_params();
  bench_result r;
  r.n_prompt = 512, r.n_gen = 64;
  parse_session_flags(a, sp);
  if (a.value({"-p", "--prompt-tokens"}, v)) r.n_prompt = to_long(v, "-p", 1, 1L << 20);
  if (a.value({"-n", "--gen-tokens"}, v)) r.n_gen = to_long(v, "-n", 1, 1L << 20);
  if (a.value({"--usd-per-hour"}, v)) {
    r.usd_per_hour = to_double(v, "--usd-per-hour");
    if (r.usd_per_hour <= 0) throw std::runtime_error("--usd-per-hour: must be positive");
  }
  const bool has_chat = a.value({"--chat-prompt"}, chat_text);
  const bool json = a.flag("--json");
  a.value({"--json-out"}, json_out);
  dianoia::model::params mp;
  mp.use_mmap = !a.flag("--no-mmap");
  a.finish();
  const long n_prompt = r.n_prompt, n_gen = r.n_gen;
  r.model = path;
  dianoia::model m(path, mp);
  const auto info = m.info();
  // The chat prompt exactly as dianoia_session_chat makes it: the model's template with the generation
  // prompt, special tokens parsed, nothing added (the template writes BOS where the model wants one).
  std::vector<int32_t> chat_ids;
  if (has_chat) chat_ids = m.tokenize(m.apply_chat_template({{"user", chat_text}}, true), false, true);
  sp.context_length = static_cast<uint32_t>(std::max<long>(n_prompt + n_gen, static_cast<long>(chat_ids.size()) + 1) + 8);
  dianoia::session s(m, sp);
  // A fixed prompt spread over the vocabulary (content does not matter for speed).
  const int32_t lo = info.n_vocab > 2000 ? 1000 : 3;
  std::vector<int32_t> prompt;
  for (long i = 0; i < n_prompt; ++i) prompt.push_back(static_cast<int32_t>(lo + (i * 7919) % (info.n_vocab - lo)));
  dianoia_generate_params gp = dianoia_generate_default_params();
  gp.max_tokens = static_cast<int32_t>(n_gen);
  gp.temperature = 0;
  gp.ignore_eos = true;
  gp.reasoning = DIANOIA_REASONING_OFF;
  auto noop = [](const dianoia::event&) { return true; };
  // Time to first token comes first, before any warm-up: a user's first request after loading pays the
  // first-touch costs (page faults, thread pool start, kernel setup) too. With max_tokens = 1 the runtime
  // samples one token and returns without evaluating it.
  if (has_chat) {
    dianoia_generate_params cp = gp;
    cp.max_tokens = 1;
    cp.ignore_eos = false;
    const auto t0 = std::chrono::steady_clock::now();
    s.complete(chat_ids, noop, cp);
    r.ttft = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.chat_tokens = chat_ids.size();
  }
  // Warm-up (page faults, oneDNN primitive creation), then the measured run. The warm-up tokens are the
  // prompt's last ones reversed: a shared first token would let the measured prefill reuse their KV cache
  // and evaluate fewer tokens than it reports.
  std::vector<int32_t> warm(prompt.rbegin(), prompt.rbegin() + std::min<long>(n_prompt, 16));
  if (warm.front() == prompt.front()) warm.front() = prompt.front() == lo ? lo + 1 : lo;
  dianoia_generate_params wp = gp;
  wp.max_tokens = 2;
  s.complete(warm, noop, wp);
  auto done = s.complete(prompt, noop, gp);
  r.generated = done.content_tokens + done.reasoning_tokens;
  r.evaluated = done.prompt_tokens - done.prompt_reused;
  r.prompt_seconds = done.prompt_seconds;
  r.generate_seconds = done.generate_seconds;
  // 0 is the library's default, min(2, hardware threads): the record names the count that ran.
  r.threads = sp.n_threads > 0 ? sp.n_threads : static_cast<int32_t>(std::min(2u, std::max(1u, std::thread::hardware_concurrency())));
  bench_report(r, json, json_out);
  return 0;
}

}  // namespace cli
