// The thread-safety the header documents, checked: sessions on one model run in parallel threads and
// give exactly the outputs of the same runs in sequence, while another thread cancels one more session.
// The ThreadSanitizer build (the tsan preset) builds and runs this file alone (tests/tsan/README.md).
#include <doctest/doctest.h>

#include <dianoia.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

struct run_result {
  std::string text;
  dianoia_status st = DIANOIA_ERR_INTERNAL;
  dianoia_event done{};
};

// The cancellation handshake (null for the runs that are not cancelled): on its first content token the
// generation waits until another thread has called dianoia_session_cancel, so the cancel lands while the
// generation runs however the threads are scheduled.
struct handshake {
  std::atomic<bool> started{false};
  std::atomic<bool> cancelled{false};
};

struct collector {
  run_result* r;
  handshake* h;
};

bool collect(const dianoia_event* e, void* user) {
  auto* c = static_cast<collector*>(user);
  if (e->type == DIANOIA_EVENT_CONTENT) {
    c->r->text.append(e->text, e->text_len);
    if (c->h && !c->h->started.exchange(true))
      while (!c->h->cancelled.load()) std::this_thread::yield();
  } else if (e->type == DIANOIA_EVENT_DONE) {
    c->r->done = *e;
  }
  return true;
}

run_result generate(dianoia_session* s, const std::string& prompt, uint32_t max_tokens,
                    handshake* h = nullptr) {
  auto p = dianoia_generate_default_params();
  p.temperature = 0;
  p.max_tokens = max_tokens;
  run_result r;
  collector c{&r, h};
  r.st = dianoia_session_complete(s, prompt.data(), prompt.size(), &p, collect, &c);
  return r;
}

dianoia_session* new_session(dianoia_model* m, int32_t n_threads) {
  auto sp = dianoia_session_default_params();
  sp.n_threads = n_threads;
  dianoia_session* s = nullptr;
  return dianoia_session_create(m, &sp, &s) == DIANOIA_OK ? s : nullptr;
}

}  // namespace

TEST_CASE("threads: four sessions on one model in four threads give the sequential outputs, while a fifth is "
          "cancelled from another thread") {
  dianoia_model* m = nullptr;
  const std::string path = dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf";
  REQUIRE(dianoia_model_load(path.c_str(), nullptr, &m) == DIANOIA_OK);
  // Two sessions run inline (1 thread), two through their own worker pool (2 threads), so both paths
  // meet the shared model; a run is compared with the sequential run of the same thread count.
  const std::vector<std::string> prompts = {"Once upon a time", "The cat", "Lily and Ben", "One day"};
  const std::vector<int32_t> threads_of = {1, 2, 1, 2};
  const std::string victim_prompt = "There was a big dog";
  constexpr uint32_t n_tokens = 40, victim_tokens = 64;

  auto with_session = [&](const std::string& prompt, int32_t n_threads) {
    dianoia_session* s = new_session(m, n_threads);
    if (!s) return run_result{};
    run_result r = generate(s, prompt, n_tokens);
    dianoia_session_free(s);
    return r;
  };
  std::vector<run_result> sequential;
  for (size_t i = 0; i < prompts.size(); ++i) sequential.push_back(with_session(prompts[i], threads_of[i]));
  dianoia_session* victim = new_session(m, 1);
  REQUIRE(victim != nullptr);
  const run_result victim_sequential = generate(victim, victim_prompt, victim_tokens);
  REQUIRE(victim_sequential.st == DIANOIA_OK);
  REQUIRE(victim_sequential.done.stop_reason == DIANOIA_STOP_MAX_TOKENS);

  // The victim's run in parallel with the four, cancelled by a sixth thread after its first token.
  std::vector<run_result> parallel(prompts.size());
  run_result victim_parallel;
  handshake h;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < prompts.size(); ++i)
    threads.emplace_back([&, i] { parallel[i] = with_session(prompts[i], threads_of[i]); });
  threads.emplace_back([&] { victim_parallel = generate(victim, victim_prompt, victim_tokens, &h); });
  std::thread canceller([&] {
    while (!h.started.load()) std::this_thread::yield();
    dianoia_session_cancel(victim);
    h.cancelled = true;
  });
  for (auto& t : threads) t.join();
  canceller.join();

  for (size_t i = 0; i < prompts.size(); ++i) {
    CAPTURE(prompts[i]);
    CHECK(sequential[i].st == DIANOIA_OK);
    CHECK(parallel[i].st == DIANOIA_OK);
    CHECK(!sequential[i].text.empty());
    CHECK(parallel[i].text == sequential[i].text);
    CHECK(parallel[i].done.content_tokens == sequential[i].done.content_tokens);
  }
  // The cancelled run stopped early, and what it produced is the start of the same run in sequence.
  CHECK(victim_parallel.st == DIANOIA_OK);
  CHECK(victim_parallel.done.stop_reason == DIANOIA_STOP_CANCELLED);
  CHECK(victim_parallel.done.content_tokens < victim_tokens);
  CHECK(victim_sequential.text.compare(0, victim_parallel.text.size(), victim_parallel.text) == 0);
  dianoia_session_free(victim);
  dianoia_model_free(m);
}
