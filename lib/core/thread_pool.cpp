#include "core/thread_pool.hpp"

#include <immintrin.h>

#include <algorithm>

#include "core/error.hpp"

namespace dianoia::detail {

namespace {
// Set while a thread runs a chunk, so a nested parallel_for runs inline instead of deadlocking.
thread_local bool in_pool_chunk = false;

// Polling before a thread goes to sleep (4096 pauses = ~0.1-0.5 ms depending on the CPU's pause latency):
// longer than the gap between two matmuls of one decode step, much shorter than the gap between two
// tokens when the host program is idle.
constexpr int spin_iterations = 4096;
// Past this many pauses a waiter also yields now and then (below). A wait this long (~10 µs) means the
// thread waited for is not running, and often it is queued on our own CPU: with another process
// hogging one of two vCPUs, the scheduler puts the caller and the worker on the other one, where a pure
// spin burns the very time slice the worker needs (64-item loops of 40 µs with a hog on CPU 1: 53 µs a
// loop spinning, 36 µs yielding, 37 µs on one thread; unchanged when the machine is idle).
constexpr int yield_after = 512;

constexpr uint64_t k_inside_mask = (uint64_t{1} << 31) - 1;
constexpr uint64_t k_closed = uint64_t{1} << 31;
constexpr uint32_t generation_of(uint64_t s) { return static_cast<uint32_t>(s >> 32); }
constexpr uint64_t new_job(uint32_t gen, bool closed) { return (uint64_t{gen} << 32) | (closed ? k_closed : 0); }

inline void cpu_relax() { _mm_pause(); }

inline void wait_step(int i) {
  if (i >= yield_after && (i & 63) == 0) std::this_thread::yield();
  else cpu_relax();
}
}  // namespace

thread_pool::thread_pool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  if (n_threads <= 0) n_threads = 1;
  n_threads_ = n_threads;
  errors_.resize(static_cast<size_t>(n_threads));
  claimed_ = std::make_unique<std::atomic<uint8_t>[]>(static_cast<size_t>(n_threads));
  // Generation 0 is closed: a worker never joins before the first job.
  state_.store(new_job(0, true), std::memory_order_relaxed);
  workers_.reserve(static_cast<size_t>(n_threads - 1));
  try {
    for (int t = 1; t < n_threads; ++t) workers_.emplace_back([this, t] { worker_main(t); });
  } catch (const std::system_error& e) {
    stop_.store(true);
    publish_state(new_job(generation_of(state_.load()) + 1, true));
    for (auto& w : workers_) w.join();
    fail(errc::internal, "thread_pool: cannot start {} threads: {}", n_threads, e.what());
  }
}

thread_pool::~thread_pool() {
  stop_.store(true, std::memory_order_relaxed);
  publish_state(new_job(generation_of(state_.load(std::memory_order_relaxed)) + 1, true));
  for (auto& w : workers_) w.join();
}

// Stores the new state and wakes sleeping workers. Dekker with wait_for_job: we store state_ and then read
// sleepers_ (both seq_cst); a worker bumps sleepers_ and then reads state_, so either we see it and notify
// under the mutex, or it sees the new generation.
void thread_pool::publish_state(uint64_t s) {
  state_.store(s, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard lock(sleep_mutex_);
    work_cv_.notify_all();
  }
}

uint64_t thread_pool::wait_for_job(uint32_t seen) {
  uint64_t s = state_.load(std::memory_order_acquire);
  for (int i = 0; generation_of(s) == seen && i < spin_iterations; ++i) {
    wait_step(i);
    s = state_.load(std::memory_order_acquire);
  }
  if (generation_of(s) != seen) return s;
  std::unique_lock lock(sleep_mutex_);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  work_cv_.wait(lock, [&] {
    s = state_.load(std::memory_order_seq_cst);
    return generation_of(s) != seen;
  });
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return s;
}

// Joins job `gen` if it is still open. Once the caller has closed it (every chunk handed out), joining
// would only make the caller wait for us, so a late worker leaves it alone.
bool thread_pool::enter(uint64_t s, uint32_t gen) noexcept {
  while (generation_of(s) == gen && !(s & k_closed))
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
  return false;
}

