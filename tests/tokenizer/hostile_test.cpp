// Inputs a caller may pass by mistake or malice: invalid UTF-8, empty text, very long runs, lone special
// tokens, out-of-range ids. Nothing may crash; bytes must survive encode/decode.
#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <random>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "tok_test_util.hpp"

using namespace dianoia;
using namespace dianoia::test;

namespace {

const char* const k_names[] = {"gpt-2", "llama-spm", "deepseek-llm", "falcon"};

}  // namespace

TEST_CASE("hostile input") {
  for (const char* name : k_names) {
    CAPTURE(std::string(name));
    auto t = load_tokenizer(vocab_dir() + "/ggml-vocab-" + std::string(name) + ".gguf");
    const auto& tok = *t.tok;
    const bool byte_level = tok.vocab().model == detail::vocab_model::bpe;

    // Empty text: nothing, or only the BOS the vocabulary asks for.
    CHECK(tok.encode("", false, false).empty());
    CHECK(tok.encode("", true, true).size() == (tok.add_bos() ? 1u : 0u));
    CHECK(tok.decode({}, false).empty());

    // Invalid UTF-8: stray continuation bytes, truncated sequences, overlongs, surrogates, 0xFF, NUL.
    const std::string bad = std::string("a\x80z \xC3 \xE2\x82 \xF0\x9F\x98 \xC0\xAF \xED\xA0\x80 \xFF\xFE") +
                            std::string("\0x", 2) + "\xE2\x82\xAC";
    const auto ids = tok.encode(bad, true, true);
    CHECK_FALSE(ids.empty());
    for (int32_t id : ids) CHECK((id >= 0 && id < tok.n_vocab()));
    std::string raw;  // the exact bytes, before decode() makes them valid UTF-8
    for (int32_t id : tok.encode(bad, false, false)) raw += tok.token_bytes(id, false);
    // Both kinds keep every byte: byte-level BPE maps each byte, SPM falls back to <0xHH> tokens. Not so
    // for vocabularies that lack tokens for bytes never seen in valid UTF-8 (falcon has none for 0xC0,
    // 0xF5-0xFF, ...: dropped, as in llama.cpp) or hold them as added tokens (deepseek-llm: 'ÿ' is a
    // user-defined token, decoded as the text 'ÿ').
    if (std::string(name) == "gpt-2" || std::string(name) == "llama-spm")
      CHECK(raw == (byte_level ? bad : " " + bad));
    const std::string shown = tok.decode(ids, true);
    CHECK(detail::utf8_valid(shown));

    // 100k repeated characters, of several kinds.
    for (const std::string unit : {"a", " ", "\n", "7", "\xE2\x82\xAC", "!", "\xFF"}) {
      std::string big;
      for (int i = 0; i < 100000; ++i) big += unit;
      const auto big_ids = tok.encode(big, false, false);
      if (unit != "\xFF") {
        CHECK_FALSE(big_ids.empty());
        CHECK(tok.decode(big_ids, false) == big);
      }
    }

    // A lone special token, with and without parse_special, and glued to text.
    const int32_t eos = tok.eos();
    REQUIRE(eos >= 0);
    const std::string eos_text(tok.token_text(eos));
    const auto lone = tok.encode(eos_text, false, true);
    REQUIRE(lone.size() == 1);
    CHECK(lone[0] == eos);
    CHECK(tok.encode(eos_text, false, false).size() > 1);
    CHECK(tok.decode(lone, true).empty());
    CHECK(tok.decode(lone, false) == eos_text);
    const auto glued = tok.encode(eos_text + eos_text + "x" + eos_text, false, true);
    CHECK(std::count(glued.begin(), glued.end(), eos) == 3);

    // Out-of-range ids are caller errors, reported, not undefined behaviour.
    for (int32_t id : {-1, tok.n_vocab(), 1 << 30}) {
      try {
        (void)tok.token_bytes(id, true);
        FAIL("token_bytes accepted id " << id);
      } catch (const detail::error& e) {
        CHECK(e.code() == detail::errc::invalid_argument);
      }
      const int32_t seq[] = {0, id};
      CHECK_THROWS_AS((void)tok.decode(seq, false), detail::error);
      CHECK_THROWS_AS((void)tok.token_text(id), detail::error);
    }
  }
}

TEST_CASE("decode sanitizes bytes split across tokens") {
  auto t = load_tokenizer(vocab_dir() + "/ggml-vocab-gpt-2.gguf");
  const std::string euro = "\xE2\x82\xAC";
  const auto ids = t.tok->encode(euro, false, false);
  std::string joined;
  for (int32_t id : ids) joined += t.tok->token_bytes(id, false);
  CHECK(joined == euro);
  CHECK(t.tok->decode(ids, false) == euro);
  // A lone lead byte piece (first token of a multi-token character) is not valid UTF-8 on its own.
  if (ids.size() > 1) {
    const std::string part = t.tok->decode(std::span(ids).first(1), false);
    CHECK(detail::utf8_valid(part));
  }
}

TEST_CASE("random byte strings") {
  // Fixed-seed fuzzing: random bytes mixed with pieces of special-token texts and multi-byte characters.
  const char* const pieces[] = {"<|", "|>", "endoftext", "</s>", "<s>", " ", "\n", "\xE2\x96\x81", "\xC3", "\xA9",
                                "\xF0\x9F", "'s", "123", "\xEF\xBD\x9C", "<0x41>"};
  for (const char* name : {"gpt-2", "llama-spm", "deepseek-coder", "starcoder", "phi-3"}) {
    CAPTURE(std::string(name));
    auto t = load_tokenizer(vocab_dir() + "/ggml-vocab-" + std::string(name) + ".gguf");
    std::mt19937 rng(1234);
    for (int iter = 0; iter < 300; ++iter) {
      std::string s;
      const int n = static_cast<int>(rng() % 24);
      for (int i = 0; i < n; ++i) {
        if (rng() % 2)
          s += static_cast<char>(rng() % 256);
        else
          s += pieces[rng() % std::size(pieces)];
      }
      const auto ids = t.tok->encode(s, (iter & 1) != 0, (iter & 2) != 0);
      for (int32_t id : ids) REQUIRE((id >= 0 && id < t.tok->n_vocab()));
      CHECK(detail::utf8_valid(t.tok->decode(ids, (iter & 4) != 0)));
      if (detail::utf8_valid(s) && (iter & 3) == 0 && std::string(name) != "phi-3")
        CHECK_MESSAGE(t.tok->decode(ids, false) == s, "'" << escape(s) << "'");
    }
  }
}
