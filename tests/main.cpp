// Test entry point: doctest's runner plus the data-path options every suite shares.
//   --data-dir=PATH      ../shared/data (vocab files, stories260K)
//   --fixtures-dir=PATH  tests/fixtures (small committed reference outputs)
//   --model-dir=PATH     where the default model was unpacked ($DIANOIA_HOME or ~/.cache/dianoia)
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {
std::string g_data = DIANOIA_DEFAULT_DATA_DIR;
std::string g_fixtures = DIANOIA_DEFAULT_FIXTURES_DIR;
std::string g_models;
}  // namespace

namespace dianoia::test {
const std::string& data_dir() { return g_data; }
const std::string& fixtures_dir() { return g_fixtures; }
const std::string& model_dir() { return g_models; }
std::string default_model_path() { return g_models + "/SmolLM2-135M-Instruct.Q4_1.gguf"; }
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
    if (take("--data-dir=", g_data) || take("--fixtures-dir=", g_fixtures) || take("--model-dir=", g_models))
      continue;
    rest.push_back(argv[i]);
  }
  doctest::Context ctx(static_cast<int>(rest.size()), rest.data());
  return ctx.run();
}
