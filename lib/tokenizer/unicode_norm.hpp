// Unicode normalization (NFC, NFD, NFKC, NFKD) for tokenizer.json normalizers, on generated tables
// (lib/tokenizer/unicode_tables.cpp, Unicode 9.0.0 as Hugging Face tokenizers has them). Invalid UTF-8
// bytes are kept as they are: each is a starter that nothing composes with.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dianoia::detail {

enum class normal_form : uint8_t { nfc, nfd, nfkc, nfkd };

// The Unicode version of the tables.
std::string_view unicode_tables_version();

uint8_t canonical_combining_class(uint32_t cp);
// Unicode White_Space (Rust's char::is_whitespace): what HF strips around lstrip/rstrip added tokens.
bool is_white_space(uint32_t cp);

class unicode_normalizer {
 public:
  // Text in the form already (a quick check over the code points, no copy): returns `text`. Otherwise
  // the normalized text, in `buf`. `cps` is scratch.
  static std::string_view apply(std::string_view text, normal_form form, std::string& buf, std::vector<uint32_t>& cps);
};

}  // namespace dianoia::detail
