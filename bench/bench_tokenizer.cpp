// Encode throughput of dianoia's tokenizer on the parity corpus, document by document, one thread.
//   bench_tokenizer <tokenizer.json | model.gguf> <corpus.txt> [rounds] [--no-cache]
// Prints one JSON line: {"bytes", "tokens", "documents", "seconds" (best round, wall), "cpu_seconds" (best
// round, process CPU time), "rounds", "mb_per_s", "tokens_per_s" (wall), "load_seconds", "cache"}. bench/bench_tokenizer.py runs it next to HF tokenizers and llama.cpp.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "gguf/gguf.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace dianoia::detail;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> read_corpus(const std::string& path) {
  const std::string data = slurp(path);
  std::vector<std::string> docs;
  for (size_t pos = 0; pos < data.size();) {
    const size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) break;
    std::istringstream header(data.substr(pos, nl - pos));
    std::string tag, category;
    size_t index = 0, bytes = 0;
    header >> tag >> index >> category >> bytes;
    if (tag != "@@doc") throw std::runtime_error("bad corpus header");
    docs.push_back(data.substr(nl + 1, bytes));
    pos = nl + 1 + bytes + 1;
  }
  return docs;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <tokenizer.json | model.gguf> <corpus.txt> [rounds] [--no-cache]\n", argv[0]);
    return 2;
  }
  try {
    const std::string path = argv[1];
    const int rounds = argc > 3 && argv[3][0] != '-' ? std::max(1, std::atoi(argv[3])) : 3;
    bool cache = true;
    for (int i = 3; i < argc; ++i)
      if (std::strcmp(argv[i], "--no-cache") == 0) cache = false;
    const auto docs = read_corpus(argv[2]);

    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<gguf::file> file;
    std::unique_ptr<tokenizer> tok;
    if (path.size() > 5 && path.substr(path.size() - 5) == ".gguf") {
      file = gguf::file::open(path);
      tok = tokenizer::from_gguf(*file);
    } else {
      const auto dir = std::filesystem::path(path).parent_path();
      std::optional<std::string> config;
      if (std::filesystem::exists(dir / "tokenizer_config.json")) config = slurp((dir / "tokenizer_config.json").string());
      tok = tokenizer::from_vocab(load_vocab_hf(slurp(path), config));
    }
    tok->set_cache_enabled(cache);
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    size_t bytes = 0, tokens = 0;
    for (const auto& d : docs) bytes += d.size();
    // Wall time, and this process's CPU time: on a shared machine the CPU time of a one-thread loop is the
    // steadier measure (waiting for a core is not counted).
    double best = 1e30, best_cpu = 1e30;
    for (int r = 0; r < rounds; ++r) {
      size_t n = 0;
      const auto t = std::chrono::steady_clock::now();
      const std::clock_t c = std::clock();
      for (const auto& d : docs) n += tok->encode(d, false, false).size();
      best_cpu = std::min(best_cpu, static_cast<double>(std::clock() - c) / CLOCKS_PER_SEC);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
      tokens = n;
    }
    std::printf(
        "{\"bytes\":%zu,\"tokens\":%zu,\"documents\":%zu,\"seconds\":%.6f,\"cpu_seconds\":%.6f,\"rounds\":%d,"
        "\"mb_per_s\":%.3f,\"tokens_per_s\":%.0f,\"load_seconds\":%.3f,\"cache\":%s}\n",
        bytes, tokens, docs.size(), best, best_cpu, rounds, bytes / best / 1e6, tokens / best, load_s,
        cache ? "true" : "false");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
    return 1;
  }
}
