#include "core/utf8.hpp"

namespace dianoia::detail {

int32_t utf8_decode(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  const int n = utf8_seq_len(b0);
  if (n == 0 || i + n > s.size()) {
    ++i;
    return -1;
  }
  if (n == 1) {
    ++i;
    return b0;
  }
  uint32_t cp = b0 & (0x7F >> n);
  for (int k = 1; k < n; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    // Second-byte ranges that exclude overlongs, surrogates and > U+10FFFF.
    if (k == 1) {
      if (b0 == 0xE0 && b < 0xA0) { ++i; return -1; }
      if (b0 == 0xED && b > 0x9F) { ++i; return -1; }
      if (b0 == 0xF0 && b < 0x90) { ++i; return -1; }
      if (b0 == 0xF4 && b > 0x8F) { ++i; return -1; }
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += n;
  return static_cast<int32_t>(cp);
}

bool utf8_valid(std::string_view s, size_t* bad_offset) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t at = i;
    if (utf8_decode(s, i) < 0) {
      if (bad_offset) *bad_offset = at;
      return false;
    }
  }
  return true;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {
// Length of the longest prefix of s[i..] that could still become a valid sequence (maximal subpart).
size_t maximal_subpart(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  const int n = utf8_seq_len(b0);
  if (n <= 1) return 1;
  size_t k = 1;
  for (; k < static_cast<size_t>(n) && i + k < s.size(); ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    uint8_t lo = 0x80, hi = 0xBF;
    if (k == 1) {
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    }
    if (b < lo || b > hi) break;
  }
  return k;
}
}  // namespace

std::string utf8_sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    if (utf8_decode(s, j) >= 0) {
      out.append(s.substr(i, j - i));
      i = j;
    } else {
      out += "\xEF\xBF\xBD";
      i += maximal_subpart(s, i);
    }
  }
  return out;
}

void utf8_stream::push(std::string_view bytes, std::string& out) {
  held_.append(bytes);
  size_t i = 0;
  while (i < held_.size()) {
    const auto b0 = static_cast<uint8_t>(held_[i]);
    const int n = utf8_seq_len(b0);
    if (n > 1 && i + n > held_.size()) {
      // Possibly incomplete: keep it if what we have so far is a valid prefix.
      if (maximal_subpart(held_, i) == held_.size() - i) break;
    }
    size_t j = i;
    if (utf8_decode(held_, j) >= 0) {
      out.append(held_, i, j - i);
      i = j;
    } else {
      out += "\xEF\xBF\xBD";
      i += maximal_subpart(held_, i);
    }
  }
  held_.erase(0, i);
}

void utf8_stream::flush(std::string& out) {
  if (!held_.empty()) out += utf8_sanitize(held_);
  held_.clear();
}

}  // namespace dianoia::detail
