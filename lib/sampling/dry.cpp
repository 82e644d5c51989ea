#include "sampling/dry.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace dianoia::detail {

namespace {
constexpr size_t max_breaker_bytes = 40;  // llama.cpp's limits, which keep step 1 linear
constexpr size_t max_tail_tokens = 20;

void add_unique(std::vector<std::pair<int32_t, std::vector<int32_t>>>& out, int32_t head, std::vector<int32_t> tail) {
  for (const auto& [h, t] : out)
    if (h == head && t == tail) return;
  out.emplace_back(head, std::move(tail));
}
}  // namespace

std::vector<std::pair<int32_t, std::vector<int32_t>>> dry_breaker_sequences(std::span<const std::string> breakers,
                                                                           const token_texts& vocab) {
  std::vector<std::pair<int32_t, std::vector<int32_t>>> out;
  for (std::string b : breakers) {
    if (b.empty()) continue;  // llama.cpp skips them too (with a warning)
    if (b.size() > max_breaker_bytes) b.resize(max_breaker_bytes);
    if (!vocab.tokenize) fail(errc::invalid_argument, "sampler: DRY sequence breakers need a tokenize function");
    for (size_t id = 0; id < vocab.pieces.size(); ++id) {
      const std::string& w = vocab.pieces[id];
      const auto head = static_cast<int32_t>(id);
      if (w.find(b) != std::string::npos) {
        add_unique(out, head, {});
        continue;
      }
      // The token ends with b[0..k) for some k < |b| starting at pos: it may begin the breaker, which the
      // following tokens complete.
      for (size_t pos = w.find(b[0]); pos != std::string::npos; pos = w.find(b[0], pos + 1)) {
        const size_t k = std::min(b.size(), w.size() - pos);
        if (w.compare(pos, k, b, 0, k) != 0) continue;
        std::vector<int32_t> tail = vocab.tokenize(std::string_view(b).substr(k));
        if (tail.size() > max_tail_tokens) tail.resize(max_tail_tokens);
        add_unique(out, head, std::move(tail));
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

dry_stage::dry_stage(const dry_params& p, std::vector<std::pair<int32_t, std::vector<int32_t>>> breakers)
    : p_(p), breakers_(std::move(breakers)) {
  if (!(p.multiplier > 0.0f) || !std::isfinite(p.multiplier))
    fail(errc::invalid_argument, "dry: multiplier must be finite and > 0 (got {})", p.multiplier);
  if (!(p.base >= 1.0f) || !std::isfinite(p.base))
    fail(errc::invalid_argument, "dry: base must be finite and >= 1 (got {})", p.base);
  if (p.allowed_length < 0) fail(errc::invalid_argument, "dry: allowed_length must be >= 0 (got {})", p.allowed_length);
  if (p.last_n < 1) fail(errc::invalid_argument, "dry: penalty_last_n must be >= 1 here (got {})", p.last_n);
  for (const auto& [h, t] : breakers_)
    if (h < 0) fail(errc::invalid_argument, "dry: negative breaker token id {}", h);
  // float arithmetic, as llama.cpp, so that the clamp lands on the same integer.
  if (p.base > 1.000001f) max_exponent_ = static_cast<int>(88.7228391f / std::log(p.base));
  window_.resize(static_cast<size_t>(p.last_n));
  z_.resize(static_cast<size_t>(p.last_n));
  touched_.reserve(static_cast<size_t>(p.last_n));
}

void dry_stage::accept(int32_t token) {
  if (token < 0) fail(errc::invalid_argument, "dry: negative token id {}", token);
  const size_t cap = window_.size();
  if (size_ == cap) {
    window_[first_] = token;
    first_ = (first_ + 1) % cap;
  } else {
    window_[(first_ + size_) % cap] = token;
    ++size_;
  }
}

int32_t dry_stage::breaker_limit(size_t n) const {
  for (size_t i = 0; i < n; ++i) {
    const int32_t tok = at_back(i);
    auto it = std::lower_bound(breakers_.begin(), breakers_.end(), tok, [](const auto& b, int32_t v) { return b.first < v; });
    long longest = -1;
    for (; it != breakers_.end() && it->first == tok; ++it) {
      const auto& tail = it->second;
      if (static_cast<long>(tail.size()) <= longest || tail.size() > i) continue;
      bool match = true;
      for (size_t off = 0; off < tail.size() && match; ++off) match = tail[off] == at_back(i - off - 1);
      if (match) longest = static_cast<long>(tail.size());
    }
    if (longest >= 0) return static_cast<int32_t>(static_cast<long>(i) - longest);
  }
  return static_cast<int32_t>(n);
}

void dry_stage::apply(candidate_array& c, stage_context& ctx) {
  if (max_repeat_.size() < ctx.n_vocab) max_repeat_.resize(ctx.n_vocab, 0);
  const size_t n = size_;  // the window already holds at most last_n
  const auto allowed = static_cast<size_t>(p_.allowed_length);
  if (n <= allowed) return;
  const int32_t rep_limit = breaker_limit(n);
  if (rep_limit < p_.allowed_length) return;

  // Z-algorithm over the history read backwards (r[i] = i-th latest): z[k] = length of the longest
  // common prefix of r and r[k..], i.e. how far the tokens before the position k back from the end
  // repeat the tokens at the end.
  size_t box_l = 0, box_r = 0;  // [box_l, box_r): rightmost segment known to match a prefix of r
  for (size_t k = 1; k < n; ++k) {
    size_t zk = 0;
    if (k < box_r) zk = std::min(box_r - k, static_cast<size_t>(z_[k - box_l]));
    while (k + zk < n && at_back(zk) == at_back(k + zk)) ++zk;
    if (k + zk > box_r) box_l = k, box_r = k + zk;
    z_[k] = static_cast<int32_t>(zk);
  }

  // The token that followed each long-enough earlier occurrence would extend the repeat.
  touched_.clear();
  for (size_t k = 1; k < n; ++k) {
    const int32_t len = std::min(z_[k], rep_limit);
    if (len < p_.allowed_length) continue;
    const int32_t tok = at_back(k - 1);
    if (static_cast<size_t>(tok) >= max_repeat_.size()) continue;  // not in this vocabulary
    // max_repeat_ stores len + 1 so that 0 means "none" even when allowed_length is 0.
    if (max_repeat_[tok] == 0) touched_.push_back(tok);
    max_repeat_[tok] = std::max(max_repeat_[tok], len + 1);
  }
  if (touched_.empty()) return;

  for (size_t i = 0; i < c.size; ++i) {
    token_candidate& t = c.data[i];
    const int32_t m = max_repeat_[t.id];
    if (m == 0) continue;
    auto it = std::lower_bound(breakers_.begin(), breakers_.end(), t.id, [](const auto& b, int32_t v) { return b.first < v; });
    bool single_breaker = false;
    for (; it != breakers_.end() && it->first == t.id; ++it) single_breaker |= it->second.empty();
    if (single_breaker) continue;
    int exponent = (m - 1) - p_.allowed_length;
    if (max_exponent_ > 0 && exponent > max_exponent_) exponent = max_exponent_;
    // std::pow(float, int) computes in double in llama.cpp too.
    const auto penalty = static_cast<float>(static_cast<double>(p_.multiplier) * std::pow(static_cast<double>(p_.base), exponent));
    t.logit -= penalty;
  }
  for (int32_t tok : touched_) max_repeat_[tok] = 0;
  c.sorted = false;
}

}  // namespace dianoia::detail
