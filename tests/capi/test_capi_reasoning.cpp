// Chain-of-thought decoding through the public ABI on real models: budgets with wrap-up and forcing,
// stop strings, logprobs, custom samplers, self-consistency votes, conversations, session files.
#include <doctest/doctest.h>

#include <dianoia/dianoia.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

std::string smol() { return dianoia::test::default_model_path(); }
std::string stories() { return dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf"; }

dianoia_generate_params greedy(int n) {
  auto p = dianoia_generate_default_params();
  p.temperature = 0;
  p.max_tokens = n;
  return p;
}

struct texts {
  std::string reasoning, content;
  dianoia_event done{};
};

texts chat(dianoia::session& s, const std::string& user, const dianoia_generate_params& p) {
  texts t;
  t.done = s.chat({{"user", user}}, [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_REASONING) t.reasoning += e.text;
    if (e.type == DIANOIA_EVENT_CONTENT) t.content += e.text;
    return true;
  }, p);
  return t;
}

}  // namespace

TEST_CASE("capi reasoning: max_reasoning_tokens=64 gives at most 64 reasoning tokens and an answer") {
  REQUIRE(dianoia::test::file_exists(smol()));
  dianoia::model m(smol());
  dianoia::session s(m);
  auto p = greedy(160);
  p.reasoning = DIANOIA_REASONING_ON;
  p.max_reasoning_tokens = 64;
  p.wrap_up_text = "\n\nConsidering the limited time, I have to answer now.\n";
  p.repeat_penalty = 1.3f;  // keeps the small model from looping inside its thought
  auto t = chat(s, "If I have 3 apples and buy 5 more, how many apples do I have?", p);
  CHECK(t.done.reasoning_tokens <= 64);
  CHECK(t.done.reasoning_tokens > 0);
  CHECK(!t.content.empty());
  if (t.done.reasoning_tokens == 64) {
    CHECK(t.reasoning.find("Considering the limited time") != std::string::npos);
    CHECK(t.done.injected_tokens > 4);
  }
  MESSAGE("reasoning " << t.done.reasoning_tokens << " tokens, answer " << t.done.content_tokens << " tokens");
}

TEST_CASE("capi reasoning: min_reasoning_tokens forces the thought to go on") {
  dianoia::model m(smol());
  dianoia::session s(m);
  auto p = greedy(80);
  p.reasoning = DIANOIA_REASONING_ON;
  p.min_reasoning_tokens = 24;
  p.max_reasoning_tokens = 40;
  auto t = chat(s, "Say hi.", p);
  CHECK(t.done.reasoning_tokens >= 24);
  CHECK(t.done.reasoning_tokens <= 40);
}

TEST_CASE("capi reasoning: stop strings end the generation without showing the string") {
  dianoia::model_params mp;
  mp.context_length = 256;
  dianoia::model m(stories(), mp);
  dianoia::session s(m);
  // Find what greedy decoding says, then stop on a word from its middle.
  std::string full;
  s.complete("Once upon a time", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) full += e.text;
    return true;
  }, greedy(40));
  const size_t cut = full.find(' ', 20);
  REQUIRE(cut != std::string::npos);
  const std::string stop = full.substr(cut, 4);
  auto p = greedy(40);
  const char* stops[] = {stop.c_str()};
  p.stop = stops;
  p.n_stop = 1;
  std::string part;
  auto done = s.complete("Once upon a time", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) part += e.text;
    return true;
  }, p);
  CHECK(done.stop_reason == DIANOIA_STOP_STRING);
  CHECK(part == full.substr(0, full.find(stop)));
}

