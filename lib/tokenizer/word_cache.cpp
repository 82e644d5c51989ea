#include "tokenizer/word_cache.hpp"

#include <algorithm>
#include <cstring>

namespace dianoia::detail {

namespace {
constexpr size_t k_slots = word_cache::k_capacity * 2;  // load factor <= 1/2 keeps probes short
}

uint64_t word_cache::hash_of(std::string_view word) {
  // FNV-1a with a final avalanche: words are short, and the low bits pick the slot.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : word) h = (h ^ c) * 0x100000001b3ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

bool word_cache::lookup(std::string_view word, uint64_t hash, std::vector<int32_t>& out) const {
  if (slots_.empty()) return false;
  for (size_t i = hash & (k_slots - 1);; i = (i + 1) & (k_slots - 1)) {
    const slot& s = slots_[i];
    if (s.gen != gen_) return false;
    if (s.hash == hash && s.key_len == word.size() && std::memcmp(keys_.data() + s.key_off, word.data(), word.size()) == 0) {
      out.insert(out.end(), ids_.begin() + s.ids_off, ids_.begin() + s.ids_off + s.n_ids);
      return true;
    }
  }
}

void word_cache::insert(std::string_view word, uint64_t hash, const int32_t* ids, size_t n) {
  if (word.size() > k_max_key || n > k_max_ids) return;
  if (slots_.empty()) {
    slots_.resize(k_slots);
    keys_.reserve(k_capacity * 8);
    ids_.reserve(k_capacity * 2);
  }
  if (used_ >= k_capacity) clear();
  size_t i = hash & (k_slots - 1);
  while (slots_[i].gen == gen_) i = (i + 1) & (k_slots - 1);
  slot& s = slots_[i];
  s.hash = hash;
  s.gen = gen_;
  s.key_off = static_cast<uint32_t>(keys_.size());
  s.key_len = static_cast<uint8_t>(word.size());
  s.ids_off = static_cast<uint32_t>(ids_.size());
  s.n_ids = static_cast<uint8_t>(n);
  keys_.append(word);
  ids_.insert(ids_.end(), ids, ids + n);
  ++used_;
}

void word_cache::clear() {
  if (++gen_ == 0) {  // wrapped: stale slots could look current again
    std::fill(slots_.begin(), slots_.end(), slot{});
    gen_ = 1;
  }
  keys_.clear();
  ids_.clear();
  used_ = 0;
}

word_cache& word_cache::for_thread(uint64_t owner) {
  thread_local word_cache cache;
  thread_local uint64_t cache_owner = 0;
  if (cache_owner != owner) {
    cache.clear();
    cache_owner = owner;
  }
  return cache;
}

}  // namespace dianoia::detail
