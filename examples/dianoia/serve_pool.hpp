// The sessions `dianoia serve` decodes on. A request holds one session for its whole generation, so
// streams never mix; with more requests than sessions they wait in arrival order. A free session whose
// context shares the longest prefix with the new prompt is chosen, so the next turn of a conversation
// evaluates only its new tokens (the library reuses the cached prefix).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <dianoia/dianoia.hpp>

namespace cli {

class session_pool {
 public:
  session_pool(const dianoia::model& m, const dianoia_session_params& sp, uint32_t n_sessions, uint32_t max_waiting);

  class lease {
   public:
    lease(session_pool* pool, size_t index) : pool_(pool), index_(index) {}
    lease(lease&& o) noexcept : pool_(o.pool_), index_(o.index_) { o.pool_ = nullptr; }
    lease(const lease&) = delete;
    ~lease();
    dianoia::session& session() const { return *pool_->sessions_[index_]; }

   private:
    session_pool* pool_;
    size_t index_;
  };

  // Waits for a session (first come, first served); nullopt at once when max_waiting requests already
  // wait, or once the pool is closed. `prompt` (the request's prompt tokens, possibly approximate) picks among free sessions.
  std::optional<lease> acquire(const std::vector<int32_t>& prompt);
  // Shutdown: stops every running generation; waiting and later acquires get nullopt.
  void close();
  uint32_t busy() const;
  uint32_t waiting() const;
  uint32_t size() const { return static_cast<uint32_t>(sessions_.size()); }

 private:
  void release(size_t index);
  std::vector<std::unique_ptr<dianoia::session>> sessions_;
  std::vector<std::vector<int32_t>> history_;  // each session's context after its last generation
  std::vector<bool> in_use_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_ticket_ = 0, serving_ = 0;
  uint32_t max_waiting_;
  bool closed_ = false;
};

}  // namespace cli