TEST_CASE("capi reasoning: TOKEN events carry ids and log-probabilities") {
  dianoia::model_params mp;
  mp.context_length = 256;
  dianoia::model m(stories(), mp);
  dianoia::session s(m);
  auto p = greedy(12);
  p.logprobs = 3;
  std::vector<int32_t> ids;
  std::string text;
  s.complete("Once upon a time", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_TOKEN) {
      ids.push_back(e.raw->token);
      CHECK(e.raw->n_top == 3);
      CHECK(e.raw->logprob <= 0.0f);
      // Greedy: the chosen token is the most likely one.
      CHECK(e.raw->top_tokens[0] == e.raw->token);
      CHECK(e.raw->top_logprobs[0] == doctest::Approx(e.raw->logprob));
      CHECK(e.raw->top_logprobs[1] <= e.raw->top_logprobs[0]);
      double mass = 0;
      for (size_t i = 0; i < e.raw->n_top; ++i) mass += std::exp(e.raw->top_logprobs[i]);
      CHECK(mass <= 1.0 + 1e-5);
    }
    if (e.type == DIANOIA_EVENT_CONTENT) text += e.text;
    return true;
  }, p);
  CHECK(ids.size() == 12);
  CHECK(m.detokenize(ids) == text);
}

TEST_CASE("capi reasoning: a custom sampler from the host picks the token") {
  dianoia::model_params mp;
  mp.context_length = 256;
  dianoia::model m(stories(), mp);
  dianoia::session s(m);
  // Any token will do: take the model's second choice after the prompt.
  int32_t second = -1;
  auto lp = greedy(1);
  lp.logprobs = 2;
  s.complete("Once upon a time", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_TOKEN) second = e.raw->top_tokens[1];
    return true;
  }, lp);
  REQUIRE(second >= 0);
  const std::vector<int32_t> want{second};
  struct host {
    int32_t id;
    int calls = 0, accepted = 0, resets = 0, calls_at_reset = -1;
  } h{want[0]};
  dianoia_sampler smp{};
  smp.struct_size = sizeof smp;
  smp.name = "always-cat";
  smp.user_data = &h;
  smp.picks = true;
  smp.apply = [](void* u, dianoia_candidate* c, size_t* n, int64_t* selected) {
    auto* st = static_cast<host*>(u);
    ++st->calls;
    for (size_t i = 0; i < *n; ++i)
      if (c[i].id == st->id) *selected = static_cast<int64_t>(i);
    return *selected >= 0 ? 0 : 1;
  };
  smp.accept = [](void* u, int32_t) { ++static_cast<host*>(u)->accepted; };
  smp.reset = [](void* u) {
    auto* st = static_cast<host*>(u);
    st->calls_at_reset = st->calls;
    ++st->resets;
  };
  auto p = dianoia_generate_default_params();
  p.max_tokens = 5;
  p.top_k = 0;  // no truncation: the host sees the whole vocabulary
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  const dianoia_sampler* stages[] = {&smp};
  p.custom_samplers = stages;
  p.n_custom_samplers = 1;
  std::string text;
  s.complete("Once upon a time", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) text += e.text;
    return true;
  }, p);
  // Five times the same piece (the first word keeps its leading space here: the prompt is not just BOS).
  REQUIRE(text.size() % 5 == 0);
  const std::string piece = text.substr(0, text.size() / 5);
  CHECK(text == piece + piece + piece + piece + piece);
  CHECK(piece.find(m.detokenize({second})) != std::string::npos);
  CHECK(h.calls == 5);
  CHECK(h.accepted == 5);
  CHECK(h.resets == 1);  // once, before the generation's first apply
  CHECK(h.calls_at_reset == 0);
  // A host sampler that misbehaves fails the generation with a message, not a crash.
  smp.apply = [](void*, dianoia_candidate*, size_t* n, int64_t*) {
    *n = 0;
    return 0;
  };
  CHECK_THROWS_AS(s.complete("Once", [](const dianoia::event&) { return true; }, p), dianoia::error);
}

