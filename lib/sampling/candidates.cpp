#include "sampling/candidates.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace dianoia::detail {

void sort_prefix(candidate_array& c, size_t have, size_t want) {
  want = std::min(want, c.size);
  if (have >= want) return;
  token_candidate* first = c.data + have;
  token_candidate* mid = c.data + want;
  token_candidate* last = c.data + c.size;
  // nth_element + sort on the prefix: neither allocates (std::stable_sort and partial_sort's heap are
  // avoided for the former reason; this is also faster when want << size).
  if (mid < last) std::nth_element(first, mid - 1, last, candidate_before);
  std::sort(first, mid, candidate_before);
}

float max_logit(const candidate_array& c) {
  if (c.sorted) return c.data[0].logit;
  float m = c.data[0].logit;
  for (size_t i = 1; i < c.size; ++i) m = std::max(m, c.data[i].logit);
  return m;
}

size_t best_index(const candidate_array& c) {
  size_t best = 0;
  for (size_t i = 1; i < c.size; ++i) {
    // Sorted: only the run of logits equal to the first can hold the answer (its order of ids is not
    // guaranteed once a stage has rewritten logits).
    if (c.sorted && c.data[i].logit != c.data[0].logit) break;
    if (candidate_before(c.data[i], c.data[best])) best = i;
  }
  return best;
}

void softmax(candidate_array& c) {
  const double m = max_logit(c);
  double sum = 0;
  for (size_t i = 0; i < c.size; ++i) {
    const double e = std::exp(static_cast<double>(c.data[i].logit) - m);
    c.data[i].p = static_cast<float>(e);
    sum += e;
  }
  for (size_t i = 0; i < c.size; ++i) c.data[i].p = static_cast<float>(c.data[i].p / sum);
}

size_t pick_by_cdf(std::span<const token_candidate> c, double u) {
  double total = 0;
  for (const auto& t : c) total += t.p;
  if (!(total > 0) || !std::isfinite(total)) fail(errc::internal, "sampler: candidate probabilities sum to {}", total);
  const double target = u * total;
  double cum = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    cum += c[i].p;
    if (target < cum) return i;
  }
  // Only reachable through rounding with u just below 1: the last candidate that carries mass.
  for (size_t i = c.size(); i-- > 0;)
    if (c[i].p > 0) return i;
  return 0;  // unreachable: total > 0
}

}  // namespace dianoia::detail
