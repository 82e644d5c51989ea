#include "serve_pool.hpp"

#include <algorithm>

namespace cli {

session_pool::session_pool(const dianoia::model& m, const dianoia_session_params& sp, uint32_t n_sessions,
                           uint32_t max_waiting)
    : history_(n_sessions), in_use_(n_sessions, false), max_waiting_(max_waiting) {
  for (uint32_t i = 0; i < n_sessions; ++i) sessions_.push_back(std::make_unique<dianoia::session>(m, sp));
}

session_pool::lease::~lease() {
  if (pool_) pool_->release(index_);
}

std::optional<session_pool::lease> session_pool::acquire(const std::vector<int32_t>& prompt) {
  std::unique_lock lock(mu_);
  if (closed_ || next_ticket_ - serving_ >= max_waiting_ + sessions_.size()) return std::nullopt;
  const uint64_t ticket = next_ticket_++;
  auto free_index = [&]() -> std::optional<size_t> {
    std::optional<size_t> best;
    size_t best_len = 0;
    for (size_t i = 0; i < sessions_.size(); ++i) {
      if (in_use_[i]) continue;
      const auto& h = history_[i];
      const size_t n = std::min(h.size(), prompt.size());
      const size_t len = std::mismatch(h.begin(), h.begin() + static_cast<long>(n), prompt.begin()).first - h.begin();
      if (!best || len > best_len) best = i, best_len = len;
    }
    return best;
  };
  std::optional<size_t> got;
  cv_.wait(lock, [&] { return closed_ || (ticket == serving_ && (got = free_index()).has_value()); });
  if (closed_) return std::nullopt;  // (the tickets no longer matter)
  ++serving_;
  in_use_[*got] = true;
  cv_.notify_all();  // the next ticket may find another free session
  return lease(this, *got);
}

void session_pool::release(size_t index) {
  std::vector<int32_t> tokens;
  try {
    tokens = sessions_[index]->tokens();
  } catch (...) {
    // An empty history only costs the next request its prefix reuse.
  }
  std::lock_guard lock(mu_);
  history_[index] = std::move(tokens);
  in_use_[index] = false;
  cv_.notify_all();
}

void session_pool::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
  for (auto& s : sessions_) s->cancel();
}

uint32_t session_pool::busy() const {
  std::lock_guard lock(mu_);
  return static_cast<uint32_t>(std::count(in_use_.begin(), in_use_.end(), true));
}

uint32_t session_pool::waiting() const {
  std::lock_guard lock(mu_);
  return static_cast<uint32_t>(next_ticket_ - serving_);
}

}  // namespace cli
