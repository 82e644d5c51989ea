// sample() must not allocate once its buffer exists for the vocabulary size. Counted by replacing the
// global operator new for this test program (test_sampling only).
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#include "sampling/sampler.hpp"

namespace {
std::atomic<size_t> g_allocations{0};
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace dianoia::detail;

TEST_CASE("sample() allocates nothing after the first call for a vocabulary size") {
  std::vector<float> logits(32000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::cos(static_cast<float>(i) * 0.37f) * 4.0f;

  sampler_params defaults;  // every stage on
  sampler_params nucleus_only;
  nucleus_only.top_k = 0;
  nucleus_only.min_p = 0.0f;
  sampler_params greedy;
  greedy.temperature = 0.0f;
  for (const auto& p : {defaults, nucleus_only, greedy}) {
    sampler s(p);
    s.sample(logits);
    const size_t before = g_allocations.load();
    for (int i = 0; i < 50; ++i) s.sample(logits);
    s.reseed(3);
    for (int i = 0; i < 50; ++i) s.sample(std::span<const float>(logits).first(1000));  // smaller vocab
    CHECK(g_allocations.load() == before);
  }
}
