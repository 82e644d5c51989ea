#include "tokenizer/special.hpp"

#include <algorithm>
#include <bitset>

namespace dianoia::detail {

special_matcher::special_matcher(const vocab_data& v) {
  for (size_t i = 0; i < v.types.size(); ++i) {
    const token_type t = v.types[i];
    if (v.tokens[i].empty()) continue;
    if (t == token_type::control || t == token_type::unknown || t == token_type::user_defined)
      entries_.push_back({static_cast<int32_t>(i), t != token_type::user_defined, v.tokens[i]});
  }
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const entry& a, const entry& b) { return a.text.size() > b.text.size(); });
}

void special_matcher::partition(std::string_view text, bool parse_special, std::vector<fragment>& out) const {
  out.clear();
  if (text.empty()) return;
  out.push_back({-1, 0, text.size()});
  // Tokens whose first byte never occurs in the text cannot match: skip them without scanning.
  std::bitset<256> present;
  for (unsigned char c : text) present.set(c);

  std::vector<fragment> next;
  for (const entry& e : entries_) {
    if (e.control && !parse_special) continue;
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
      for (size_t hit; (hit = raw.find(e.text, start)) != std::string_view::npos; start = hit + e.text.size()) {
        found = true;
        if (hit > start) next.push_back({-1, f.offset + start, hit - start});
        next.push_back({e.id, 0, 0});
      }
      if (start < raw.size()) next.push_back({-1, f.offset + start, raw.size() - start});
    }
    if (found) out.swap(next);
  }
}

}  // namespace dianoia::detail
