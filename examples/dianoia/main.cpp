// dianoia — run reasoning language models from the command line.
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <dianoia/dianoia.hpp>

#include "cli.hpp"

namespace cli {

long to_long(const std::string& s, const char* what) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || errno) throw std::runtime_error(std::string(what) + ": '" + s + "' is not an integer");
  return v;
}

long to_long(const std::string& s, const char* what, long lo, long hi) {
  const long v = to_long(s, what);
  if (v < lo || v > hi)
    throw std::runtime_error(std::string(what) + ": " + s + " is out of range [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
  return v;
}

uint64_t to_u64(const std::string& s, const char* what) {
  char* end = nullptr;
  errno = 0;
  // strtoull accepts "-1" and negates it: refuse a sign instead of wrapping.
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || s[0] == '+' || *end || errno)
    throw std::runtime_error(std::string(what) + ": '" + s + "' is not an integer in [0, 2^64)");
  return v;
}

double to_double(const std::string& s, const char* what) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || errno || !std::isfinite(v))
    throw std::runtime_error(std::string(what) + ": '" + s + "' is not a finite number");
  return v;
}

void parse_session_flags(args& a, dianoia_session_params& sp) {
  std::string v;
  if (a.value({"-t", "--threads"}, v)) {
    sp.n_threads = static_cast<int32_t>(to_long(v, "-t", 0, 1024));
  }
  if (a.value({"--isa"}, v)) {
    static const char* const names[] = {"scalar", "avx2", "avx_vnni", "avx512", "avx512_vnni", "avx512_bf16"};
    int level = 0;
    for (int i = 0; i < 6; ++i)
      if (v == names[i]) level = i + 1;  // DIANOIA_ISA_SCALAR is 1
    if (v != "auto" && level == 0)
      throw std::runtime_error("--isa: '" + v + "' is not auto, scalar, avx2, avx_vnni, avx512, avx512_vnni or avx512_bf16");
    sp.max_isa = level;
  }
  if (a.flag("--llamacpp-numerics")) sp.numerics = DIANOIA_NUMERICS_LLAMACPP;
}

namespace {
dianoia_session* volatile g_sigint_session = nullptr;
extern "C" void on_sigint(int) {
  // dianoia_session_cancel only sets an atomic flag, so it is safe in a signal handler.
  if (g_sigint_session) dianoia_session_cancel(g_sigint_session);
}
}  // namespace

void cancel_on_sigint(dianoia_session* s) {
  g_sigint_session = s;
  std::signal(SIGINT, on_sigint);
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace cli

static void usage(std::FILE* out) {
  std::fputs(
      "usage: dianoia <command> [options]      (dianoia <command> --help: its flags and defaults)\n"
      "\n"
      "commands:\n"
      "  run       generate a reply (chat template) or a plain completion (--raw)\n"
      "  chat      an interactive conversation (one line per turn; the KV cache is kept)\n"
      "  serve     an OpenAI/DeepSeek-compatible HTTP server\n"
      "  pull      download a catalogue model into $DIANOIA_HOME\n"
      "  models    list the catalogue and what is downloaded\n"
      "  tokenize  print the token ids of stdin\n"
      "  info      describe a model file\n"
      "  bench     measure prefill and decode speed\n"
      "\n"
      "With no -m, commands use the default model (SmolLM2-135M-Instruct Q4_1) in $DIANOIA_HOME,\n"
      "default ~/.cache/dianoia (dianoia pull smollm2-135m or scripts/fetch-default-model.sh puts it there).\n",
      out);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
    if (argc > 2 && cli::print_command_help(argv[2], stdout)) return 0;
    usage(stdout);
    return 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("dianoia %s\n", dianoia_version_string());
    return 0;
  }
  const std::string cmd = argv[1];
  if (cli::wants_help(argc, argv) && cli::print_command_help(cmd, stdout)) return 0;
  try {
    if (cmd == "run") return cli::cmd_run(argc, argv);
    if (cmd == "chat") return cli::cmd_chat(argc, argv);
    if (cmd == "tokenize") return cli::cmd_tokenize(argc, argv);
    if (cmd == "info") return cli::cmd_info(argc, argv);
    if (cmd == "bench") return cli::cmd_bench(argc, argv);
    if (cmd == "serve") return cli::cmd_serve(argc, argv);
    if (cmd == "pull") return cli::cmd_pull(argc, argv);
    if (cmd == "models") return cli::cmd_models(argc, argv);
    std::fprintf(stderr, "dianoia: unknown command '%s' (dianoia --help lists them)\n", cmd.c_str());
    return 2;
  } catch (const dianoia::error& e) {
    std::fprintf(stderr, "dianoia: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dianoia: %s\n", e.what());
    return 2;
  }
}
