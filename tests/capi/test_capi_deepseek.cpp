// A DeepSeek (deepseek2) model through the public C ABI like any other: loaded from GGUF, its logits
// equal to transformers', a greedy completion, a session saved and loaded.
#include <doctest/doctest.h>

#include <dianoia.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "json.hpp"
#include "test_support.hpp"

using dianoia::test::json;

namespace {

std::string ds_dir() { return dianoia::test::fixtures_dir() + "/tiny_deepseek"; }

bool collect(const dianoia_event* ev, void* user) {
  if (ev->type == DIANOIA_EVENT_CONTENT) static_cast<std::string*>(user)->append(ev->text, ev->text_len);
  return true;
}

}  // namespace

TEST_CASE("C ABI: a DeepSeek-V2-style GGUF evaluates, completes and saves like any other model") {
  const auto man = json::parse(dianoia::test::read_file(ds_dir() + "/manifest.json"));
  const auto ref = json::parse(dianoia::test::read_file(ds_dir() + "/ds_v2/reference_hf.json"))["logits"];
  dianoia_model* model = nullptr;
  REQUIRE(dianoia_model_load((ds_dir() + "/ds_v2/ds_v2.F32.gguf").c_str(), nullptr, &model) == DIANOIA_OK);
  dianoia_model_info info{};
  info.struct_size = sizeof info;
  REQUIRE(dianoia_model_get_info(model, &info) == DIANOIA_OK);
  CHECK(std::string(info.architecture) == "deepseek2");

  auto sp = dianoia_session_default_params();
  sp.kv_type = DIANOIA_KV_F32;
  sp.context_length = 256;
  dianoia_session* s = nullptr;
  REQUIRE(dianoia_session_create(model, &sp, &s) == DIANOIA_OK);
  const auto ids = man["sequences"]["64"].as_vector();
  const size_t V = 128;
  std::vector<float> logits(V);
  REQUIRE(dianoia_session_eval_logits(s, ids.data(), ids.size(), 1, logits.data(), logits.size(), nullptr) == DIANOIA_OK);
  const auto want = ref["64"].arr.back().as_vector<float>();
  float err = 0;
  for (size_t v = 0; v < V; ++v) err = std::max(err, std::fabs(logits[v] - want[v]));
  CHECK(err <= 1e-4f);

  auto gp = dianoia_generate_default_params();
  gp.temperature = 0;
  gp.max_tokens = 8;
  std::string a, b;
  REQUIRE(dianoia_session_complete(s, "t5 t7 t9", 8, &gp, collect, &a) == DIANOIA_OK);
  CHECK(!a.empty());
  // A session file: the loaded session continues exactly as the saved one.
  const std::string path = "test_capi_deepseek.session";
  REQUIRE(dianoia_session_save(s, path.c_str()) == DIANOIA_OK);
  dianoia_session* t = nullptr;
  REQUIRE(dianoia_session_create(model, &sp, &t) == DIANOIA_OK);
  REQUIRE(dianoia_session_load(t, path.c_str()) == DIANOIA_OK);
  std::remove(path.c_str());
  REQUIRE(dianoia_session_complete(s, " t11", 4, &gp, collect, &a) == DIANOIA_OK);
  REQUIRE(dianoia_session_complete(t, " t11", 4, &gp, collect, &b) == DIANOIA_OK);
  CHECK(a.substr(a.size() - b.size()) == b);
  dianoia_session_free(t);
  dianoia_session_free(s);
  dianoia_model_free(model);
}