// Dekker with finish(): we decrement and then read caller_sleeping_, it sets caller_sleeping_ and then
// reads the count (all seq_cst), so the last worker out either notifies or is seen to be out.
void thread_pool::leave() noexcept {
  const uint64_t s = state_.fetch_sub(1, std::memory_order_seq_cst) - 1;
  if ((s & k_inside_mask) == 0 && caller_sleeping_.load(std::memory_order_seq_cst)) {
    std::lock_guard lock(sleep_mutex_);
    done_cv_.notify_one();
  }
}

void thread_pool::worker_main(int t) {
  // Starts at 0, not at the current generation: a thread that starts late must still join a job
  // published before it ran (and generation 0 itself is closed).
  uint32_t seen = 0;
  for (;;) {
    const uint64_t s = wait_for_job(seen);
    seen = generation_of(s);
    if (stop_.load(std::memory_order_relaxed)) return;
    if (!enter(s, seen)) continue;
    work(t);
    leave();
  }
}

bool thread_pool::run_range(int index, int64_t b, int64_t e) noexcept {
  in_pool_chunk = true;
  bool ok = true;
  try {
    job_call_(job_obj_, b, e, index);
  } catch (...) {
    errors_[static_cast<size_t>(index)] = std::current_exception();
    ok = false;
  }
  in_pool_chunk = false;
  return ok;
}

// Thread t's share of the current job: its own chunk first, then whatever nobody has started.
void thread_pool::work(int t) noexcept {
  if (job_grain_ == 0) {
    for (int i = 0; i < job_chunks_; ++i) {
      const int c = (t + i) % job_chunks_;
      if (claimed_[c].load(std::memory_order_relaxed) || claimed_[c].exchange(1, std::memory_order_relaxed)) continue;
      int64_t b, e;
      chunk(job_items_, job_chunks_, c, b, e);
      run_range(c, b, e);
    }
    return;
  }
  for (;;) {
    const int64_t b = next_.fetch_add(job_grain_, std::memory_order_relaxed);
    if (b >= job_items_) return;
    // After a failure the rest of the loop is moot: stop handing out chunks.
    if (!run_range(t, b, std::min(b + job_grain_, job_items_))) {
      next_.store(job_items_, std::memory_order_relaxed);
      return;
    }
  }
}

void thread_pool::run_inline(int64_t n_items, void* obj, tramp_t call) {
  const bool was = in_pool_chunk;
  in_pool_chunk = true;
  try {
    call(obj, 0, n_items, 0);
  } catch (...) {
    in_pool_chunk = was;
    throw;
  }
  in_pool_chunk = was;
}

void thread_pool::publish(int64_t n_items, int64_t grain, void* obj, tramp_t call) {
  job_obj_ = obj;
  job_call_ = call;
  job_items_ = n_items;
  job_grain_ = grain;
  job_chunks_ = grain ? 0 : static_cast<int>(std::min<int64_t>(n_items, n_threads_));
  for (auto& e : errors_) e = nullptr;
  for (int c = 0; c < job_chunks_; ++c) claimed_[c].store(0, std::memory_order_relaxed);
  next_.store(0, std::memory_order_relaxed);
  // The release half of the seq_cst store publishes the fields above to every worker that joins.
  publish_state(new_job(generation_of(state_.load(std::memory_order_relaxed)) + 1, false));
}

// Closes the job (all of it is handed out or done) and waits for the workers still inside it.
void thread_pool::finish() {
  uint64_t s = state_.fetch_or(k_closed, std::memory_order_seq_cst);
  for (int i = 0; (s & k_inside_mask) != 0 && i < spin_iterations; ++i) {
    wait_step(i);
    s = state_.load(std::memory_order_acquire);
  }
  if ((s & k_inside_mask) != 0) {
    std::unique_lock lock(sleep_mutex_);
    caller_sleeping_.store(true, std::memory_order_seq_cst);
    done_cv_.wait(lock, [&] { return (state_.load(std::memory_order_seq_cst) & k_inside_mask) == 0; });
    caller_sleeping_.store(false, std::memory_order_relaxed);
  }
  for (auto& e : errors_)
    if (e) std::rethrow_exception(e);
}

void thread_pool::run(int64_t n_items, int64_t grain, void* obj, tramp_t call) {
  if (n_items <= 0) return;
  // Inline when there is nobody to share with, when nested, or when there is a single chunk.
  if (n_threads_ == 1 || in_pool_chunk || n_items == 1 || (grain > 0 && n_items <= grain)) {
    run_inline(n_items, obj, call);
    return;
  }
  publish(n_items, grain, obj, call);
  work(0);
  finish();
}

}  // namespace dianoia::detail
