// UTF-8 helpers shared by the tokenizer, the streaming detokenizer and the C ABI's input checks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dianoia::detail {

// Length of the sequence a lead byte announces (1..4), or 0 for a byte that cannot start one.
constexpr int utf8_seq_len(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;  // continuation byte or overlong 2-byte lead
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// Decodes one code point at s[i]; on success advances i and returns it, else returns -1 and advances i
// by one byte. Rejects overlongs, surrogates and values past U+10FFFF (strict, as RFC 3629).
int32_t utf8_decode(std::string_view s, size_t& i);

// True if all of s is valid UTF-8. On failure, *bad_offset (if given) is the first invalid byte.
bool utf8_valid(std::string_view s, size_t* bad_offset = nullptr);

void utf8_append(std::string& out, uint32_t cp);

// Replaces every invalid sequence with U+FFFD (one per maximal invalid subpart, like HF/WHATWG).
std::string utf8_sanitize(std::string_view s);

// Streaming: splits a byte stream into whole characters. push() appends the bytes that form complete
// characters to `out` and keeps an incomplete trailing sequence for the next push; invalid bytes become
// U+FFFD. flush() emits whatever is held (an unfinished sequence becomes U+FFFD).
class utf8_stream {
 public:
  void push(std::string_view bytes, std::string& out);
  void flush(std::string& out);
  bool pending() const { return !held_.empty(); }

 private:
  std::string held_;
};

}  // namespace dianoia::detail
