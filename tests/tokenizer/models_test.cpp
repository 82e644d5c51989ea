// Tokenizers of real models: stories260K (SPM, 512 tokens; reference = llama2.c's run.c encode) and
// SmolLM2-135M-Instruct (byte-level BPE, pre=smollm; reference = llama.cpp via tests/fixtures).
#include <doctest/doctest.h>

#include "json.hpp"
#include "tok_test_util.hpp"

using namespace dianoia;
using namespace dianoia::test;

TEST_CASE("stories260K: reference encodings") {
  const std::string dir = data_dir() + "/models/stories260K";
  auto t = load_tokenizer(dir + "/stories260K.gguf");
  CHECK(t.tok->n_vocab() == 512);
  CHECK(t.tok->bos() == 1);
  CHECK(t.tok->eos() == 2);
  CHECK(t.tok->add_bos());
  const auto ref = json::parse(read_file(dir + "/reference_outputs.json"));
  const auto& cases = ref["encode"].arr;
  REQUIRE(cases.size() == 8);
  for (const auto& c : cases) {
    const std::string& text = c["text"].str;
    const auto want = c["ids"].as_vector<int32_t>();
    // run.c's encode() adds BOS (every reference starts with 1, even for ""), as add_special does here.
    const auto got = t.tok->encode(text, true, false);
    CHECK_MESSAGE(got == want, "'" << escape(text) << "'\n  want" << format_ids(want) << "\n  got " << format_ids(got));
    CHECK(t.tok->decode(got, true) == text);
  }
  const auto prompt = ref["greedy_once_upon_a_time"];
  if (const auto* ids = prompt.find("prompt_ids"))
    CHECK(t.tok->encode("Once upon a time", true, false) == ids->as_vector<int32_t>());
  CHECK(t.tok->is_eog(2));
  CHECK_FALSE(t.tok->is_eog(1));
  CHECK(t.tok->token_bytes(1, false).empty());
  CHECK(t.tok->token_bytes(1, true) == "<s>");
}

TEST_CASE("SmolLM2: llama.cpp reference tokenizations") {
  const std::string model = default_model_path();
  if (!file_exists(model)) {
    MESSAGE("SmolLM2 model missing at " << model << ": test not run");
    return;
  }
  auto t = load_tokenizer(model);
  CHECK(t.tok->n_vocab() == 49152);
  CHECK_FALSE(t.tok->add_bos());
  CHECK(t.tok->eos() == 2);
  CHECK(t.tok->is_eog(2));  // <|im_end|>
  CHECK(t.tok->is_eog(0));  // <|endoftext|>
  CHECK_FALSE(t.tok->is_eog(1));
  CHECK(t.tok->is_control(1));

  const std::string fixture = fixtures_dir() + "/smollm2_tokenize.json";
  if (!file_exists(fixture)) {
    MESSAGE("tests/fixtures/smollm2_tokenize.json is missing: SmolLM2 reference tokenizations not checked");
  } else {
    const auto cases = json::parse(read_file(fixture));
    size_t ok = 0;
    for (const auto& c : cases.arr) {
      const std::string& text = c["text"].str;
      const bool special = c["special"].b;
      const auto want = c["ids"].as_vector<int32_t>();
      const auto got = t.tok->encode(text, false, special);
      ok += got == want;
      CHECK_MESSAGE(got == want, "special=" << special << " '" << escape(text) << "'\n  want" << format_ids(want)
                                            << "\n  got " << format_ids(got));
      // Round trip: lossless for byte-level BPE, with special tokens rendered back as their text.
      CHECK(t.tok->decode(got, false) == text);
    }
    MESSAGE("SmolLM2: " << ok << "/" << cases.arr.size() << " reference tokenizations match");
  }

  const auto im = t.tok->encode("<|im_start|>", false, true);
  REQUIRE(im.size() == 1);
  CHECK(im[0] == 1);
  CHECK(t.tok->encode("<|im_start|>", false, false).size() > 1);
  const auto chat = t.tok->encode("<|im_start|>user\nHi<|im_end|>\n", false, true);
  REQUIRE(chat.size() >= 4);
  CHECK(chat.front() == 1);
  CHECK(t.tok->decode(chat, true) == "user\nHi\n");
  CHECK(t.tok->decode(chat, false) == "<|im_start|>user\nHi<|im_end|>\n");
  CHECK(t.tok->find("<|im_end|>") == 2);
  CHECK_FALSE(t.tok->find("no such token text").has_value());
}
