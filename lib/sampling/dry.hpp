// DRY ("Don't Repeat Yourself", p-e-w, text-generation-webui #5677; llama.cpp's port of koboldcpp's
// implementation): penalises the tokens that would extend a sequence already repeated in the recent
// history, by multiplier * base^(length - allowed_length).
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/stage.hpp"

namespace dianoia::detail {

// What DRY needs from the vocabulary to turn breaker strings into token sequences, without making
// lib/sampling depend on the tokenizer. pieces[id] is the text of token id as llama.cpp's
// detokenize({id}, special = true) gives it (the token's bytes; control tokens as their text);
// tokenize(text) is the tokenizer without BOS/EOS and without parsing special tokens.
struct token_texts {
  std::span<const std::string> pieces;
  std::function<std::vector<int32_t>(std::string_view)> tokenize;
};

struct dry_params {
  float multiplier = 0.0f;     // > 0
  float base = 1.75f;          // >= 1
  int32_t allowed_length = 2;  // >= 0: repeats this long are free
  int32_t last_n = 0;          // >= 1: history window (the sampler maps -1 to its context size)
};

// Sequence breakers, as llama.cpp's get_overlapping_token_sequences: for each breaker string (cut to
// 40 bytes), every token whose text contains it is a single-token breaker; every token whose text ends
// with a proper prefix of it (starting anywhere in the token) heads a breaker whose tail is the
// tokenization of the rest of the string (at most 20 tokens). Returned as (head, tail) pairs, sorted.
std::vector<std::pair<int32_t, std::vector<int32_t>>> dry_breaker_sequences(std::span<const std::string> breakers,
                                                                           const token_texts& vocab);

// apply(), with h the accepted history (h.back() the latest), N = min(|h|, last_n):
//  1. rep_limit: scanning from the latest token back, the first token that heads a breaker whose tail
//     is matched by the tokens after it, at distance i from the end with tail length t, gives
//     rep_limit = i - t; none: N. No penalty if N <= allowed_length or rep_limit < allowed_length.
//  2. For every earlier position j, the length of the longest common suffix of h[..j] and h (capped at
//     rep_limit); where it is >= allowed_length, the token h[j+1] would extend that repeat.
//  3. Each such token (unless it is a single-token breaker) gets
//     logit -= multiplier * base^min(len - allowed_length, max_exp), len its longest repeat,
//     max_exp = int(88.7228391f / logf(base)) when base > 1.000001 (keeps the power finite).
// Order is preserved; unsorted after. Linear in N (Z-algorithm); no allocation after the first apply().
class dry_stage final : public sampler_stage {
 public:
  dry_stage(const dry_params& p, std::vector<std::pair<int32_t, std::vector<int32_t>>> breakers);
  std::string_view name() const override { return "dry"; }
  void apply(candidate_array& c, stage_context& ctx) override;
  void accept(int32_t token) override;
  void reset() override { first_ = size_ = 0; }

 private:
  int32_t at_back(size_t i) const { return window_[(first_ + size_ - 1 - i) % window_.size()]; }  // i-th latest
  int32_t breaker_limit(size_t n) const;

  dry_params p_;
  int max_exponent_ = 0;
  std::vector<std::pair<int32_t, std::vector<int32_t>>> breakers_;  // sorted by head
  std::vector<int32_t> window_;
  size_t first_ = 0, size_ = 0;
  std::vector<int32_t> z_;           // scratch: repeat length per position, size last_n
  std::vector<int32_t> max_repeat_;  // scratch: per id, longest repeat the id would extend (0 = none)
  std::vector<int32_t> touched_;     // ids set in max_repeat_, to clear them after
};

}  // namespace dianoia::detail
