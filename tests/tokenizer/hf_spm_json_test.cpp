// A SentencePiece-style (Llama-2 layout) tokenizer.json: stories260K's tok512.model converted by HF
// (tests/fixtures/tokenizer_spm_json, made by tools/make_spm_json_fixture.py) against HF tokenizers' ids
// for llama.cpp's llama-spm test strings and extra ones, with and without the BOS the file asks for; and
// against the same vocabulary read from stories260K.gguf.
#include <doctest/doctest.h>

#include <functional>

#include "core/error.hpp"
#include "json.hpp"
#include "tok_test_util.hpp"

using namespace dianoia;
using namespace dianoia::test;

namespace {

std::string fixture_dir() { return fixtures_dir() + "/tokenizer_spm_json"; }

std::unique_ptr<detail::tokenizer> load_fixture() {
  const std::string dir = fixture_dir();
  return detail::tokenizer::from_vocab(
      detail::load_vocab_hf(read_file(dir + "/tokenizer.json"), read_file(dir + "/tokenizer_config.json")));
}

detail::errc error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const detail::error& e) {
    MESSAGE("  rejected: " << std::string(e.what()));
    return e.code();
  }
  return detail::errc::ok;
}

// The fixture's JSON with the text between `from` and `to` (both kept out) replaced.
std::string patched(const std::string& json, const std::string& from, const std::string& to, const std::string& with) {
  const size_t a = json.find(from);
  REQUIRE(a != std::string::npos);
  const size_t b = json.find(to, a);
  REQUIRE(b != std::string::npos);
  return json.substr(0, a) + with + json.substr(b);
}

}  // namespace

TEST_CASE("spm tokenizer.json: loads as a SentencePiece vocabulary") {
  const std::string dir = fixture_dir();
  const auto v = detail::load_vocab_hf(read_file(dir + "/tokenizer.json"), read_file(dir + "/tokenizer_config.json"));
  CHECK(v.model == detail::vocab_model::spm);
  CHECK(v.add_space_prefix);
  CHECK(v.tokens.size() == 512);
  CHECK(v.merges.empty());
  REQUIRE(v.scores.size() == 512);
  CHECK(v.bos == 1);
  CHECK(v.eos == 2);
  CHECK(v.unk == 0);
  CHECK(v.add_bos);
  CHECK(!v.add_eos);
  CHECK(v.types[0] == detail::token_type::unknown);
  CHECK(v.types[1] == detail::token_type::control);
  CHECK(v.types[3] == detail::token_type::byte);    // <0x00>
  CHECK(v.types[258] == detail::token_type::byte);  // <0xFF>
  CHECK(v.types[259] == detail::token_type::normal);
}

TEST_CASE("spm tokenizer.json: ids identical to HF tokenizers") {
  auto tok = load_fixture();
  const auto ref = json::parse(read_file(fixture_dir() + "/cases.json"));
  const auto& cases = ref["cases"].arr;
  REQUIRE(cases.size() >= 70);
  size_t ok = 0, ok_special = 0, round_trips = 0, decode_same = 0;
  for (const auto& c : cases) {
    const std::string& text = c["text"].str;
    const auto want = c["ids"].as_vector<int32_t>();
    const auto want_special = c["ids_special"].as_vector<int32_t>();
    // HF matches special added tokens ("<s>") in any text: parse_special.
    const auto got = tok->encode(text, false, true);
    const auto got_special = tok->encode(text, true, true);
    ok += got == want;
    ok_special += got_special == want_special;
    CHECK_MESSAGE(got == want, "'" << escape(text) << "'\n  want" << format_ids(want) << "\n  got " << format_ids(got));
    CHECK_MESSAGE(got_special == want_special, "'" << escape(text) << "' (add_special)\n  want"
                                                   << format_ids(want_special) << "\n  got " << format_ids(got_special));
    const std::string& hf_decoded = c["decoded"].str;
    const std::string back = tok->decode(got, false);
    decode_same += back == hf_decoded;
    // Where HF gives the text back, so must we.
    if (hf_decoded == text) {
      ++round_trips;
      CHECK_MESSAGE(back == text, "'" << escape(text) << "' decodes to '" << escape(back) << "'");
    }
  }
  MESSAGE(ok << "/" << cases.size() << " identical (add_special=false), " << ok_special << "/" << cases.size()
             << " (add_special=true); HF round-trips " << round_trips << ", dianoia's decode equals HF's on "
             << decode_same << "/" << cases.size());
}

