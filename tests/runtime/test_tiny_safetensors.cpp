// The tiny random models again, loaded from their Hugging Face form (config.json + model.safetensors as
// transformers saved them): the same logits as transformers within 1e-4, and as their F32 GGUF twins.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gguf/gguf.hpp"
#include "json.hpp"
#include "model/registry.hpp"
#include "runtime/hf_weights.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
using dianoia::test::json;

namespace {

std::string tiny_dir() { return dianoia::test::fixtures_dir() + "/tiny_models"; }

std::vector<float> logits_all(const model& net, const std::vector<int32_t>& ids) {
  auto st = net.new_state(512, 2, /*f32_kv=*/true);
  std::vector<float> out(ids.size() * net.hp().n_vocab);
  net.forward(*st, ids, 0, out.data(), true);
  return out;
}

}  // namespace

TEST_CASE("tiny models from safetensors: transformers' logits within 1e-4, same as the F32 GGUF") {
  const auto manifest = json::parse(dianoia::test::read_file(tiny_dir() + "/manifest.json"));
  int checked = 0;
  for (const auto& m : manifest["models"].arr) {
    const std::string name = m["name"].str, dir = tiny_dir() + "/" + name;
    if (!dianoia::test::file_exists(dir + "/model.safetensors")) continue;
    CAPTURE(name);
    const hparams hp = read_hf_config(dir);
    auto weights = open_hf_weights(dir, hp);
    weights->materialize();
    auto net = create_model(hp, *weights);
    const size_t V = net->hp().n_vocab;
    const auto ref = json::parse(dianoia::test::read_file(dir + "/reference_hf.json"))["logits"];
    float worst = 0;
    for (const char* seq : {"7", "64"}) {
      const auto ids = manifest["sequences"][seq].as_vector();
      const auto pos = manifest["positions"][seq].as_vector<size_t>();
      const auto out = logits_all(*net, ids);
      for (size_t k = 0; k < pos.size(); ++k) {
        const auto row = ref[seq].arr[k].as_vector<float>();
        REQUIRE(row.size() == V);
        for (size_t v = 0; v < V; ++v) worst = std::max(worst, std::fabs(out[pos[k] * V + v] - row[v]));
      }
      // The F32 GGUF of the same model, through the same code: identical up to summation order.
      if (m["gguf"][0]["type"].str == "F32") {
        auto f = gguf::file::open(dir + "/" + m["gguf"][0]["file"].str);
        auto gnet = create_model(*f);
        const auto g = logits_all(*gnet, ids);
        float d = 0;
        for (size_t i = 0; i < g.size(); ++i) d = std::max(d, std::fabs(g[i] - out[i]));
        CHECK(d <= 1e-5f);
      }
    }
    CHECK(worst <= 1e-4f);
    MESSAGE(name << ": safetensors vs transformers max |diff| " << worst);
    ++checked;
  }
  CHECK(checked >= 4);
}
