// Pre-token -> ids memo for byte-level BPE: prose and code repeat the same words constantly, and a hit
// replaces the whole merge loop with one hash probe. Open addressing over flat arenas (key bytes, ids),
// so inserting allocates only when an arena grows; when the table is full it is cleared and refilled.
// Not thread-safe: the tokenizer keeps one per thread (see word_cache::for_thread).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dianoia::detail {

class word_cache {
 public:
  static constexpr size_t k_max_key = 48;    // longer words are rare and cheap to miss
  static constexpr size_t k_max_ids = 255;
  static constexpr size_t k_capacity = 16384;  // entries before the table is cleared

  // On a hit appends the word's ids to `out` and returns true.
  bool lookup(std::string_view word, uint64_t hash, std::vector<int32_t>& out) const;
  void insert(std::string_view word, uint64_t hash, const int32_t* ids, size_t n);
  void clear();
  static uint64_t hash_of(std::string_view word);

  // This thread's cache for the tokenizer with serial number `owner` (emptied when the thread moves on
  // to another tokenizer, so a cache never outlives the vocabulary it was filled from).
  static word_cache& for_thread(uint64_t owner);

 private:
  struct slot {
    uint64_t hash = 0;
    uint32_t key_off = 0, ids_off = 0;
    uint32_t gen = 0;  // the slot is empty unless gen == gen_, so clear() is one increment
    uint8_t key_len = 0, n_ids = 0;
  };
  std::vector<slot> slots_;
  std::string keys_;
  std::vector<int32_t> ids_;
  size_t used_ = 0;
  uint32_t gen_ = 1;
};

}  // namespace dianoia::detail
