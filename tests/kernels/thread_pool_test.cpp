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
