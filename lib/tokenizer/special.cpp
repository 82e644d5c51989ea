#include "tokenizer/special.hpp"

#include <algorithm>
#include <bitset>

#include "core/utf8.hpp"
#include "tokenizer/unicode_norm.hpp"

namespace dianoia::detail {

namespace {

// Length of the whitespace run that ends s (whole characters only).
size_t trailing_space(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && end - start < 4 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
    size_t i = start;
    const int32_t cp = utf8_decode(s, i);
    if (cp < 0 || i != end || !is_white_space(static_cast<uint32_t>(cp))) break;
    end = start;
  }
  return s.size() - end;
}

// Length of the whitespace run that starts s.
size_t leading_space(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    const int32_t cp = utf8_decode(s, j);
    if (cp < 0 || !is_white_space(static_cast<uint32_t>(cp))) break;
    i = j;
  }
  return i;
}

}  // namespace

special_matcher::special_matcher(const vocab_data& v, const std::function<std::string(std::string_view)>& normalize) {
  for (size_t i = 0; i < v.types.size(); ++i) {
    const token_type t = v.types[i];
    if (v.tokens[i].empty()) continue;
    if (t != token_type::control && t != token_type::unknown && t != token_type::user_defined) continue;
    const uint8_t flags = v.token_flags.empty() ? 0 : v.token_flags[i];
    entry e{static_cast<int32_t>(i), t != token_type::user_defined, (flags & token_normalized) != 0,
            (flags & token_lstrip) != 0, (flags & token_rstrip) != 0, v.tokens[i]};
    if (e.normalized && !v.normalizers.empty()) e.text = normalize(e.text);
    if (e.text.empty()) continue;
    has_normalized_ |= e.normalized;
    entries_.push_back(std::move(e));
  }
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const entry& a, const entry& b) { return a.text.size() > b.text.size(); });
}

void special_matcher::partition(std::string_view text, bool parse_special, pass which,
                                std::vector<fragment>& out) const {
  out.clear();
  if (text.empty()) return;
  out.push_back({-1, 0, text.size()});
  // Tokens whose first byte never occurs in the text cannot match: skip them without scanning.
  std::bitset<256> present;
  for (unsigned char c : text) present.set(c);

  std::vector<fragment> next;
  for (const entry& e : entries_) {
    if ((e.control && !parse_special) || e.normalized != (which == pass::normalized)) continue;
    if (!present.test(static_cast<unsigned char>(e.text[0])) || e.text.size() > text.size()) continue;
    bool found = false;
    next.clear();
    for (const fragment& f : out) {
      if (f.token >= 0 || f.length < e.text.size()) {
        next.push_back(f);
        continue;
      }
      const std::string_view raw = text.substr(f.offset, f.length);
      size_t start = 0;
      for (size_t hit; (hit = raw.find(e.text, start)) != std::string_view::npos;) {
        found = true;
        size_t before = hit - start;
        if (e.lstrip) before -= trailing_space(raw.substr(start, before));
        if (before > 0) next.push_back({-1, f.offset + start, before});
        next.push_back({e.id, 0, 0});
        start = hit + e.text.size();
        if (e.rstrip) start += leading_space(raw.substr(start));
      }
      if (start < raw.size()) next.push_back({-1, f.offset + start, raw.size() - start});
    }
    if (found) out.swap(next);
  }
}

}  // namespace dianoia::detail