TEST_CASE("capi reasoning: self-consistency over 5 samples on 5 arithmetic prompts reports votes") {
  dianoia::model m(smol());
  dianoia::session s(m);
  const char* prompts[] = {"What is 2+3? Answer with a number.", "What is 10-4? Answer with a number.",
                           "What is 6*7? Answer with a number.", "What is 9+9? Answer with a number.",
                           "What is 100/4? Answer with a number."};
  auto p = dianoia_generate_default_params();
  p.temperature = 0.7f;
  p.max_tokens = 24;
  p.reasoning = DIANOIA_REASONING_OFF;
  for (const char* q : prompts) {
    std::map<uint32_t, std::string> content;
    int dones = 0;
    auto v = s.chat_samples({{"user", q}}, 5, [&](const dianoia::event& e) {
      if (e.type == DIANOIA_EVENT_CONTENT) content[e.raw->sample_index] += e.text;
      if (e.type == DIANOIA_EVENT_DONE) ++dones;
      return true;
    }, p);
    CHECK(dones == 5);
    uint32_t counted = v.abstained;
    for (const auto& e : v.entries) counted += e.count;
    CHECK(counted == 5);
    std::string line = std::string(q) + " ->";
    for (const auto& e : v.entries) line += " '" + e.answer + "' x" + std::to_string(e.count);
    MESSAGE(line << (v.abstained ? " (abstained " + std::to_string(v.abstained) + ")" : ""));
  }
  // A host extractor decides what counts as the answer.
  auto v = s.chat_samples({{"user", prompts[0]}}, 3, [](const dianoia::event&) { return true; }, p,
                          [](std::string_view c) -> std::optional<std::string> { return std::string(c.substr(0, 1)); });
  uint32_t counted = v.abstained;
  for (const auto& e : v.entries) counted += e.count;
  CHECK(counted == 3);
}

TEST_CASE("capi reasoning: a conversation keeps its cache and its messages") {
  dianoia::model m(smol());
  dianoia::session s(m);
  dianoia::conversation c(s);
  c.add("system", "You are a concise assistant.");
  std::string a1, a2;
  auto d1 = c.send("Name a color.", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) a1 += e.text;
    return true;
  }, greedy(16));
  auto d2 = c.send("Name another one.", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) a2 += e.text;
    return true;
  }, greedy(16));
  CHECK(d1.prompt_reused == 0);
  CHECK(d2.prompt_reused > d1.prompt_tokens / 2);  // the first turn was not evaluated again
  auto msgs = c.messages();
  REQUIRE(msgs.size() == 5);
  CHECK(msgs[2].role == "assistant");
  CHECK(msgs[2].content == a1);
  CHECK(msgs[4].content == a2);
}

TEST_CASE("capi reasoning: a saved session continues with identical greedy tokens") {
  dianoia::model m(smol());
  const std::string path = "/tmp/dianoia_capi_test.session";
  dianoia::session a(m);
  a.complete("The capital of France is", [](const dianoia::event&) { return true; }, greedy(8));
  a.save(path);
  auto prompt = a.tokens();
  std::string ca, cb;
  a.complete(prompt, [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) ca += e.text;
    return true;
  }, greedy(16));
  dianoia::session b(m);
  b.load(path);
  auto done = b.complete(prompt, [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) cb += e.text;
    return true;
  }, greedy(16));
  CHECK(cb == ca);
  CHECK(done.prompt_reused == prompt.size() - 1);
  // Another model's session file is refused.
  dianoia::model_params mp;
  mp.context_length = 256;
  dianoia::model other(stories(), mp);
  dianoia::session o(other);
  CHECK_THROWS_AS(o.load(path), dianoia::error);
  std::remove(path.c_str());
}

