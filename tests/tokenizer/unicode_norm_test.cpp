// NFC/NFD/NFKC/NFKD on the generated tables against Hugging Face tokenizers' normalizers
// (tests/fixtures/tokenizer_unicode/normalization.json, from tools/make_unicode_norm_fixture.py).
#include <doctest/doctest.h>

#include <cstdio>

#include "core/utf8.hpp"
#include "json.hpp"
#include "tok_test_util.hpp"
#include "tokenizer/unicode_norm.hpp"

using namespace dianoia;
using namespace dianoia::test;
using detail::normal_form;

namespace {

std::string norm(std::string_view s, normal_form f) {
  std::string buf;
  std::vector<uint32_t> cps;
  return std::string(detail::unicode_normalizer::apply(s, f, buf, cps));
}

std::string fnv_hex(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

constexpr std::pair<const char*, normal_form> k_forms[] = {
    {"nfc", normal_form::nfc}, {"nfd", normal_form::nfd}, {"nfkc", normal_form::nfkc}, {"nfkd", normal_form::nfkd}};

}  // namespace

TEST_CASE("unicode normalization: known cases") {
  CHECK(detail::unicode_tables_version() == "9.0.0");
  CHECK(norm("e\xCC\x81", normal_form::nfc) == "\xC3\xA9");            // e + U+0301 -> é
  CHECK(norm("\xC3\xA9", normal_form::nfd) == "e\xCC\x81");
  CHECK(norm("\xE2\x84\xA6", normal_form::nfc) == "\xCE\xA9");         // OHM SIGN -> OMEGA (singleton)
  CHECK(norm("\xEF\xAC\x81", normal_form::nfc) == "\xEF\xAC\x81");     // ligature fi kept by NFC
  CHECK(norm("\xEF\xAC\x81", normal_form::nfkc) == "fi");
  CHECK(norm("a\xCC\x95\xCC\x96", normal_form::nfc) == "a\xCC\x96\xCC\x95");  // reordered: ccc 220 before 232
  CHECK(norm("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", normal_form::nfc) == "\xEA\xB0\x81");  // jamo -> 각
  CHECK(norm("\xEA\xB0\x81", normal_form::nfd) == "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8");
  // Invalid bytes survive untouched, and block composition across them.
  CHECK(norm("e\xFF\xCC\x81", normal_form::nfc) == "e\xFF\xCC\x81");
  CHECK(norm("\xFF" "e\xCC\x81\xC3", normal_form::nfc) == "\xFF\xC3\xA9\xC3");
  // Already normalized text comes back as the same view (no copy).
  std::string buf;
  std::vector<uint32_t> cps;
  const std::string_view ascii = "plain ascii text";
  CHECK(detail::unicode_normalizer::apply(ascii, normal_form::nfc, buf, cps).data() == ascii.data());
  CHECK(detail::canonical_combining_class(0x301) == 230);
  CHECK(detail::canonical_combining_class(0x1DF6) == 0);  // a Unicode 10 mark: class 0 in 9.0, as in HF
}

TEST_CASE("unicode normalization: Hugging Face tokenizers' normalizers") {
  const auto ref = json::parse(read_file(fixtures_dir() + "/tokenizer_unicode/normalization.json"));
  const auto& cases = ref["cases"].arr;
  REQUIRE(cases.size() > 100);
  size_t ok = 0, total = 0;
  for (const auto& c : cases) {
    for (const auto& [key, form] : k_forms) {
      const std::string got = norm(c["text"].str, form);
      ++total;
      ok += got == c[key].str;
      CHECK_MESSAGE(got == c[key].str, key << "('" << escape(c["text"].str) << "')");
    }
  }
  MESSAGE(ok << "/" << total << " normalizations identical to HF tokenizers");

  // Every code point, each on its own line.
  std::string every;
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == '\n') continue;
    detail::utf8_append(every, cp);
    every += '\n';
  }
  for (const auto& [key, form] : k_forms) CHECK_MESSAGE(fnv_hex(norm(every, form)) == ref["all"][key].str, key);
}

TEST_CASE("unicode normalization: a long run of combining marks stays fast and sorted") {
  // 100k marks alternating classes 232 and 220: a quadratic insertion sort would take minutes.
  std::string text = "a";
  for (int i = 0; i < 50000; ++i) text += "\xCC\x95\xCC\x96";  // U+0315 (232), U+0316 (220)
  const std::string got = norm(text, normal_form::nfc);
  std::string want = "a";
  for (int i = 0; i < 50000; ++i) want += "\xCC\x96";
  for (int i = 0; i < 50000; ++i) want += "\xCC\x95";
  CHECK(got == want);
}
