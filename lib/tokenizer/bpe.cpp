#include "tokenizer/bpe.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "tokenizer/byte_level.hpp"

namespace dianoia::detail {

namespace {

// std heap is a max-heap: "less" means lower priority, i.e. a higher rank, then a later position.
bool lower_priority(const bpe_model::scratch::candidate& a, const bpe_model::scratch::candidate& b) {
  return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
}

}  // namespace

bpe_model::bpe_model(const vocab_data& v, const token_index& index, bool ignore_merges)
    : index_(index), ignore_merges_(ignore_merges) {
  std::string ch;
  for (unsigned b = 0; b < 256; ++b) {
    ch.clear();
    byte_level_encode(std::string_view(reinterpret_cast<const char*>(&b), 1), ch);
    byte_token_[b] = index.find(ch);
  }
  // Pairs are keyed by token id, so both sides and the result must be tokens (HF rejects such files too).
  // The first (lowest-ranked) occurrence of a repeated pair wins.
  if (v.merges.size() > 0x7FFFFFFF) fail(errc::format, "tokenizer: {} merges", v.merges.size());
  size_t slots = 16;
  while (slots < v.merges.size() + v.merges.size() / 2) slots *= 2;  // load factor <= 2/3
  merges_.assign(slots, merge_slot{k_empty, 0, 0});
  mask_ = slots - 1;
  std::string joined;
  for (size_t r = 0; r < v.merges.size(); ++r) {
    const auto& [a, b] = v.merges[r];
    const int32_t ia = index.find(a), ib = index.find(b);
    if (ia < 0 || ib < 0)
      fail(errc::format, "tokenizer: merge {} ('{} {}') names a token that is not in the vocabulary", r, a, b);
    joined.assign(a).append(b);
    const int32_t im = index.find(joined);
    if (im < 0)
      fail(errc::format, "tokenizer: merge {} ('{} {}') yields '{}', which is not in the vocabulary", r, a, b, joined);
    const uint64_t k = key(ia, ib);
    size_t i = slot_of(k, mask_);
    while (merges_[i].key != k_empty && merges_[i].key != k) i = (i + 1) & mask_;
    if (merges_[i].key == k_empty) merges_[i] = {k, static_cast<int32_t>(r), im};
  }
  byte_pairs_.resize(256 * 256);
  for (unsigned a = 0; a < 256; ++a)
    for (unsigned b = 0; b < 256; ++b)
      if (byte_token_[a] >= 0 && byte_token_[b] >= 0)
        if (const merge_slot* m = find_merge(byte_token_[a], byte_token_[b])) byte_pairs_[a * 256 + b] = {m->rank, m->merged};
}

const bpe_model::merge_slot* bpe_model::find_merge(int32_t a, int32_t b) const {
  const uint64_t k = key(a, b);
  for (size_t i = slot_of(k, mask_);; i = (i + 1) & mask_) {
    const merge_slot& m = merges_[i];
    if (m.key == k) return &m;
    if (m.key == k_empty) return nullptr;
  }
}

void bpe_model::push_pair(scratch& s, int32_t left) const {
  if (left < 0) return;
  const auto& l = s.syms[left];
  if (l.next < 0 || l.id < 0) return;
  const auto& r = s.syms[l.next];
  if (r.id < 0) return;
  const merge_slot* m = find_merge(l.id, r.id);
  if (m) push_candidate(s, m->rank, left, l.next, m->merged, l.n + r.n);
}

void bpe_model::push_candidate(scratch& s, int32_t rank, int32_t left, int32_t right, int32_t merged,
                               uint32_t n) const {
  s.heap.push_back({rank, left, right, merged, n});
  std::push_heap(s.heap.begin(), s.heap.end(), lower_priority);
}

void bpe_model::encode_word(std::string_view word, std::vector<int32_t>& out, scratch& s) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    s.buf.clear();
    byte_level_encode(word, s.buf);
    if (const int32_t id = index_.find(s.buf); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  if (word.size() == 1) {
    if (const int32_t id = byte_token_[static_cast<uint8_t>(word[0])]; id >= 0) out.push_back(id);
    return;
  }
  const auto n = static_cast<int32_t>(word.size());
  s.syms.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i)
    s.syms[i] = {byte_token_[static_cast<uint8_t>(word[i])], 1, i - 1, i + 1 < n ? i + 1 : -1};
  s.heap.clear();
  for (int32_t i = 0; i + 1 < n; ++i) {
    const byte_merge& m = byte_pairs_[static_cast<uint8_t>(word[i]) * 256u + static_cast<uint8_t>(word[i + 1])];
    if (m.rank >= 0) push_candidate(s, m.rank, i, i + 1, m.merged, 2);
  }

  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), lower_priority);
    const auto c = s.heap.back();
    s.heap.pop_back();
    auto& l = s.syms[c.left];
    auto& r = s.syms[c.right];
    // Only the left symbol can absorb the right one, so equal sizes mean neither changed since queued.
    if (l.n == 0 || r.n == 0 || l.n + r.n != c.n) continue;
    l.id = c.merged;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) s.syms[r.next].prev = c.left;
    push_pair(s, l.prev);
    push_pair(s, c.left);
  }
  // A byte the vocabulary cannot spell is dropped, as llama.cpp does (well-formed vocabularies have all 256).
  for (int32_t i = 0; i >= 0; i = s.syms[i].next)
    if (s.syms[i].id >= 0) out.push_back(s.syms[i].id);
}

}  // namespace dianoia::detail
