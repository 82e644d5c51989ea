// A fixed pool of worker threads for data-parallel loops (matmul rows, attention heads).
//
// Built once per session: n threads *including the caller*, so a pool of 1 starts no thread and runs
// everything inline. parallel_for() splits [0, n) into one contiguous chunk per thread; contiguous because
// the callers split weight rows, and a thread that walks consecutive rows streams memory sequentially.
// parallel_for_dynamic() hands out chunks of `grain` items from a shared counter instead, so a thread
// that is descheduled (a vCPU stolen by the hypervisor or another process) holds back at most one grain,
// not half the loop.
//
// In both, a chunk nobody has started is fair game for whoever is free, the caller included: a worker
// that is late (asleep, or not scheduled) never makes the caller wait for work it could do itself, and
// a worker that arrives after the loop is over simply skips it.
//
// No allocation per call: the callable is passed by address through a trampoline, never copied into a
// std::function. Workers spin briefly before sleeping because decode issues thousands of ~20 µs loops per
// token and a futex wake-up costs about as much as the loop itself; past the first ~10 µs a waiting thread
// also yields, because the thread it waits for may be queued behind it on the same CPU.
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

  // Calls fn(begin, end) once per chunk, chunk t being the t-th of min(size(), n_items) contiguous, in-order
  // chunks covering [0, n_items) (see chunk()). Each thread starts with its own chunk (the caller with
  // chunk 0), then takes any chunk not yet started. Blocks until all chunks are done; the first exception
  // thrown by any chunk is rethrown here after every chunk has finished. Called from inside a chunk
  // (nested), it runs the whole range inline on the calling thread.
  template <class F>
  void parallel_for(int64_t n_items, F&& fn) {
    run(n_items, 0, address(fn), [](void* obj, int64_t b, int64_t e, int) { (*static_cast<fn_ptr_t<F>>(obj))(b, e); });
  }

  // Like parallel_for, but fn(index, begin, end) with the chunk's index in [0, size()): no two chunks
  // with the same index run at once, so callers keep per-index scratch.
  template <class F>
  void parallel_for_indexed(int64_t n_items, F&& fn) {
    run(n_items, 0, address(fn), [](void* obj, int64_t b, int64_t e, int t) { (*static_cast<fn_ptr_t<F>>(obj))(t, b, e); });
  }

  // Calls fn(begin, end) over [0, n_items) in chunks of `grain` items (the last may be shorter), handed
  // out in increasing order to whichever thread asks next, the caller included, until none are left.
  // Every begin is a multiple of grain. Same blocking, exception and nesting rules as parallel_for,
  // except that after an exception the chunks not yet handed out are skipped; nested or on a pool of one
  // thread, fn(0, n_items) runs once inline. grain < 1 counts as 1. Each hand-out is an atomic add on a
  // line both cores write, so a chunk should be a microsecond of work or more (64 items of 0.6 µs on 2
  // threads: grain 1 costs 16% over parallel_for, grain 4 3%, grain 8 2%).
  template <class F>
  void parallel_for_dynamic(int64_t n_items, int64_t grain, F&& fn) {
    run(n_items, grain < 1 ? 1 : grain, address(fn),
        [](void* obj, int64_t b, int64_t e, int) { (*static_cast<fn_ptr_t<F>>(obj))(b, e); });
  }

  // Like parallel_for_dynamic, but fn(thread_index, begin, end): thread_index in [0, size()) is the
  // thread running the chunk (0 = the caller), for per-thread scratch.
  template <class F>
  void parallel_for_dynamic_indexed(int64_t n_items, int64_t grain, F&& fn) {
    run(n_items, grain < 1 ? 1 : grain, address(fn),
        [](void* obj, int64_t b, int64_t e, int t) { (*static_cast<fn_ptr_t<F>>(obj))(t, b, e); });
  }

  // The chunk t of n gets for n_items items (the split parallel_for uses).
  static void chunk(int64_t n_items, int n_threads, int t, int64_t& begin, int64_t& end) noexcept {
    const int64_t base = n_items / n_threads, extra = n_items % n_threads;
    begin = t * base + (t < extra ? t : extra);
    end = begin + base + (t < extra ? 1 : 0);
  }

 private:
  using tramp_t = void (*)(void*, int64_t, int64_t, int);
  template <class F>
  using fn_ptr_t = std::remove_reference_t<F>*;
  template <class F>
  static void* address(F& fn) noexcept {
    return const_cast<void*>(static_cast<const void*>(std::addressof(fn)));
  }

  // grain 0: one chunk per thread (parallel_for); else chunks of grain items from next_.
  void run(int64_t n_items, int64_t grain, void* obj, tramp_t call);
  void run_inline(int64_t n_items, void* obj, tramp_t call);
  void publish(int64_t n_items, int64_t grain, void* obj, tramp_t call);
  void work(int t) noexcept;
  bool run_range(int index, int64_t b, int64_t e) noexcept;
  void finish();
  void worker_main(int t);
  uint64_t wait_for_job(uint32_t seen);
  bool enter(uint64_t s, uint32_t gen) noexcept;
  void leave() noexcept;
  void publish_state(uint64_t s);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::vector<std::exception_ptr> errors_;            // one slot per chunk index / thread, sized once
  std::unique_ptr<std::atomic<uint8_t>[]> claimed_;   // parallel_for: chunk t started, sized once

  // The current job, written only while no worker is inside one, published by state_.
  void* job_obj_ = nullptr;
  tramp_t job_call_ = nullptr;
  int64_t job_items_ = 0;
  int64_t job_grain_ = 0;
  int job_chunks_ = 0;

  // [generation:32][closed:1][workers inside the job:31]. A worker joins a job only while it is open
  // (one CAS), and the caller closes it when no work is left and waits for the workers inside; so the
  // job's fields are never rewritten while anyone may read them, without waiting for late workers.
  alignas(64) std::atomic<uint64_t> state_{0};
  alignas(64) std::atomic<int64_t> next_{0};  // parallel_for_dynamic: first item not handed out yet
  alignas(64) std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
  // Sleeping (after the spin window) uses a mutex and condition variables rather than std::atomic::wait:
  // libstdc++ 12's atomic wait/notify can lose wake-ups (GCC PR 104928), which hung this pool.
  std::mutex sleep_mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
};

}  // namespace dianoia::detail
