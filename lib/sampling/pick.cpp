#include "sampling/pick.hpp"

namespace dianoia::detail {

void greedy_stage::apply(candidate_array& c, stage_context&) { c.selected = static_cast<int64_t>(best_index(c)); }

void random_pick_stage::apply(candidate_array& c, stage_context& ctx) {
  softmax(c);
  const double u = ctx.gen.uniform();
  c.selected = static_cast<int64_t>(pick_by_cdf(c.view(), u));
}

}  // namespace dianoia::detail
