#include "tokenizer/byte_level.hpp"

#include <array>

#include "core/utf8.hpp"

namespace dianoia::detail {

namespace {

constexpr bool printable(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

struct tables {
  std::array<uint32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8{};
  std::array<int16_t, 256 + 68> from_cp{};  // the 68 non-printable bytes take U+0100..U+0143
  tables() {
    from_cp.fill(-1);
    uint32_t next = 256;
    for (unsigned b = 0; b < 256; ++b) {
      to_cp[b] = printable(b) ? b : next++;
      from_cp[to_cp[b]] = static_cast<int16_t>(b);
      utf8_append(to_utf8[b], to_cp[b]);
    }
  }
};

const tables& tab() {
  static const tables t;
  return t;
}

}  // namespace

uint32_t byte_to_codepoint(uint8_t b) { return tab().to_cp[b]; }

int byte_from_codepoint(uint32_t cp) { return cp < tab().from_cp.size() ? tab().from_cp[cp] : -1; }

void byte_level_encode(std::string_view bytes, std::string& out) {
  const tables& t = tab();
  for (unsigned char c : bytes) out += t.to_utf8[c];
}

void byte_level_decode(std::string_view text, std::string& out) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const int32_t cp = utf8_decode(text, i);
    const int b = cp < 0 ? -1 : byte_from_codepoint(static_cast<uint32_t>(cp));
    if (b >= 0)
      out += static_cast<char>(b);
    else
      out.append(text.substr(start, i - start));
  }
}

}  // namespace dianoia::detail
