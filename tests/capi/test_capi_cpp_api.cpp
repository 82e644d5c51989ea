// The C++ header's own types: generate_params that owns its strings, host samplers as C++ classes, the
// streaming detokenizer.
#include <doctest/doctest.h>

#include <dianoia/dianoia.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

std::string stories() { return dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf"; }

std::string content_of(dianoia::session& s, const std::string& prompt, const dianoia_generate_params& p,
                       dianoia_event* done = nullptr) {
  std::string text;
  const dianoia_event d = s.complete(prompt, [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) text += e.text;
    return true;
  }, p);
  if (done) *done = d;
  return text;
}

// Built from temporaries only: every string it points to is its own.
dianoia::generate_params stop_at(const std::string& word) {
  dianoia::generate_params p;
  p->temperature = 0;
  p->max_tokens = 48;
  p.stop({std::string(word) + "", std::string("no such ") + "text"}).wrap_up_text(std::string("unused"));
  return p;
}

// Picks the candidate with this id whatever the chain thinks of it.
class pick : public dianoia::host_sampler {
 public:
  explicit pick(int32_t id) : host_sampler("pick", true), id_(id) {}
  void apply(candidates& c) override {
    ++calls;
    for (size_t i = 0; i < c.size; ++i)
      if (c[i].id == id_) c.selected = static_cast<int64_t>(i);
    if (c.selected < 0) throw std::runtime_error("pick: the token is not among the candidates");
  }
  void accept(int32_t token) override { accepted.push_back(token); }
  int calls = 0;
  std::vector<int32_t> accepted;

 private:
  int32_t id_;
};

}  // namespace

TEST_CASE("c++: generate_params owns its strings across copies and moves") {
  dianoia::model_params mp;
  mp.context_length = 256;
  dianoia::model m(stories(), mp);
  dianoia::session s(m);
  auto greedy = dianoia_generate_default_params();
  greedy.temperature = 0;
  greedy.max_tokens = 48;
  const std::string full = content_of(s, "Once upon a time", greedy);
  // A word from the middle of the greedy text becomes the stop string.
  const size_t at = full.find(' ', full.size() / 2);
  REQUIRE(at != std::string::npos);
  const std::string word = full.substr(at, full.find(' ', at + 1) - at);
  REQUIRE(word.size() > 1);

  dianoia::generate_params original = stop_at(word);
  dianoia::generate_params copy = original;
  CHECK(copy->stop != original->stop);
  CHECK(copy->stop[0] != original->stop[0]);
  CHECK(std::string(copy->stop[0]) == word);
  CHECK(copy->n_stop == 2);
  dianoia::generate_params moved = std::move(original);
  original = stop_at("unrelated");  // reassigning the moved-from object leaves the others alone
  CHECK(std::string(moved->wrap_up_text) == "unused");
  CHECK(std::string(moved->stop[0]) == word);

  for (const dianoia::generate_params* p : {&copy, &moved}) {
    dianoia_event done{};
    const std::string text = content_of(s, "Once upon a time", *p, &done);
    CHECK(done.stop_reason == DIANOIA_STOP_STRING);
    CHECK(std::string(done.stop_string, done.stop_string_len) == word);
    CHECK(text == full.substr(0, full.find(word)));
  }
  // Numeric fields are the C struct's; the conversion hands over exactly that struct.
  const dianoia_generate_params& c = copy;
  CHECK(&c == &copy.get());
  CHECK(c.max_tokens == 48);
}

TEST_CASE("c++: a host_sampler picks tokens, sees every pick, and its exception fails the generation") {
  dianoia::model_params mp;
  mp.context_length = 256;
  dianoia::model m(stories(), mp);
  dianoia::session s(m);
  // The model's second choice after the prompt.
  int32_t second = -1;
  auto lp = dianoia_generate_default_params();
  lp.temperature = 0;
  lp.max_tokens = 1;
  lp.logprobs = 2;
  s.complete("Once upon a time", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_TOKEN) second = e.raw->top_tokens[1];
    return true;
  }, lp);
  REQUIRE(second >= 0);

  auto picker = std::make_shared<pick>(second);
  dianoia::generate_params p;
  p->max_tokens = 4;
  p->top_k = 0;  // the whole vocabulary reaches the host
  p->top_p = 1.0f;
  p->min_p = 0.0f;
  p.add_sampler(picker);
  const dianoia::generate_params kept = p;  // the copy keeps the stage alive and points at it
  REQUIRE(kept->n_custom_samplers == 1);
  CHECK(kept->custom_samplers[0] == picker->table());
  const std::string text = content_of(s, "Once upon a time", kept);
  CHECK(picker->calls == 4);
  CHECK(picker->accepted == std::vector<int32_t>(4, second));
  // Four times the same piece (the first keeps its leading space: the prompt is not just BOS).
  REQUIRE(text.size() % 4 == 0);
  const std::string piece = text.substr(0, text.size() / 4);
  CHECK(text == piece + piece + piece + piece);
  CHECK(piece.find(m.detokenize({second})) != std::string::npos);
  CHECK(!picker->error());

  // A token no candidate has: apply throws, the generation fails with the library's error, and the
  // exception is kept.
  auto bad = std::make_shared<pick>(1 << 30);
  dianoia::generate_params q;
  q->max_tokens = 2;
  q.add_sampler(bad);
  try {
    content_of(s, "Once", q);
    FAIL("the generation should fail");
  } catch (const dianoia::error& e) {
    CHECK(e.status() == DIANOIA_ERR_INVALID_ARGUMENT);
    CHECK(std::string(e.what()).find("pick") != std::string::npos);
  }
  REQUIRE(bad->error());
  CHECK_THROWS_WITH_AS(std::rethrow_exception(bad->error()), "pick: the token is not among the candidates",
                       std::runtime_error);
  CHECK_THROWS_AS(q.add_sampler(nullptr), dianoia::error);
}

TEST_CASE("c++: the streaming detokenizer gives detokenize's text, one whole character at a time") {
  dianoia::model_params mp;
  mp.vocab_only = true;
  dianoia::model m(stories(), mp);
  const std::vector<int32_t> ids = m.tokenize("Héllo wörld, naïve café");
  dianoia::detokenizer d(m);
  std::string streamed;
  for (int32_t id : ids) {
    const std::string piece = d.push(id);
    // Never half a UTF-8 character: a piece does not end inside one.
    if (!piece.empty()) CHECK((static_cast<unsigned char>(piece.back()) & 0xC0) != 0xC0);
    streamed += piece;
  }
  streamed += d.flush();
  CHECK(streamed == m.detokenize(ids));
  CHECK_THROWS_AS(d.push(1 << 30), dianoia::error);
}
