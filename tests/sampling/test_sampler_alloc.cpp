// sample() must not allocate once its buffer exists for the vocabulary size. Counted by replacing the
// global operator new for this test program (test_sampling only).
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#include "sampling/logprobs.hpp"
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
// The nothrow forms too (std::stable_sort's temporary buffer uses them): otherwise they come from the
// runtime's allocator and are freed by the free() below, which AddressSanitizer reports as a mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return ::operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
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

TEST_CASE("every stage on: sample(), accept() and logprobs allocate nothing after the first call") {
  std::vector<float> logits(32000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::cos(static_cast<float>(i) * 0.37f) * 4.0f;
  std::vector<std::string> pieces(logits.size());
  for (size_t i = 0; i < pieces.size(); ++i) pieces[i] = i % 100 == 7 ? "x:" : "t" + std::to_string(i);
  pieces[10] = "\n";
  token_texts texts{pieces, [](std::string_view) { return std::vector<int32_t>{11}; }};

  sampler_params all;
  all.top_k = 0;  // so that typical and XTC see the whole vocabulary
  all.logit_bias = {{5, 2.0f}, {6, -INFINITY}};
  all.repeat_penalty = 1.1f;
  all.frequency_penalty = 0.1f;
  all.presence_penalty = 0.1f;
  all.dry_multiplier = 0.8f;
  all.dry_penalty_last_n = 256;
  all.typical_p = 0.95f;
  all.xtc_probability = 0.5f;
  all.xtc_threshold = 0.01f;
  all.top_n_sigma = 3.0f;
  all.dynatemp_range = 0.3f;
  sampler_params miro = all;
  miro.mirostat = 2;
  sampler_params greedy = all;
  greedy.temperature = 0.0f;
  for (const auto& p : {all, miro, greedy}) {
    sampler s(p, &texts);
    std::vector<token_logprob> top(20);
    s.sample(logits);
    raw_logprobs(logits, 3, top);
    const size_t before = g_allocations.load();
    for (int i = 0; i < 100; ++i) {
      const int32_t id = s.sample(logits);
      raw_logprobs(logits, id, top);
      candidate_logprobs(s.chain().candidates().view(), id, top);
      s.accept(static_cast<int32_t>(i % 50));  // forced tokens enter the history too
    }
    s.distribution(logits);
    s.reset();
    for (int i = 0; i < 20; ++i) s.sample(std::span<const float>(logits).first(1000));
    CHECK(g_allocations.load() == before);
  }
}
