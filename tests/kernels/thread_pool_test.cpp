#include "core/thread_pool.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <stdexcept>
#include <vector>

#include "test_support.hpp"

using dianoia::detail::thread_pool;

TEST_CASE("thread_pool covers every item exactly once in contiguous ordered chunks") {
  for (int threads : {1, 2, 3}) {
    thread_pool pool(threads);
    CHECK(pool.size() == threads);
    for (int64_t n : {0, 1, 2, 3, 5, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::vector<int64_t> begins(static_cast<size_t>(threads), -1), ends(static_cast<size_t>(threads), -1);
      pool.parallel_for_indexed(n, [&](int t, int64_t b, int64_t e) {
        begins[static_cast<size_t>(t)] = b;
        ends[static_cast<size_t>(t)] = e;
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (auto& h : hits) CHECK(h.load() == 1);
      if (n >= threads && threads > 1) {
        CHECK(begins[0] == 0);
        for (int t = 1; t < threads; ++t) CHECK(begins[static_cast<size_t>(t)] == ends[static_cast<size_t>(t - 1)]);
        CHECK(ends[static_cast<size_t>(threads - 1)] == n);
      }
    }
  }
}

TEST_CASE("thread_pool survives many back-to-back calls") {
  thread_pool pool(2);
  std::atomic<int64_t> total{0};
  for (int it = 0; it < 20000; ++it)
    pool.parallel_for(7, [&](int64_t b, int64_t e) { total += e - b; });
  CHECK(total.load() == 7 * 20000);
}

TEST_CASE("thread_pool propagates a worker's exception and stays usable") {
  thread_pool pool(2);
  CHECK_THROWS_WITH_AS(pool.parallel_for(10, [](int64_t b, int64_t) {
    if (b > 0) throw std::runtime_error("boom in worker");
  }), "boom in worker", std::runtime_error);
  CHECK_THROWS_AS(pool.parallel_for(10, [](int64_t b, int64_t) {
    if (b == 0) throw std::logic_error("boom in caller");
  }), std::logic_error);
  std::atomic<int> count{0};
  pool.parallel_for(10, [&](int64_t b, int64_t e) { count += static_cast<int>(e - b); });
  CHECK(count.load() == 10);
}

TEST_CASE("thread_pool nested parallel_for runs inline") {
  thread_pool pool(2);
  std::atomic<int> count{0};
  pool.parallel_for(4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) pool.parallel_for(3, [&](int64_t b2, int64_t e2) { count += static_cast<int>(e2 - b2); });
  });
  CHECK(count.load() == 12);
}

TEST_CASE("thread_pool workers wake up after sleeping") {
  thread_pool pool(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the spin window
  std::atomic<int> count{0};
  pool.parallel_for(2, [&](int64_t b, int64_t e) { count += static_cast<int>(e - b); });
  CHECK(count.load() == 2);
}

TEST_CASE("thread_pool parallel_for_dynamic visits every item once, in grain-aligned chunks, in order per thread") {
  for (int threads : {1, 2, 3, 4, 8}) {
    thread_pool pool(threads);
    for (int64_t n : {0, 1, 2, 3, 5, 7, 64, 1000, 4099}) {
      for (int64_t grain : {1, 2, 3, 16, 1000, 5000}) {
        CAPTURE(threads);
        CAPTURE(n);
        CAPTURE(grain);
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::vector<int64_t> last_begin(static_cast<size_t>(threads), -1);
        std::atomic<int> bad{0};
        pool.parallel_for_dynamic_indexed(n, grain, [&](int t, int64_t b, int64_t e) {
          const bool inline_run = b == 0 && e == n;  // nested, one thread, or a single chunk
          if (t < 0 || t >= threads || b >= e || (!inline_run && (b % grain != 0 || e - b > grain))) bad++;
          auto& last = last_begin[static_cast<size_t>(t)];
          if (b <= last) bad++;  // each thread's chunks come in increasing order
          last = b;
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        });
        CHECK(bad.load() == 0);
        int64_t wrong = 0;
        for (auto& h : hits) wrong += h.load() != 1;
        CHECK(wrong == 0);
      }
    }
  }
}

TEST_CASE("thread_pool parallel_for_dynamic survives many back-to-back calls, mixed with parallel_for") {
  thread_pool pool(2);
  std::atomic<int64_t> total{0};
  for (int it = 0; it < 20000; ++it) {
    pool.parallel_for_dynamic(37, 4, [&](int64_t b, int64_t e) { total += e - b; });
    if (it % 3 == 0) pool.parallel_for(5, [&](int64_t b, int64_t e) { total += e - b; });
  }
  CHECK(total.load() == 37 * 20000 + 5 * 6667);
}

TEST_CASE("thread_pool parallel_for_dynamic propagates exceptions and stays usable") {
  for (int threads : {1, 2, 3}) {
    thread_pool pool(threads);
    // Thrown by whichever thread takes item 40 (the caller or a worker).
    CHECK_THROWS_WITH_AS(pool.parallel_for_dynamic(100, 5, [](int64_t b, int64_t e) {
      if (b <= 40 && 40 < e) throw std::runtime_error("boom at 40");
    }), "boom at 40", std::runtime_error);
    // Every chunk throws: one of them comes out, and no chunk runs twice.
    std::vector<std::atomic<int>> hits(64);
    CHECK_THROWS_AS(pool.parallel_for_dynamic(64, 1, [&](int64_t b, int64_t) {
      hits[static_cast<size_t>(b)]++;
      throw std::logic_error("every chunk");
    }), std::logic_error);
    for (auto& h : hits) CHECK(h.load() <= 1);
    std::atomic<int> count{0};
    pool.parallel_for_dynamic(10, 3, [&](int64_t b, int64_t e) { count += static_cast<int>(e - b); });
    CHECK(count.load() == 10);
  }
}

TEST_CASE("thread_pool nested dynamic and static loops run inline on the calling thread") {
  thread_pool pool(2);
  std::atomic<int> count{0}, off_thread{0}, split{0};
  pool.parallel_for_dynamic(8, 1, [&](int64_t b, int64_t e) {
    const auto me = std::this_thread::get_id();
    for (int64_t i = b; i < e; ++i) {
      pool.parallel_for_dynamic(50, 3, [&](int64_t b2, int64_t e2) {
        if (std::this_thread::get_id() != me) off_thread++;
        if (b2 != 0 || e2 != 50) split++;
        count += static_cast<int>(e2 - b2);
      });
      pool.parallel_for(6, [&](int64_t b2, int64_t e2) {
        if (std::this_thread::get_id() != me) off_thread++;
        count += static_cast<int>(e2 - b2);
      });
    }
  });
  CHECK(count.load() == 8 * 56);
  CHECK(off_thread.load() == 0);
  CHECK(split.load() == 0);
  count = 0;
  pool.parallel_for(3, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      pool.parallel_for_dynamic_indexed(20, 2, [&](int t, int64_t b2, int64_t e2) {
        if (t != 0 || b2 != 0 || e2 != 20) split++;
        count += static_cast<int>(e2 - b2);
      });
  });
  CHECK(count.load() == 60);
  CHECK(split.load() == 0);
}

TEST_CASE("thread_pool: parallel_for chunk indices are never run twice at once, whoever runs them") {
  // The caller may take a late worker's chunk; per-index scratch must still be exclusive.
  thread_pool pool(3);
  std::vector<std::atomic<int>> busy(3);
  std::atomic<int> clashes{0};
  for (int it = 0; it < 5000; ++it)
    pool.parallel_for_indexed(7, [&](int t, int64_t, int64_t) {
      if (busy[static_cast<size_t>(t)].fetch_add(1) != 0) clashes++;
      busy[static_cast<size_t>(t)].fetch_sub(1);
    });
  CHECK(clashes.load() == 0);
}

TEST_CASE("thread_pool dynamic loop after the workers have gone to sleep") {
  thread_pool pool(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the spin window
  std::atomic<int> count{0};
  pool.parallel_for_dynamic(100, 7, [&](int64_t b, int64_t e) { count += static_cast<int>(e - b); });
  CHECK(count.load() == 100);
}
