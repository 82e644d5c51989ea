// llama.cpp's tokenizer test vectors (HF AutoTokenizer output, add_special=false, parse_special=false) for
// every vocabulary GGUF in shared/data/vocab that has them, plus decode(encode(x)) == x on the same strings.
#include <doctest/doctest.h>

#include "tok_test_util.hpp"

using namespace dianoia;
using namespace dianoia::test;

namespace {

struct outcome {
  size_t passed = 0, total = 0;
  std::string first_failures;
};

outcome run_cases(const detail::tokenizer& tok, const std::vector<vocab_case>& cases) {
  outcome o;
  for (const auto& c : cases) {
    ++o.total;
    const auto got = tok.encode(c.text, false, false);
    if (got == c.ids) {
      ++o.passed;
    } else if (o.total - o.passed <= 3) {
      o.first_failures += "  '" + escape(c.text) + "'\n    want" + format_ids(c.ids) + "\n    got " + format_ids(got) + "\n";
    }
  }
  return o;
}

// Vocabularies whose reference vectors must all pass.
void check_vocab(const std::string& name) {
  const std::string base = vocab_dir() + "/ggml-vocab-" + name + ".gguf";
  auto t = load_tokenizer(base);
  const auto cases = read_vocab_cases(base + ".inp", base + ".out");
  REQUIRE(cases.size() >= 40);
  const outcome o = run_cases(*t.tok, cases);
  CHECK_MESSAGE(o.passed == o.total, name << ": " << o.passed << "/" << o.total << " pass\n" << o.first_failures);
  MESSAGE(name << ": " << o.passed << "/" << o.total << " reference tokenizations match");
}

}  // namespace

TEST_CASE("vocab vectors: llama-spm") { check_vocab("llama-spm"); }
TEST_CASE("vocab vectors: gpt-2") { check_vocab("gpt-2"); }
TEST_CASE("vocab vectors: phi-3") { check_vocab("phi-3"); }
TEST_CASE("vocab vectors: deepseek-llm") { check_vocab("deepseek-llm"); }
TEST_CASE("vocab vectors: deepseek-coder") { check_vocab("deepseek-coder"); }
TEST_CASE("vocab vectors: falcon") { check_vocab("falcon"); }
TEST_CASE("vocab vectors: starcoder") { check_vocab("starcoder"); }
TEST_CASE("vocab vectors: refact") { check_vocab("refact"); }
TEST_CASE("vocab vectors: mpt") { check_vocab("mpt"); }

TEST_CASE("vocab files without vectors load") {
  // baichuan (SPM, no pre key) and gpt-neox (BPE, no pre key -> llama.cpp's default pre-tokenizer) have no
  // .inp/.out pair in shared/data; check that they load and round-trip.
  for (const char* name : {"baichuan", "gpt-neox"}) {
    auto t = load_tokenizer(vocab_dir() + "/ggml-vocab-" + std::string(name) + ".gguf");
    const std::string s = "Hello world, 3.14 \xE2\x82\xAC!";
    CHECK(t.tok->decode(t.tok->encode(s, false, false), false) == s);
  }
  MESSAGE("baichuan and gpt-neox have no .inp/.out pair: only loading and round trip are checked");
}

TEST_CASE("round trip on the vector strings") {
  // Byte-level BPE is lossless; SPM drops the space prefix again on decode. Texts with leading spaces
  // survive as well: the prefix is an extra U+2581 that decode removes.
  for (const char* name : {"gpt-2", "llama-spm", "deepseek-llm", "deepseek-coder", "falcon", "starcoder",
                           "refact", "mpt", "phi-3"}) {
    const std::string base = vocab_dir() + "/ggml-vocab-" + std::string(name) + ".gguf";
    auto t = load_tokenizer(base);
    size_t ok = 0, total = 0;
    for (const auto& c : read_vocab_cases(base + ".inp", base + ".out")) {
      ++total;
      const auto ids = t.tok->encode(c.text, false, false);
      const std::string back = t.tok->decode(ids, false);
      if (back == c.text) ++ok;
      CHECK_MESSAGE(back == c.text, std::string(name) << ": '" << escape(c.text) << "' -> '" << escape(back) << "'");
    }
    MESSAGE(std::string(name) << ": round trip " << ok << "/" << total);
  }
}
