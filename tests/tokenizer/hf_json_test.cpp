// The Qwen3 and DeepSeek-V3 tokenizer.json files in shared/data, read by the library's loader
// (load_vocab_hf), check the recognised qwen2 and deepseek-v3 pre-tokenizers against HF-generated vectors,
// and the added/special-token matching with parse_special.
#include <doctest/doctest.h>

#include "tok_test_util.hpp"

using namespace dianoia;
using namespace dianoia::test;

namespace {

std::unique_ptr<detail::tokenizer> from_tokenizer_json(const std::string& dir, const std::string& want_pre) {
  const std::string json = read_file(dir + "/tokenizer.json"), config = read_file(dir + "/tokenizer_config.json");
  auto v = detail::load_vocab_hf(json, config);
  CHECK(v.pre == want_pre);
  return detail::tokenizer::from_vocab(std::move(v));
}

void check_vectors(const detail::tokenizer& tok, const std::string& inp, const std::string& out, bool parse_special,
                   const std::string& label) {
  const auto cases = read_vocab_cases(inp, out);
  REQUIRE(!cases.empty());
  size_t ok = 0;
  for (const auto& c : cases) {
    const auto got = tok.encode(c.text, false, parse_special);
    ok += got == c.ids;
    CHECK_MESSAGE(got == c.ids, label << ": '" << escape(c.text) << "'\n  want" << format_ids(c.ids) << "\n  got "
                                      << format_ids(got));
    CHECK(tok.decode(got, false) == c.text);
  }
  MESSAGE(label << ": " << ok << "/" << cases.size() << " reference tokenizations match");
}

}  // namespace

TEST_CASE("qwen3 tokenizer.json: qwen2 pre-tokenizer and special tokens") {
  const std::string dir = data_dir() + "/tokenizers/qwen3";
  auto tok = from_tokenizer_json(dir, "qwen2");
  for (const char* name : {"qwen2", "deepseek-r1-qwen"}) {
    const std::string base = vocab_dir() + "/ggml-vocab-" + std::string(name) + ".gguf";
    check_vectors(*tok, base + ".inp", base + ".out", false, name);
  }
  check_vectors(*tok, dir + "/special-tokens.inp", dir + "/special-tokens.out", true, "qwen3 special-tokens");
  CHECK(tok->is_eog(*tok->find("<|im_end|>")));
  CHECK(tok->is_eog(*tok->find("<|endoftext|>")));
}

TEST_CASE("deepseek-v3 tokenizer.json: deepseek-v3 pre-tokenizer and special tokens") {
  const std::string dir = data_dir() + "/tokenizers/deepseek-v3";
  auto tok = from_tokenizer_json(dir, "deepseek-v3");
  check_vectors(*tok, dir + "/ggml-vocab-deepseek-v3.gguf.inp", dir + "/ggml-vocab-deepseek-v3.gguf.out", false,
                "deepseek-v3");
  check_vectors(*tok, dir + "/special-tokens.inp", dir + "/special-tokens.out", true, "deepseek-v3 special-tokens");
  const int32_t eos = *tok->find("<｜end▁of▁sentence｜>");
  CHECK(tok->is_eog(eos));
  CHECK(tok->eot() == eos);
}
