#include "sampling/sampler.hpp"

#include <array>
#include <cmath>

#include "core/error.hpp"
#include "sampling/filters.hpp"
#include "sampling/mirostat.hpp"
#include "sampling/penalties.hpp"
#include "sampling/pick.hpp"

namespace dianoia::detail {

namespace {

constexpr std::array<stage_kind, 9> default_order{
    stage_kind::penalties, stage_kind::dry,   stage_kind::top_n_sigma, stage_kind::top_k,      stage_kind::typical_p,
    stage_kind::top_p,     stage_kind::min_p, stage_kind::xtc,         stage_kind::temperature,
};

struct kind_name {
  std::string_view name;
  stage_kind kind;
};
constexpr std::array<kind_name, 13> kind_names{{
    {"penalties", stage_kind::penalties},
    {"dry", stage_kind::dry},
    {"top_n_sigma", stage_kind::top_n_sigma},
    {"top_k", stage_kind::top_k},
    {"typ_p", stage_kind::typical_p},
    {"typical_p", stage_kind::typical_p},
    {"typical", stage_kind::typical_p},
    {"top_p", stage_kind::top_p},
    {"min_p", stage_kind::min_p},
    {"xtc", stage_kind::xtc},
    {"temperature", stage_kind::temperature},
    {"temp", stage_kind::temperature},
    {"host", stage_kind::host},
}};

template <class T>
void require(bool ok, std::string_view field, T value, std::string_view rule) {
  if (!ok) fail(errc::invalid_argument, "sampler: {} must be {} (got {})", field, rule, value);
}

void validate(const sampler_params& p) {
  require(std::isfinite(p.temperature), "temperature", p.temperature, "finite");
  require(!std::isnan(p.top_p) && p.top_p >= 0.0f, "top_p", p.top_p, ">= 0");
  require(!std::isnan(p.min_p) && p.min_p <= 1.0f, "min_p", p.min_p, "<= 1");
  require(p.penalty_last_n >= -1, "penalty_last_n", p.penalty_last_n, ">= -1");
  require(std::isfinite(p.repeat_penalty) && p.repeat_penalty > 0.0f, "repeat_penalty", p.repeat_penalty, "finite and > 0");
  require(std::isfinite(p.frequency_penalty), "frequency_penalty", p.frequency_penalty, "finite");
  require(std::isfinite(p.presence_penalty), "presence_penalty", p.presence_penalty, "finite");
  require(std::isfinite(p.dry_multiplier) && p.dry_multiplier >= 0.0f, "dry_multiplier", p.dry_multiplier, "finite and >= 0");
  require(std::isfinite(p.dry_base) && p.dry_base >= 1.0f, "dry_base", p.dry_base, "finite and >= 1");
  require(p.dry_allowed_length >= 0, "dry_allowed_length", p.dry_allowed_length, ">= 0");
  require(p.dry_penalty_last_n >= -1, "dry_penalty_last_n", p.dry_penalty_last_n, ">= -1");
  require(std::isfinite(p.dynatemp_range) && p.dynatemp_range >= 0.0f, "dynatemp_range", p.dynatemp_range, "finite and >= 0");
  require(std::isfinite(p.dynatemp_exponent) && p.dynatemp_exponent >= 0.0f, "dynatemp_exponent", p.dynatemp_exponent,
          "finite and >= 0");
  require(!std::isnan(p.typical_p) && p.typical_p >= 0.0f, "typical_p", p.typical_p, ">= 0");
  require(!std::isnan(p.xtc_probability) && p.xtc_probability <= 1.0f, "xtc_probability", p.xtc_probability, "<= 1");
  require(!std::isnan(p.xtc_threshold) && p.xtc_threshold >= 0.0f, "xtc_threshold", p.xtc_threshold, ">= 0");
  require(!std::isnan(p.top_n_sigma) && p.top_n_sigma != INFINITY, "top_n_sigma", p.top_n_sigma, "finite");
  require(p.mirostat == 0 || p.mirostat == 2, "mirostat", p.mirostat, "0 (off) or 2 (mirostat 2.0; version 1 is not supported)");
  require(std::isfinite(p.mirostat_tau) && p.mirostat_tau >= 0.0f, "mirostat_tau", p.mirostat_tau, "finite and >= 0");
  require(std::isfinite(p.mirostat_eta) && p.mirostat_eta >= 0.0f, "mirostat_eta", p.mirostat_eta, "finite and >= 0");
  require(p.context_size >= 1, "context_size", p.context_size, ">= 1");
  size_t pickers = 0;
  for (const auto& h : p.host_stages) {
    if (!h.fns.apply) fail(errc::invalid_argument, "sampler: host stage '{}' has no apply function", h.name);
    pickers += h.picks;
  }
  require(pickers <= 1, "host_stages", pickers, "at most one picking stage");
}

bool is_plain_truncation(stage_kind k) {
  return k == stage_kind::top_k || k == stage_kind::top_p || k == stage_kind::min_p || k == stage_kind::top_n_sigma;
}
// Enabled stages whose effect depends on which candidates reach them (so a truncation before them matters
// even when the pick is the argmax).
bool depends_on_set(stage_kind k, const sampler_params& p) {
  switch (k) {
    case stage_kind::typical_p: return p.typical_p < 1.0f;
    case stage_kind::xtc: return p.xtc_probability > 0.0f && p.xtc_threshold <= 0.5f;
    case stage_kind::host: return true;
    default: return false;
  }
}

}  // namespace

std::span<const stage_kind> default_stage_order() { return default_order; }

std::string_view stage_kind_name(stage_kind k) {
  for (const auto& kn : kind_names)
    if (kn.kind == k) return kn.name;
  return "?";
}

std::vector<stage_kind> parse_stage_order(std::string_view s) {
  std::vector<stage_kind> out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t j = s.find_first_of("; ,\t\n", i);
    const std::string_view word = s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (!word.empty()) {
      bool found = false;
      for (const auto& kn : kind_names)
        if (kn.name == word) out.push_back(kn.kind), found = true;
      if (!found) fail(errc::invalid_argument, "sampler: unknown stage '{}' in the sampler order", word);
    }
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

sampler::sampler(const sampler_params& p, const token_texts* texts) : params_(p), rng_(p.seed) {
  validate(p);
  const bool greedy = p.temperature <= 0.0f;
  const bool mirostat = !greedy && p.mirostat == 2;
  const std::span<const stage_kind> order = p.order.empty() ? default_stage_order() : std::span<const stage_kind>(p.order);
  auto window = [&](int32_t last_n) { return last_n == -1 ? p.context_size : last_n; };

  if (!p.logit_bias.empty()) chain_.add(std::make_unique<logit_bias_stage>(p.logit_bias));

  // Greedy: a truncation that keeps the argmax matters only if a set-dependent stage comes after it.
  size_t last_set_dependent = 0;  // one past the index
  for (size_t i = 0; i < order.size(); ++i)
    if (depends_on_set(order[i], p)) last_set_dependent = i + 1;

  const host_stage_def* picker = nullptr;
  std::vector<const host_stage_def*> hosts;
  for (const auto& h : p.host_stages) {
    if (h.picks)
      picker = &h;
    else
      hosts.push_back(&h);
  }
  size_t next_host = 0;

  for (size_t i = 0; i < order.size(); ++i) {
    const stage_kind k = order[i];
    if (greedy && is_plain_truncation(k) && i >= last_set_dependent) continue;
    if (mirostat && k != stage_kind::penalties && k != stage_kind::dry && k != stage_kind::host) continue;
    switch (k) {
      case stage_kind::penalties:
        if (p.penalty_last_n != 0 && (p.repeat_penalty != 1.0f || p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f))
          chain_.add(std::make_unique<penalties_stage>(window(p.penalty_last_n), p.repeat_penalty, p.frequency_penalty,
                                                       p.presence_penalty));
        break;
      case stage_kind::dry:
        if (p.dry_multiplier > 0.0f && p.dry_penalty_last_n != 0) {
          std::vector<std::pair<int32_t, std::vector<int32_t>>> breakers;
          bool any = false;
          for (const auto& b : p.dry_sequence_breakers) any |= !b.empty();
          if (any) {
            if (!texts)
              fail(errc::invalid_argument, "sampler: dry_sequence_breakers need the vocabulary's token texts (token_texts)");
            breakers = dry_breaker_sequences(p.dry_sequence_breakers, *texts);
          }
          chain_.add(std::make_unique<dry_stage>(
              dry_params{p.dry_multiplier, p.dry_base, p.dry_allowed_length, window(p.dry_penalty_last_n)}, std::move(breakers)));
        }
        break;
      case stage_kind::top_n_sigma:
        if (p.top_n_sigma > 0.0f) chain_.add(std::make_unique<top_n_sigma_stage>(p.top_n_sigma));
        break;
      case stage_kind::top_k:
        if (p.top_k > 0) chain_.add(std::make_unique<top_k_stage>(p.top_k));
        break;
      case stage_kind::typical_p:
        if (p.typical_p < 1.0f) chain_.add(std::make_unique<typical_stage>(p.typical_p));
        break;
      case stage_kind::top_p:
        if (p.top_p < 1.0f) chain_.add(std::make_unique<top_p_stage>(p.top_p));
        break;
      case stage_kind::min_p:
        if (p.min_p > 0.0f) chain_.add(std::make_unique<min_p_stage>(p.min_p));
        break;
      case stage_kind::xtc:
        if (p.xtc_probability > 0.0f && p.xtc_threshold <= 0.5f)
          chain_.add(std::make_unique<xtc_stage>(p.xtc_probability, p.xtc_threshold));
        break;
      case stage_kind::temperature:
        if (greedy) break;
        if (p.dynatemp_range > 0.0f)
          chain_.add(std::make_unique<dynamic_temperature_stage>(p.temperature, p.dynatemp_range, p.dynatemp_exponent));
        else
          chain_.add(std::make_unique<temperature_stage>(p.temperature));
        break;
      case stage_kind::host:
        if (next_host >= hosts.size())
          fail(errc::invalid_argument, "sampler: the order names more host stages than host_stages has");
        chain_.add(std::make_unique<host_stage>(hosts[next_host]->name, hosts[next_host]->fns, false));
        ++next_host;
        break;
    }
  }
  for (; next_host < hosts.size(); ++next_host)
    chain_.add(std::make_unique<host_stage>(hosts[next_host]->name, hosts[next_host]->fns, false));

  if (picker) {
    chain_.add(std::make_unique<host_stage>(picker->name, picker->fns, true));
  } else if (greedy) {
    chain_.add(std::make_unique<greedy_stage>());
  } else if (mirostat) {
    chain_.add(std::make_unique<temperature_stage>(p.temperature));
    chain_.add(std::make_unique<mirostat_v2_stage>(p.mirostat_tau, p.mirostat_eta));
  } else {
    chain_.add(std::make_unique<random_pick_stage>());
  }
}

int32_t sampler::sample(std::span<const float> logits) {
  stage_context ctx{rng_};
  return chain_.sample(logits, ctx);
}

void sampler::accept_prompt(std::span<const int32_t> tokens) {
  if (!params_.penalize_prompt) return;
  for (int32_t t : tokens) chain_.accept(t);
}

std::span<const token_candidate> sampler::distribution(std::span<const float> logits) {
  rng scratch = rng_;
  stage_context ctx{scratch};
  candidate_array& c = chain_.load(logits);
  chain_.run(ctx, 0, chain_.size() - 1);  // every chain built here ends with its pick
  if (c.selected < 0) chain_.stage(chain_.size() - 1).narrow(c, ctx);
  softmax(c);
  return c.view();
}

}  // namespace dianoia::detail
