// DeepSeek MoE routing: which routed experts a token goes to, and with what weights.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "model/model.hpp"

namespace dianoia::detail {

// From one token's router logits [n_expert] picks n_expert_used experts:
//   scores = sigmoid(logits) (V3) or softmax(logits) (V2);
//   choice = scores + bias (V3's e_score_correction_bias; empty: none), used for selection only;
//   with groups (n_expert_groups > 1, group_scoring != none) only the n_group_used best groups compete;
//   the n_expert_used best choices are taken; their weights are the *scores*, normalised to sum 1 when
//   norm_topk_prob, then times routed_scaling (V2 without scale_normalized: only when not normalised).
// ids/weights receive n_expert_used entries. scratch is resized as needed.
void route_token(const moe_params& p, const float* logits, std::span<const float> bias, uint32_t* ids, float* weights,
                 std::vector<float>& scratch);

}  // namespace dianoia::detail
