// A fixed pool of worker threads for data-parallel loops (matmul rows, attention heads).
//
// Built once per session: n threads *including the caller*, so a pool of 1 starts no thread and runs
// everything inline. parallel_for() hands each thread one contiguous chunk of [0, n); contiguous because
// the callers split weight rows, and a thread that walks consecutive rows streams memory sequentially.
// No allocation per call: the callable is passed by address through a trampoline, never copied into a
// std::function. Workers spin briefly before sleeping because decode issues thousands of ~20 µs loops per
// token and a futex wake-up costs about as much as the loop itself.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace dianoia::detail {

class thread_pool {
 public:
  // n_threads <= 0 means "all hardware threads".
  explicit thread_pool(int n_threads);
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  int size() const noexcept { return n_threads_; }

  // Calls fn(begin, end) once per thread that has work, with [begin, end) contiguous chunks covering
  // [0, n_items) in order of thread index (thread 0 = the caller). Blocks until all chunks are done; the
  // first exception thrown by any chunk is rethrown here after every thread has finished. Called from
  // inside a chunk (nested), it runs the whole range inline on the calling thread.
  template <class F>
  void parallel_for(int64_t n_items, F&& fn) {
    using fn_t = std::remove_reference_t<F>;
    run(n_items, const_cast<void*>(static_cast<const void*>(std::addressof(fn))),
        [](void* obj, int64_t b, int64_t e, int) { (*static_cast<fn_t*>(obj))(b, e); });
  }

  // Like parallel_for, but fn(thread_index, begin, end): for callers that keep per-thread scratch.
  template <class F>
  void parallel_for_indexed(int64_t n_items, F&& fn) {
    using fn_t = std::remove_reference_t<F>;
    run(n_items, const_cast<void*>(static_cast<const void*>(std::addressof(fn))),
        [](void* obj, int64_t b, int64_t e, int t) { (*static_cast<fn_t*>(obj))(t, b, e); });
  }

  // The chunk thread t of n gets for n_items items (the split parallel_for uses).
  static void chunk(int64_t n_items, int n_threads, int t, int64_t& begin, int64_t& end) noexcept {
    const int64_t base = n_items / n_threads, extra = n_items % n_threads;
    begin = t * base + (t < extra ? t : extra);
    end = begin + base + (t < extra ? 1 : 0);
  }

 private:
  using tramp_t = void (*)(void*, int64_t, int64_t, int);
  void run(int64_t n_items, void* obj, tramp_t call);
  void worker_main(int t);
  void run_chunk(int t) noexcept;
  void wake_workers();

  int n_threads_;
  std::vector<std::thread> workers_;
  std::vector<std::exception_ptr> errors_;  // one slot per thread, sized once

  // The current job, published by a release increment of generation_.
  void* job_obj_ = nullptr;
  tramp_t job_call_ = nullptr;
  int64_t job_items_ = 0;
  int job_threads_ = 0;

  alignas(64) std::atomic<uint32_t> generation_{0};
  alignas(64) std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
  // Sleeping (after the spin window) uses a mutex and condition variables rather than std::atomic::wait:
  // libstdc++ 12's atomic wait/notify can lose wake-ups (GCC PR 104928), which hung this pool.
  std::mutex sleep_mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
};

}  // namespace dianoia::detail
