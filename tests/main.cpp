// Test entry point: doctest's runner plus the data-path options every suite shares.
//   --data-dir=PATH      ../shared/data (vocab files, stories260K)
//   --fixtures-dir=PATH  tests/fixtures (small committed reference outputs)
//   --model-dir=PATH     where the default model was unpacked ($DIANOIA_HOME or ~/.cache/dianoia)
//   --isa=LEVEL          test the kernels of this instruction-set level only (kernels/cpu_features.hpp);
//                        exits with 77 (ctest's SKIP_RETURN_CODE) when this CPU lacks it
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "test_support.hpp"

// Defined by the kernels' test program (tests/kernels/isa_gate.cpp): 1 when the CPU has the named level,
// 0 when not, -1 for an unknown name. Weak, so the other test programs link without the kernels.
extern "C" __attribute__((weak)) int dianoia_test_cpu_has_isa(const char* level);

namespace {
std::string g_data = DIANOIA_DEFAULT_DATA_DIR;
std::string g_fixtures = DIANOIA_DEFAULT_FIXTURES_DIR;
std::string g_models;
std::string g_isa;
}  // namespace

namespace dianoia::test {
const std::string& data_dir() { return g_data; }
const std::string& fixtures_dir() { return g_fixtures; }
const std::string& model_dir() { return g_models; }
std::string default_model_path() { return g_models + "/SmolLM2-135M-Instruct.Q4_1.gguf"; }
const std::string& isa_filter() { return g_isa; }
}  // namespace dianoia::test

int main(int argc, char** argv) {
  if (const char* h = std::getenv("DIANOIA_HOME"); h && *h)
    g_models = h;
  else
    g_models = DIANOIA_DEFAULT_MODEL_DIR;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    auto take = [&](const char* opt, std::string& dst) {
      size_t n = std::strlen(opt);
      if (std::strncmp(argv[i], opt, n) == 0) {
        dst = argv[i] + n;
        return true;
      }
      return false;
    };
    if (take("--data-dir=", g_data) || take("--fixtures-dir=", g_fixtures) || take("--model-dir=", g_models) ||
        take("--isa=", g_isa))
      continue;
    rest.push_back(argv[i]);
  }
  if (!g_isa.empty()) {
    const int has = dianoia_test_cpu_has_isa ? dianoia_test_cpu_has_isa(g_isa.c_str()) : -1;
    if (has < 0) {
      std::fprintf(stderr, "--isa=%s: not a level this test program knows\n", g_isa.c_str());
      return 2;
    }
    if (has == 0) {
      std::printf("skipped: this CPU lacks %s\n", g_isa.c_str());
      return 77;
    }
  }
  doctest::Context ctx(static_cast<int>(rest.size()), rest.data());
  return ctx.run();
}
