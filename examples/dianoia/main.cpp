// dianoia — run reasoning language models from the command line.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <dianoia/dianoia.hpp>

#include "cli.hpp"
#include "gen_options.hpp"

namespace cli {

long to_long(const std::string& s, const char* what) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || errno) throw std::runtime_error(std::string(what) + ": '" + s + "' is not an integer");
  return v;
}

double to_double(const std::string& s, const char* what) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end) throw std::runtime_error(std::string(what) + ": '" + s + "' is not a number");
  return v;
}

std::string default_model_path() {
  std::string home;
  if (const char* h = std::getenv("DIANOIA_HOME"); h && *h)
    home = h;
  else if (const char* u = std::getenv("HOME"); u && *u)
    home = std::string(u) + "/.cache/dianoia";
  else
    home = ".cache/dianoia";
  return home + "/SmolLM2-135M-Instruct.Q4_1.gguf";
}

void parse_session_flags(args& a, dianoia_session_params& sp) {
  std::string v;
  if (a.value({"-t", "--threads"}, v)) {
    const long t = to_long(v, "-t");
    if (t < 0 || t > 1024) throw std::runtime_error("-t: " + v + " threads is not a thread count (0 = auto)");
    sp.n_threads = static_cast<int32_t>(t);
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

static void usage() {
  std::fprintf(stderr,
      "usage: dianoia <command> [options]\n"
      "\n"
      "commands:\n"
      "  run       generate a reply (chat template) or a plain completion (--raw)\n"
      "  chat      an interactive conversation (one line per turn; the KV cache is kept)\n"
      "  tokenize  print the token ids of stdin\n"
      "  info      describe a model file\n"
      "  bench     measure prefill and decode speed\n"
      "\n"
      "dianoia run [-m MODEL] -p PROMPT [generation options] [--raw] [--json] [--hide-reasoning]\n"
      "            [-c CONTEXT] [-t THREADS] [-s SYSTEM] [--samples N [--vote [majority|confidence]]] [--max-memory MIB]\n"
      "            [--isa LEVEL] [--llamacpp-numerics]\n"
      "            [--save-session FILE] [--load-session FILE]\n"
      "            (-p - reads the prompt from stdin; -f FILE reads it from a file; --raw --load-session F\n"
      "            without a prompt continues the saved context)\n"
      "dianoia chat [-m MODEL] [-s SYSTEM] [generation options] [--json] [--hide-reasoning] [--max-memory MIB]\n"
      "            [-t THREADS] [--isa LEVEL] [--llamacpp-numerics]\n"
      "            [--save-session FILE] [--load-session FILE]\n"
      "dianoia tokenize -m MODEL_OR_TOKENIZER_JSON [--special] [--add-special]   (reads all of stdin;\n"
      "            a tokenizer.json, or a directory holding one, works as well as a GGUF file)\n"
      "dianoia info MODEL [--max-memory MIB]   (MODEL: .gguf, first split, or HF model directory)\n"
      "dianoia bench [-m MODEL] [-t THREADS] [-p PROMPT_TOKENS] [-n GEN_TOKENS] [--chat-prompt TEXT] [--json]\n"
      "            [--isa LEVEL] [--llamacpp-numerics]   (--chat-prompt: also the time to the first token of\n"
      "            that one-message chat, measured first, before any warm-up)\n"
      "\n"
      "%s"
      "\n"
      "--isa LEVEL caps the SIMD level of the matrix kernels (auto, scalar, avx2, avx_vnni, avx512,\n"
      "avx512_vnni, avx512_bf16; default: the best this CPU has, or $DIANOIA_ISA); --llamacpp-numerics\n"
      "evaluates prompt batches with llama.cpp's AVX2 arithmetic (slower; for comparing logits).\n"
      "\n"
      "With no -m, run and bench use the default model (SmolLM2-135M-Instruct Q4_1) in\n"
      "$DIANOIA_HOME, default ~/.cache/dianoia (scripts/fetch-default-model.sh puts it there).\n",
      cli::k_gen_usage);
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("dianoia %s\n", dianoia_version_string());
    return 0;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "run") return cli::cmd_run(argc, argv);
    if (cmd == "chat") return cli::cmd_chat(argc, argv);
    if (cmd == "tokenize") return cli::cmd_tokenize(argc, argv);
    if (cmd == "info") return cli::cmd_info(argc, argv);
    if (cmd == "bench") return cli::cmd_bench(argc, argv);
    std::fprintf(stderr, "dianoia: unknown command '%s'\n\n", cmd.c_str());
    usage();
    return 2;
  } catch (const dianoia::error& e) {
    std::fprintf(stderr, "dianoia: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dianoia: %s\n", e.what());
    return 2;
  }
}
