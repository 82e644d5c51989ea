// HF added-token flags on a small synthetic tokenizer.json (tests/fixtures/tokenizer_flags, made by
// tools/make_tokenizer_flag_fixture.py): lstrip/rstrip take the whitespace around a token (Unicode
// White_Space, as Rust's char::is_whitespace), "normalized" tokens are found in the NFC text and others in
// the raw text only.
#include <doctest/doctest.h>

#include "json.hpp"
#include "tok_test_util.hpp"

using namespace dianoia;
using namespace dianoia::test;

TEST_CASE("added tokens: lstrip, rstrip and normalized as HF tokenizers") {
  const std::string dir = fixtures_dir() + "/tokenizer_flags";
  auto v = detail::load_vocab_hf(read_file(dir + "/tokenizer.json"), std::nullopt);
  REQUIRE(v.normalizers.size() == 1);
  auto tok = detail::tokenizer::from_vocab(std::move(v));
  const auto ref = json::parse(read_file(dir + "/cases.json"));
  size_t ok = 0;
  for (const auto& c : ref["cases"].arr) {
    const std::string& text = c["text"].str;
    const auto want = c["ids"].as_vector<int32_t>();
    // HF matches special added tokens in any text: parse_special.
    const auto got = tok->encode(text, false, true);
    ok += got == want;
    CHECK_MESSAGE(got == want, "'" << escape(text) << "'\n  want" << format_ids(want) << "\n  got " << format_ids(got));
  }
  MESSAGE(ok << "/" << ref["cases"].arr.size() << " added-token cases identical to HF tokenizers");
  // Without parse_special the special ones stay text; the stripping belongs to the match.
  const auto plain = tok->encode("a <|L|> b", false, false);
  CHECK(tok->decode(plain, false) == "a <|L|> b");
}
