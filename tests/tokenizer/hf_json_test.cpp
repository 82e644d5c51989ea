// The Qwen3 and DeepSeek-V3 tokenizer.json files in shared/data, turned into vocab_data by a test-only
// reader (the library has no tokenizer.json loader yet), check the qwen2 and deepseek-v3 pre-tokenizers
// against HF-generated vectors, and the added/special-token matching with parse_special.
#include <doctest/doctest.h>

#include "json.hpp"
#include "tok_test_util.hpp"

using namespace dianoia;
using namespace dianoia::test;

namespace {

std::unique_ptr<detail::tokenizer> from_tokenizer_json(const std::string& path, const std::string& pre) {
  const auto j = json::parse(read_file(path));
  const auto& model = j["model"];
  detail::vocab_data v;
  v.model = detail::vocab_model::bpe;
  v.pre = pre;
  const auto& added = j["added_tokens"].arr;
  size_t n = model["vocab"].obj.size();
  for (const auto& a : added) n = std::max(n, static_cast<size_t>(a["id"].num) + 1);
  v.tokens.resize(n);
  v.types.assign(n, detail::token_type::normal);
  for (const auto& [text, id] : model["vocab"].obj) v.tokens.at(static_cast<size_t>(id.num)) = text;
  for (const auto& a : added) {
    const auto id = static_cast<size_t>(a["id"].num);
    v.tokens.at(id) = a["content"].str;
    // As llama.cpp's converter does: special added tokens are control tokens, the others user-defined.
    v.types[id] = a["special"].b ? detail::token_type::control : detail::token_type::user_defined;
  }
  for (const auto& m : model["merges"].arr) {
    if (m.kind == json::array) {
      v.merges.emplace_back(m.arr.at(0).str, m.arr.at(1).str);
    } else {
      const size_t sp = m.str.find(' ', 1);
      v.merges.emplace_back(m.str.substr(0, sp), m.str.substr(sp + 1));
    }
  }
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
  auto tok = from_tokenizer_json(dir + "/tokenizer.json", "qwen2");
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
  auto tok = from_tokenizer_json(dir + "/tokenizer.json", "deepseek-v3");
  check_vectors(*tok, dir + "/ggml-vocab-deepseek-v3.gguf.inp", dir + "/ggml-vocab-deepseek-v3.gguf.out", false,
                "deepseek-v3");
  check_vectors(*tok, dir + "/special-tokens.inp", dir + "/special-tokens.out", true, "deepseek-v3 special-tokens");
  const int32_t eos = *tok->find("<｜end▁of▁sentence｜>");
  CHECK(tok->is_eog(eos));
  CHECK(tok->eot() == eos);
}
