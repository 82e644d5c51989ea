// The candidate list every sampler stage works on, and the operations several stages share.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace dianoia::detail {

struct token_candidate {
  int32_t id;
  float logit;
  float p;  // only meaningful after softmax(); stages that change logits leave it stale
};

// A view over a buffer owned by the chain. Stages may reorder the first `size` entries, shrink `size`,
// rewrite logits and p, and (pick stages) set `selected`; they never grow the array.
struct candidate_array {
  token_candidate* data = nullptr;
  size_t size = 0;
  // True when logits are non-increasing along data. Stages that sort use candidate_before (ties by
  // ascending id): a total order, since ids are unique and NaN never gets in, so every sort and cut is
  // reproducible whatever the std::sort implementation.
  bool sorted = false;
  int64_t selected = -1;  // index into data, set by the pick stage

  std::span<token_candidate> view() const { return {data, size}; }
};

constexpr bool candidate_before(const token_candidate& a, const token_candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Puts the `want` best candidates in candidate order at the front, given that the first `have` already
// are (and precede everything after them). Cost O(n + want log want) instead of a full sort.
void sort_prefix(candidate_array& c, size_t have, size_t want);
inline void sort_candidates(candidate_array& c) {
  if (!c.sorted) sort_prefix(c, 0, c.size);
  c.sorted = true;
}

float max_logit(const candidate_array& c);

// Index of the best candidate (lowest id among equal logits); c must be non-empty.
size_t best_index(const candidate_array& c);

// p = softmax(logit) over the current candidates, accumulated in double. Candidates whose logit is
// -inf get p = 0. Requires at least one finite logit (the chain guarantees it).
void softmax(candidate_array& c);

// Inverse-CDF pick: walks the candidates in their current order and returns the first index whose
// cumulative p exceeds u * sum(p), u in [0, 1). A separate function so tests can check it against a
// reference without the RNG. Entries with p = 0 are never returned.
size_t pick_by_cdf(std::span<const token_candidate> c, double u);

}  // namespace dianoia::detail
