// Byte-level BPE (GPT-2 style): a word's bytes start as single-byte tokens and the adjacent pair with the
// lowest merge rank is merged until no ranked pair is left (ties: leftmost first), as HF and llama.cpp do.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/token_index.hpp"
#include "tokenizer/vocab.hpp"

namespace dianoia::detail {

class bpe_model {
 public:
  // Scratch reused across the words of one encode call.
  struct scratch {
    struct symbol {
      int32_t id;  // -1: a byte the vocabulary cannot spell
      uint32_t n;  // bytes covered; 0 once merged into its left neighbour
      int32_t prev, next;
    };
    struct candidate {
      int32_t rank, left, right, merged;
      uint32_t n;  // combined length when queued; a mismatch later means the pair went stale
    };
    std::vector<symbol> syms;
    std::vector<candidate> heap;
    std::string buf;
  };

  bpe_model(const vocab_data& v, const token_index& index, bool ignore_merges);

  // Appends the tokens of one pre-tokenized word, given as raw bytes.
  void encode_word(std::string_view word, std::vector<int32_t>& out, scratch& s) const;

 private:
  // Merge table: open addressing over one flat array (a node-based map spent most of encode's time in
  // cache misses). key == k_empty marks a free slot; no real key has both halves 0xFFFFFFFF.
  struct merge_slot {
    uint64_t key;
    int32_t rank, merged;
  };
  static constexpr uint64_t k_empty = ~uint64_t{0};
  static uint64_t key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  static size_t slot_of(uint64_t k, size_t mask) { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 20) & mask; }
  const merge_slot* find_merge(int32_t a, int32_t b) const;
  void push_pair(scratch& s, int32_t left) const;
  void push_candidate(scratch& s, int32_t rank, int32_t left, int32_t right, int32_t merged, uint32_t n) const;

  const token_index& index_;
  bool ignore_merges_;
  std::array<int32_t, 256> byte_token_{};
  std::vector<merge_slot> merges_;
  // Merges of two single-byte tokens, indexed by the byte pair: every word starts as bytes, so these are
  // the most frequent probes. rank -1: no merge.
  struct byte_merge {
    int32_t rank = -1, merged = -1;
  };
  std::vector<byte_merge> byte_pairs_;
  size_t mask_ = 0;
};

}  // namespace dianoia::detail
