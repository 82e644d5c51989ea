// A Hugging Face tokenizer.json through the C ABI: loaded vocab-only from the file or its directory, with
// the chat template and special tokens of tokenizer_config.json beside it; without vocab_only it is
// refused with a clear status.
#include <doctest/doctest.h>

#include <dianoia.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

std::string qwen3_dir() { return dianoia::test::data_dir() + "/tokenizers/qwen3"; }

dianoia_model* load_vocab_only(const std::string& path) {
  dianoia_model_params p = dianoia_model_default_params();
  p.vocab_only = true;
  dianoia_model* m = nullptr;
  const dianoia_status st = dianoia_model_load(path.c_str(), &p, &m);
  INFO(dianoia_last_error());
  REQUIRE(st == DIANOIA_OK);
  return m;
}

}  // namespace

TEST_CASE("capi: tokenizer.json, vocab-only") {
  for (const std::string path : {qwen3_dir(), qwen3_dir() + "/tokenizer.json"}) {
    CAPTURE(path);
    dianoia_model* m = load_vocab_only(path);
    dianoia_model_info info{};
    info.struct_size = sizeof info;
    REQUIRE(dianoia_model_get_info(m, &info) == DIANOIA_OK);
    CHECK(std::string(info.architecture).empty());
    CHECK(info.n_vocab == 151669);
    CHECK(info.n_layers == 0);
    CHECK(info.has_chat_template);
    CHECK(info.bos_token == -1);      // Qwen3 has no BOS
    CHECK(info.eos_token == 151645);  // <|im_end|>

    int32_t ids[8];
    size_t n = 0;
    REQUIRE(dianoia_tokenize(m, "Hello world", 11, true, false, ids, 8, &n) == DIANOIA_OK);
    CHECK(std::vector<int32_t>(ids, ids + n) == std::vector<int32_t>{9707, 1879});

    // The thinking chat template of tokenizer_config.json renders.
    const dianoia_chat_message msg = {"user", "Hi"};
    std::vector<char> out(4096);
    size_t len = 0;
    REQUIRE(dianoia_chat_apply_template(m, nullptr, &msg, 1, true, nullptr, out.data(), out.size(), &len) == DIANOIA_OK);
    const std::string text(out.data(), len);
    CHECK(text.find("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n") != std::string::npos);

    dianoia_session* s = nullptr;
    CHECK(dianoia_session_create(m, nullptr, &s) == DIANOIA_ERR_INVALID_ARGUMENT);
    dianoia_model_free(m);
  }

  // DeepSeek-V3: BOS from the config's {content} object, added by add_bos_token.
  dianoia_model* m = load_vocab_only(dianoia::test::data_dir() + "/tokenizers/deepseek-v3");
  int32_t ids[8];
  size_t n = 0;
  REQUIRE(dianoia_tokenize(m, "hi", 2, true, false, ids, 8, &n) == DIANOIA_OK);
  REQUIRE(n == 2);
  CHECK(ids[0] == 0);
  dianoia_model_free(m);
}

TEST_CASE("capi: tokenizer.json errors") {
  dianoia_model* m = nullptr;
  // Full loads need weights: this directory has a tokenizer but no config.json, a tokenizer.json has none.
  CHECK(dianoia_model_load(qwen3_dir().c_str(), nullptr, &m) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(dianoia_last_error()).find("no config.json") != std::string::npos);
  CHECK(dianoia_model_load((qwen3_dir() + "/tokenizer.json").c_str(), nullptr, &m) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(dianoia_last_error()).find("vocab-only") != std::string::npos);
  CHECK(m == nullptr);

  dianoia_model_params p = dianoia_model_default_params();
  p.vocab_only = true;
  CHECK(dianoia_model_load("/nonexistent/tokenizer.json", &p, &m) == DIANOIA_ERR_IO);
  CHECK(dianoia_model_load((dianoia::test::data_dir() + "/configs").c_str(), &p, &m) == DIANOIA_ERR_IO);
  // Not a tokenizer.json: the stories model's reference outputs are JSON of another shape.
  const std::string other = dianoia::test::data_dir() + "/models/stories260K/reference_outputs.json";
  CHECK(dianoia_model_load(other.c_str(), &p, &m) == DIANOIA_ERR_FORMAT);
  CHECK(std::string(dianoia_last_error()).find("tokenizer.json") != std::string::npos);
  CHECK(m == nullptr);
}
