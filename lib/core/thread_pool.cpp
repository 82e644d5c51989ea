#include "core/thread_pool.hpp"

#include <immintrin.h>

#include "core/error.hpp"

namespace dianoia::detail {

namespace {
// Set while a thread runs a chunk, so a nested parallel_for runs inline instead of deadlocking.
thread_local bool in_pool_chunk = false;

// Polling before a thread goes to sleep (4096 pauses = ~0.1-0.5 ms depending on the CPU's pause latency):
// longer than the gap between two matmuls of one decode step, much shorter than the gap between two
// tokens when the host program is idle.
constexpr int spin_iterations = 4096;

inline void cpu_relax() { _mm_pause(); }
}  // namespace

thread_pool::thread_pool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  if (n_threads <= 0) n_threads = 1;
  n_threads_ = n_threads;
  errors_.resize(static_cast<size_t>(n_threads));
  workers_.reserve(static_cast<size_t>(n_threads - 1));
  try {
    for (int t = 1; t < n_threads; ++t) workers_.emplace_back([this, t] { worker_main(t); });
  } catch (const std::system_error& e) {
    stop_.store(true);
    wake_workers();
    for (auto& w : workers_) w.join();
    fail(errc::internal, "thread_pool: cannot start {} threads: {}", n_threads, e.what());
  }
}

thread_pool::~thread_pool() {
  stop_.store(true, std::memory_order_relaxed);
  wake_workers();
  for (auto& w : workers_) w.join();
}

void thread_pool::wake_workers() {
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard lock(sleep_mutex_);
    work_cv_.notify_all();
  }
}

void thread_pool::run_chunk(int t) noexcept {
  int64_t b, e;
  chunk(job_items_, job_threads_, t, b, e);
  if (b >= e) return;
  in_pool_chunk = true;
  try {
    job_call_(job_obj_, b, e, t);
  } catch (...) {
    errors_[static_cast<size_t>(t)] = std::current_exception();
  }
  in_pool_chunk = false;
}

void thread_pool::worker_main(int t) {
  // Not generation_.load(): a thread that starts late must still take the jobs published before it ran.
  uint32_t seen = 0;
  for (;;) {
    uint32_t g = generation_.load(std::memory_order_acquire);
    for (int i = 0; g == seen && i < spin_iterations; ++i) {
      cpu_relax();
      g = generation_.load(std::memory_order_acquire);
    }
    if (g == seen) {
      std::unique_lock lock(sleep_mutex_);
      // Announce ourselves before the final check: the publisher bumps generation_ and then reads
      // sleepers_ (both seq_cst), so either it sees us and notifies under the mutex, or we see its bump.
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      work_cv_.wait(lock, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    seen = g;
    if (stop_.load(std::memory_order_relaxed)) return;
    if (t < job_threads_) run_chunk(t);
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_sleeping_.load(std::memory_order_seq_cst)) {
      std::lock_guard lock(sleep_mutex_);
      done_cv_.notify_one();
    }
  }
}

void thread_pool::run(int64_t n_items, void* obj, tramp_t call) {
  if (n_items <= 0) return;
  // Inline when there is nobody to share with, when nested, or when there is a single item.
  if (n_threads_ == 1 || in_pool_chunk || n_items == 1) {
    bool was = in_pool_chunk;
    in_pool_chunk = true;
    try {
      call(obj, 0, n_items, 0);
    } catch (...) {
      in_pool_chunk = was;
      throw;
    }
    in_pool_chunk = was;
    return;
  }
  job_obj_ = obj;
  job_call_ = call;
  job_items_ = n_items;
  job_threads_ = n_items < n_threads_ ? static_cast<int>(n_items) : n_threads_;
  for (auto& e : errors_) e = nullptr;
  // Every worker acknowledges every generation (even with no chunk) so that job_* is never rewritten
  // while a slow worker may still read it.
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  wake_workers();

  run_chunk(0);

  int p = pending_.load(std::memory_order_acquire);
  for (int i = 0; p != 0 && i < spin_iterations; ++i) {
    cpu_relax();
    p = pending_.load(std::memory_order_acquire);
  }
  if (p != 0) {
    std::unique_lock lock(sleep_mutex_);
    caller_sleeping_.store(true, std::memory_order_seq_cst);
    done_cv_.wait(lock, [&] { return pending_.load(std::memory_order_seq_cst) == 0; });
    caller_sleeping_.store(false, std::memory_order_relaxed);
  }
  for (auto& e : errors_)
    if (e) std::rethrow_exception(e);
}

}  // namespace dianoia::detail
