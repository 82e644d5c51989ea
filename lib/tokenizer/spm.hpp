// SentencePiece-style BPE as llama.cpp implements it for "llama" vocabularies: the text starts as UTF-8
// characters; the adjacent pair whose concatenation is the highest-scoring vocabulary entry is merged until
// no pair forms a token (ties: leftmost first). A character left without a token is emitted as <0xHH>
// byte tokens.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/token_index.hpp"
#include "tokenizer/vocab.hpp"

namespace dianoia::detail {

class spm_model {
 public:
  struct scratch {
    struct symbol {
      uint32_t start, n;  // n == 0 once merged into its left neighbour
      int32_t prev, next;
    };
    struct candidate {
      float score;
      int32_t left, right;
      uint32_t n;
    };
    std::vector<symbol> syms;
    std::vector<candidate> heap;
  };

  spm_model(const vocab_data& v, const token_index& index);

  // `text` has already had spaces replaced by U+2581 (and the space prefix added, if any).
  void encode(std::string_view text, std::vector<int32_t>& out, scratch& s) const;

 private:
  void push_pair(std::string_view text, scratch& s, int32_t left) const;

  const vocab_data& v_;
  const token_index& index_;
  std::array<int32_t, 256> byte_token_{};
};

}  // namespace dianoia::detail
