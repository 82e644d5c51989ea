#include "tokenizer/spm.hpp"

#include <algorithm>

#include "core/utf8.hpp"
#include "fmt/format.h"

namespace dianoia::detail {

namespace {

bool lower_priority(const spm_model::scratch::candidate& a, const spm_model::scratch::candidate& b) {
  return a.score < b.score || (a.score == b.score && a.left > b.left);
}

}  // namespace

spm_model::spm_model(const vocab_data& v, const token_index& index) : v_(v), index_(index) {
  for (unsigned b = 0; b < 256; ++b) {
    int32_t id = index.find(fmt::format("<0x{:02X}>", b));
    // Vocabularies without byte tokens: the byte itself, else <unk>, else the byte is dropped.
    if (id < 0) id = index.find(std::string(1, static_cast<char>(b)));
    if (id < 0) id = v.unk;
    byte_token_[b] = id;
  }
}

void spm_model::push_pair(std::string_view text, scratch& s, int32_t left) const {
  if (left < 0) return;
  const auto& l = s.syms[left];
  if (l.next < 0) return;
  const auto& r = s.syms[l.next];
  const int32_t id = index_.find(text.substr(l.start, l.n + r.n));
  if (id < 0) return;
  const float score = v_.scores.empty() ? 0.0f : v_.scores[id];
  s.heap.push_back({score, left, l.next, l.n + r.n});
  std::push_heap(s.heap.begin(), s.heap.end(), lower_priority);
}

void spm_model::encode(std::string_view text, std::vector<int32_t>& out, scratch& s) const {
  if (text.empty()) return;
  s.syms.clear();
  for (size_t off = 0; off < text.size();) {
    // An invalid byte is a character of its own (it becomes a byte token). llama.cpp trusts the lead byte's
    // length instead, which lets a truncated sequence swallow the next character (often a U+2581 space).
    const size_t start = off;
    (void)utf8_decode(text, off);
    const auto i = static_cast<int32_t>(s.syms.size());
    s.syms.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(off - start), i - 1, -1});
    if (i > 0) s.syms[i - 1].next = i;
  }
  s.heap.clear();
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(s.syms.size()); ++i) push_pair(text, s, i);

  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), lower_priority);
    const auto c = s.heap.back();
    s.heap.pop_back();
    auto& l = s.syms[c.left];
    auto& r = s.syms[c.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != c.n) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) s.syms[r.next].prev = c.left;
    push_pair(text, s, l.prev);
    push_pair(text, s, c.left);
  }
  for (int32_t i = 0; i >= 0; i = s.syms[i].next) {
    const auto& sym = s.syms[i];
    const std::string_view piece = text.substr(sym.start, sym.n);
    if (const int32_t id = index_.find(piece); id >= 0) {
      out.push_back(id);
      continue;
    }
    for (unsigned char b : piece)
      if (byte_token_[b] >= 0) out.push_back(byte_token_[b]);
  }
}

}  // namespace dianoia::detail