TEST_CASE("spm tokenizer.json: same ids as stories260K.gguf") {
  auto json_tok = load_fixture();
  auto g = load_tokenizer(data_dir() + "/models/stories260K/stories260K.gguf");
  const auto& gv = g.tok->vocab();
  const auto& jv = json_tok->vocab();
  REQUIRE(gv.tokens == jv.tokens);
  CHECK(gv.add_space_prefix == jv.add_space_prefix);
  CHECK(g.tok->bos() == json_tok->bos());
  CHECK(g.tok->eos() == json_tok->eos());
  const auto ref = json::parse(read_file(fixture_dir() + "/cases.json"));
  size_t same = 0, n = 0;
  for (const auto& c : ref["cases"].arr) {
    const std::string& text = c["text"].str;
    for (bool parse_special : {false, true}) {
      ++n;
      const auto a = g.tok->encode(text, false, parse_special);
      const auto b = json_tok->encode(text, false, parse_special);
      same += a == b;
      CHECK_MESSAGE(a == b, "'" << escape(text) << "' parse_special=" << parse_special << "\n  gguf" << format_ids(a)
                                << "\n  json" << format_ids(b));
    }
  }
  MESSAGE(same << "/" << n << " encodings identical between stories260K.gguf and the tokenizer.json");
}

TEST_CASE("spm tokenizer.json: layouts the SPM path cannot reproduce are rejected") {
  const std::string json = read_file(fixture_dir() + "/tokenizer.json");
  const std::string normalizer_key = "\"normalizer\":", pre_key = "\"pre_tokenizer\":", post_key = "\"post_processor\":";
  auto with_pre = [&](const std::string& pre) {
    return patched(patched(json, normalizer_key, pre_key, normalizer_key + " null,\n  "), pre_key, post_key,
                   pre_key + " " + pre + ",\n  ");
  };
  auto load = [](const std::string& j) { (void)detail::load_vocab_hf(j, std::nullopt); };
  using detail::errc;
  // transformers 5's layout: Metaspace prepends only where the text does not start with U+2581.
  CHECK(error_of([&] { load(with_pre(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false})")); }) ==
        errc::unsupported);
  CHECK(error_of([&] { load(with_pre(R"({"type":"Metaspace","replacement":"▁","add_prefix_space":true})")); }) ==
        errc::unsupported);
  CHECK(error_of([&] { load(with_pre(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true})")); }) ==
        errc::unsupported);
  CHECK(error_of([&] { load(with_pre(R"({"type":"Whitespace"})")); }) == errc::unsupported);
  // Metaspace "never": spaces become U+2581, no prefix.
  {
    auto v = detail::load_vocab_hf(
        with_pre(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":false})"), std::nullopt);
    CHECK(v.model == detail::vocab_model::spm);
    CHECK(!v.add_space_prefix);
    auto tok = detail::tokenizer::from_vocab(std::move(v));
    auto ids = tok->encode("Hello world", false, false);
    CHECK(tok->decode(ids, false) == "Hello world");
    CHECK(tok->token_text(ids.front()) != "\xE2\x96\x81He");  // no prefix: the first word is not a word start
  }
  // Spaces kept as spaces, and a Prepend of something else.
  CHECK(error_of([&] { load(patched(json, normalizer_key, pre_key, normalizer_key + " null,\n  ")); }) == errc::unsupported);
  CHECK(error_of([&] {
          load(patched(json, "\"prepend\": \"\xE2\x96\x81\"", "\n", "\"prepend\": \"x\""));
        }) == errc::unsupported);
  // A merge whose result is not a token.
  CHECK(error_of([&] { load(patched(json, "\"merges\": [", "\n", "\"merges\": [[\"<s>\", \"<s>\"],")); }) == errc::format);
}
