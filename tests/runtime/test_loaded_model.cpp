// Loading models: GGUF, split GGUF and Hugging Face folders give the same network, bit for bit; the
// memory budget refuses what does not fit; generation_config.json defaults are read.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "gguf/gguf.hpp"
#include "model/registry.hpp"
#include "runtime/hf_weights.hpp"
#include "runtime/loaded_model.hpp"
#include "runtime/memory_budget.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;

namespace {

std::string stories_gguf() { return dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf"; }
std::string fixture(const std::string& p) { return dianoia::test::fixtures_dir() + "/" + p; }

// Logits at every position of `ids`, f32 KV cache, one thread: deterministic.
std::vector<float> logits_of(const model& m, const std::vector<int32_t>& ids) {
  auto st = m.new_state(64, 1, true);
  std::vector<float> out(ids.size() * m.hp().n_vocab);
  m.forward(*st, ids, 0, out.data(), true);
  return out;
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const std::vector<int32_t> k_ids = {1, 403, 407, 261, 378, 300, 17, 2, 499};

}  // namespace

TEST_CASE("stories260K: GGUF (F32) and the safetensors folder give bit-identical logits") {
  auto f = gguf::file::open(stories_gguf());
  auto from_gguf = create_model(*f);

  const std::string dir = fixture("stories260K_hf");
  const hparams hp = read_hf_config(dir);
  CHECK(hp.arch == "llama");
  CHECK(hp.rope == rope_kind::norm);
  auto w = open_hf_weights(dir, hp);
  CHECK(w->n_repacked() == 10);  // q and k of 5 layers: permuted into adjacent pairs
  w->materialize();
  auto from_hf = create_model(hp, *w);

  const hparams& a = from_gguf->hp();
  const hparams& b = from_hf->hp();
  CHECK(a.n_embd == b.n_embd);
  CHECK(a.n_layer == b.n_layer);
  CHECK(a.n_head_kv == b.n_head_kv);
  CHECK(a.head_dim == b.head_dim);
  CHECK(a.rms_eps == b.rms_eps);
  CHECK(a.n_vocab == b.n_vocab);
  CHECK(a.n_params == b.n_params);
  const auto la = logits_of(*from_gguf, k_ids), lb = logits_of(*from_hf, k_ids);
  CHECK(bit_identical(la, lb));
}

TEST_CASE("tiny llama: one GGUF, its 3 splits and the sharded safetensors folder are one model") {
  load_options opt;
  auto one = loaded_model::load(fixture("roundtrip/tiny_llama.gguf"), opt);
  auto split = loaded_model::load(fixture("roundtrip/tiny_llama-00001-of-00003.gguf"), opt);
  auto hf = loaded_model::load(fixture("roundtrip/tiny_llama_hf"), opt);
  CHECK(one->format() == "gguf");
  CHECK(hf->format() == "safetensors");
  CHECK(split->weights()->all_tensors().size() == one->weights()->all_tensors().size());
  CHECK(split->file_bytes() > one->file_bytes());  // three headers
  CHECK(one->memory().owned_bytes == 0);
  // HF: q/k of 2 layers permuted, 5 BF16 norms widened to F32.
  CHECK(hf->n_repacked() == 9);
  CHECK(hf->memory().owned_bytes > 0);
  CHECK(hf->tensor_type_summary() == "F16 x 16, F32 x 5 (9 repacked at load)");
  CHECK(one->tensor_type_summary() == "F16 x 16, F32 x 5");
  CHECK(one->tokenizer_kind() == "spm");
  CHECK(hf->tokenizer_kind().rfind("bpe", 0) == 0);
  CHECK(!hf->chat_template().empty());

  const auto l1 = logits_of(one->net(), k_ids), l2 = logits_of(split->net(), k_ids);
  CHECK(bit_identical(l1, l2));
  // The HF tokenizer has 316 tokens for 512 embedding rows (padded, as HF checkpoints are); ids < 316.
  const std::vector<int32_t> ids = {5, 100, 315, 0, 42};
  CHECK(bit_identical(logits_of(one->net(), ids), logits_of(hf->net(), ids)));

  const generation_defaults& g = hf->generation();
  CHECK(g.temperature == doctest::Approx(0.6));
  CHECK(g.top_p == doctest::Approx(0.95));
  CHECK(g.top_k == 20);
  CHECK(g.do_sample == true);
  CHECK(!one->generation().temperature);
}

TEST_CASE("memory budget: a cap below the weights is refused with the numbers") {
  load_options opt;
  opt.max_memory_bytes = 64 * 1024;  // the tiny model's weights are ~100 KB
  CHECK_THROWS_WITH_AS(loaded_model::load(fixture("roundtrip/tiny_llama.gguf"), opt),
                       doctest::Contains("the memory cap (max_memory_bytes) is 0.1 MiB"), error);
  try {
    loaded_model::load(fixture("roundtrip/tiny_llama_hf"), opt);
    FAIL("expected out_of_memory");
  } catch (const error& e) {
    CHECK(e.code() == errc::out_of_memory);
    CHECK(std::string(e.what()).find("repacked") != std::string::npos);
  }
  opt.max_memory_bytes = 1 << 30;
  CHECK_NOTHROW(loaded_model::load(fixture("roundtrip/tiny_llama.gguf"), opt));
  CHECK(available_memory_bytes() > 0);

  hparams hp;
  hp.n_layer = 2;
  hp.n_head_kv = 4;
  hp.head_dim = 64;
  CHECK(estimate_kv_bytes(hp, 1024, false) == 2ull * 2 * 4 * 64 * 2 * 1024);
  CHECK(estimate_kv_bytes(hp, 1024, true) == 2 * estimate_kv_bytes(hp, 1024, false));
  hp.mla.kv_lora_rank = 512;
  hp.mla.qk_rope_head_dim = 64;
  CHECK(estimate_kv_bytes(hp, 10, false) == (512 + 64) * 2ull * 2 * 10);
  memory_estimate need;
  need.mapped_bytes = 3ull << 20;
  need.kv_bytes = 1ull << 20;
  CHECK_THROWS_WITH_AS(check_memory_budget(need, 2ull << 20, "session"),
                       doctest::Contains("session needs 4.0 MiB (weights mapped 3.0 MiB + repacked 0.0 MiB + KV cache 1.0 MiB)"),
                       error);
}

TEST_CASE("Hugging Face folders: broken ones are named") {
  const std::string tmp = "/tmp/dianoia_hf_test";
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  auto copy = [&](const std::string& from, const std::string& to) {
    std::filesystem::copy_file(fixture("roundtrip/tiny_llama_hf/") + from, tmp + "/" + to,
                               std::filesystem::copy_options::overwrite_existing);
  };
  copy("config.json", "config.json");
  copy("tokenizer.json", "tokenizer.json");
  copy("model.safetensors.index.json", "model.safetensors.index.json");
  copy("model-00001-of-00002.safetensors", "model-00001-of-00002.safetensors");
  load_options opt;
  CHECK_THROWS_WITH_AS(loaded_model::load(tmp, opt), doctest::Contains("names shard 'model-00002-of-00002.safetensors', which is missing"),
                       error);
  // The second shard present under the first's name too: the index's placement is checked.
  copy("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");
  CHECK_THROWS_AS(loaded_model::load(tmp, opt), error);
  std::filesystem::remove_all(tmp);
}
