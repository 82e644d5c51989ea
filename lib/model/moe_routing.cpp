#include "model/moe_routing.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dianoia::detail {
namespace {

// Indices of the k largest values (ties: the lower index first), best first.
void top_k(const float* v, uint32_t n, uint32_t k, uint32_t* out, std::vector<uint32_t>& idx) {
  idx.resize(n);
  std::iota(idx.begin(), idx.end(), 0u);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [v](uint32_t a, uint32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  std::copy_n(idx.begin(), k, out);
}

}  // namespace

void route_token(const moe_params& p, const float* logits, std::span<const float> bias, uint32_t* ids, float* weights,
                 std::vector<float>& scratch) {
  const uint32_t n = p.n_expert, k = p.n_expert_used;
  scratch.resize(2 * size_t{n} + p.n_expert_groups + 1);
  float* scores = scratch.data();
  float* choice = scores + n;
  if (p.sigmoid_gating) {
    for (uint32_t e = 0; e < n; ++e) scores[e] = 1.0f / (1.0f + std::exp(-logits[e]));
  } else {
    const float mx = *std::max_element(logits, logits + n);
    double sum = 0;
    for (uint32_t e = 0; e < n; ++e) sum += scores[e] = std::exp(logits[e] - mx);
    for (uint32_t e = 0; e < n; ++e) scores[e] = static_cast<float>(scores[e] / sum);
  }
  for (uint32_t e = 0; e < n; ++e) choice[e] = scores[e] + (bias.empty() ? 0.0f : bias[e]);

  thread_local std::vector<uint32_t> idx, groups;
  const uint32_t G = p.n_expert_groups;
  if (G > 1 && p.group_scoring != expert_group_scoring::none && p.n_group_used < G) {
    const uint32_t per = n / G;
    float* gscore = choice + n;
    for (uint32_t g = 0; g < G; ++g) {
      const float* c = choice + g * per;
      if (p.group_scoring == expert_group_scoring::best) {
        gscore[g] = *std::max_element(c, c + per);
      } else {  // the sum of its two best
        float a = -INFINITY, b = -INFINITY;
        for (uint32_t j = 0; j < per; ++j) {
          if (c[j] > a) b = a, a = c[j];
          else if (c[j] > b) b = c[j];
        }
        gscore[g] = per > 1 ? a + b : a;
      }
    }
    groups.resize(p.n_group_used);
    top_k(gscore, G, p.n_group_used, groups.data(), idx);
    std::vector<uint8_t> kept(G, 0);
    for (uint32_t g : groups) kept[g] = 1;
    for (uint32_t e = 0; e < n; ++e)
      if (!kept[e / per]) choice[e] = -INFINITY;
  }
  top_k(choice, n, k, ids, idx);
  double sum = 0;
  for (uint32_t i = 0; i < k; ++i) sum += weights[i] = scores[ids[i]];
  const bool normalize = p.norm_topk_prob && (p.scale_normalized || k > 1);
  if (normalize) {
    const float denom = static_cast<float>(sum) + 1e-20f;
    for (uint32_t i = 0; i < k; ++i) weights[i] /= denom;
  }
  if (!normalize || p.scale_normalized)
    for (uint32_t i = 0; i < k; ++i) weights[i] *= p.routed_scaling;
}

}  // namespace dianoia::detail