TEST_CASE("capi: a session whose KV cache cannot fit is refused before allocating") {
  // Under the model's cap.
  auto mp = dianoia_model_default_params();
  mp.max_memory_bytes = 8u << 20;
  dianoia_model* m = nullptr;
  REQUIRE(dianoia_model_load(stories().c_str(), &mp, &m) == DIANOIA_OK);
  auto sp = dianoia_session_default_params();
  sp.context_length = 1u << 20;  // ~1.3 GB of f16 KV for this small model
  dianoia_session* s = nullptr;
  CHECK(dianoia_session_create(m, &sp, &s) == DIANOIA_ERR_OUT_OF_MEMORY);
  CHECK(s == nullptr);
  CHECK(std::string(dianoia_last_error()).find("session") != std::string::npos);
  sp.context_length = 256;
  CHECK(dianoia_session_create(m, &sp, &s) == DIANOIA_OK);
  dianoia_session_free(s);
  dianoia_model_free(m);
  // Without a cap, against the machine's available memory: 2^20 positions of f32 KV for SmolLM2 is ~45 GiB.
  dianoia::model big(smol());
  auto sp2 = dianoia_session_default_params();
  sp2.context_length = 1u << 20;
  sp2.kv_type = DIANOIA_KV_F32;
  CHECK(dianoia_session_create(big.get(), &sp2, &s) == DIANOIA_ERR_OUT_OF_MEMORY);
  MESSAGE(std::string(dianoia_last_error()));
}

TEST_CASE("capi: generation_config.json defaults and the reasoning family") {
  const std::string dir = dianoia::test::fixtures_dir() + "/roundtrip/tiny_llama_hf";
  dianoia::model hf(dir);
  auto p = dianoia_generate_default_params();
  p.temperature = 1.5f;
  REQUIRE(dianoia_model_apply_generation_defaults(hf.get(), &p) == DIANOIA_OK);
  CHECK(p.temperature == doctest::Approx(0.6f));
  CHECK(p.top_p == doctest::Approx(0.95f));
  CHECK(p.top_k == 20);
  // Its embedding has more rows than its tokenizer has tokens (HF pads them): those never come out.
  CHECK(hf.info().n_vocab > 0);
  dianoia::session s(hf);
  p.temperature = 2.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.max_tokens = 64;
  p.ignore_eos = true;
  p.logprobs = 0;
  int tokens = 0;
  s.complete("hi", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_TOKEN) {
      ++tokens;
      CHECK(e.raw->token < 311);
    }
    return true;
  }, p);
  CHECK(tokens == 64);
  // A GGUF has no generation_config: nothing changes.
  dianoia::model smol_m(smol());
  auto q = dianoia_generate_default_params();
  q.temperature = 1.5f;
  REQUIRE(dianoia_model_apply_generation_defaults(smol_m.get(), &q) == DIANOIA_OK);
  CHECK(q.temperature == 1.5f);
  CHECK(std::string(smol_m.info().reasoning_family) == "none");  // SmolLM2 has no thinking profile
  CHECK(dianoia_model_apply_generation_defaults(nullptr, &q) == DIANOIA_ERR_INVALID_ARGUMENT);
}

TEST_CASE("capi: the streaming detokenizer yields whole characters and adds up to detokenize") {
  dianoia::model m(smol());
  const std::string text = "Zoë 😀 中文, déjà vu!";
  const auto ids = m.tokenize(text);
  dianoia_detokenizer* d = nullptr;
  REQUIRE(dianoia_detokenizer_create(m.get(), false, &d) == DIANOIA_OK);
  std::string out;
  for (int32_t id : ids) {
    const char* t = nullptr;
    size_t n = 0;
    REQUIRE(dianoia_detokenizer_push(d, id, &t, &n) == DIANOIA_OK);
    const std::string piece(t, n);
    // Never the start of a character without its end.
    if (!piece.empty()) CHECK((static_cast<unsigned char>(piece.back()) & 0xC0) != 0xC0);
    out += piece;
  }
  const char* t = nullptr;
  size_t n = 0;
  REQUIRE(dianoia_detokenizer_flush(d, &t, &n) == DIANOIA_OK);
  out.append(t, n);
  CHECK(out == m.detokenize(ids));
  CHECK(out == text);
  CHECK(dianoia_detokenizer_push(d, 1 << 30, &t, &n) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(dianoia_detokenizer_push(nullptr, 1, &t, &n) == DIANOIA_ERR_INVALID_ARGUMENT);
  dianoia_detokenizer_free(d);
}
