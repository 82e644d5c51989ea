// Mirostat 2.0 (Basu et al. 2021), as llama.cpp's mirostat-v2: a pick stage that keeps the surprise of
// the chosen tokens near a target by truncating to the candidates whose surprise -log2 p is at most mu,
// then adjusting mu after each choice.
#pragma once
#include "sampling/stage.hpp"

namespace dianoia::detail {

// apply(): softmax over the incoming candidates; keep those with -log2 p <= mu (the best one if none),
// order preserved; softmax over them; one uniform draw, inverse-CDF pick (as random_pick_stage); then
// mu <- mu - eta * (-log2 p_chosen - tau), p_chosen renormalised. mu starts at 2 tau; reset() restores
// it. State is double (llama.cpp: float). tau >= 0, eta >= 0, both finite.
class mirostat_v2_stage final : public sampler_stage {
 public:
  mirostat_v2_stage(float tau, float eta);
  std::string_view name() const override { return "mirostat_v2"; }
  bool picks() const override { return true; }
  void apply(candidate_array& c, stage_context& ctx) override;
  void narrow(candidate_array& c, stage_context& ctx) override;
  void reset() override { mu_ = 2 * tau_; }
  double mu() const { return mu_; }

 private:
  double tau_, eta_, mu_;
};

}  // namespace dianoia::detail
