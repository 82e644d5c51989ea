// End to end through the public C ABI and the C++ header: real models against independent references
// (run.c for stories260K, llama.cpp for SmolLM2).
#include <doctest/doctest.h>

#include <dianoia/dianoia.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "json.hpp"
#include "test_support.hpp"

using dianoia::test::json;

namespace {

dianoia_session_params exact_kv() {
  auto p = dianoia_session_default_params();
  p.kv_type = DIANOIA_KV_F32;  // the run.c reference is f32 throughout
  return p;
}

std::string stories_path() { return dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf"; }

json stories_ref() {
  return json::parse(dianoia::test::read_file(dianoia::test::data_dir() + "/models/stories260K/reference_outputs.json"));
}

dianoia_generate_params greedy(int n) {
  auto p = dianoia_generate_default_params();
  p.temperature = 0;
  p.max_tokens = n;
  return p;
}

struct collected {
  std::string content, reasoning;
  dianoia_event done{};
};

collected collect(dianoia::session& s, const std::vector<int32_t>& ids, const dianoia_generate_params& p) {
  collected c;
  c.done = s.complete(ids, [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) c.content += e.text;
    if (e.type == DIANOIA_EVENT_REASONING) c.reasoning += e.text;
    return true;
  }, p);
  return c;
}

}  // namespace

TEST_CASE("capi: stories260K greedy from BOS equals run.c (256 tokens, context overridden to 512)") {
  dianoia::model_params mp;
  mp.context_length = 512;
  dianoia::model m(stories_path(), mp);
  CHECK(m.info().context_length == 512);
  CHECK(m.info().context_length_train == 128);
  dianoia::session s(m, exact_kv());
  auto ref = stories_ref();
  const auto& g = ref["greedy_from_bos"];
  auto c = collect(s, g["prompt_ids"].as_vector(), greedy(256));
  CHECK(c.content == m.detokenize(g["generated_ids"].as_vector()));
  CHECK(c.done.content_tokens == 256);
  CHECK(c.done.stop_reason == DIANOIA_STOP_MAX_TOKENS);
}

TEST_CASE("capi: stories260K 'Once upon a time' and its encodings") {
  dianoia::model_params mp;
  mp.context_length = 512;
  dianoia::model m(stories_path(), mp);
  auto ref = stories_ref();
  const auto& o = ref["greedy_once_upon_a_time"];
  CHECK(m.tokenize("Once upon a time", true) == o["prompt_ids"].as_vector());
  dianoia::session s(m, exact_kv());
  std::string text;
  auto done = s.complete("Once upon a time", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) text += e.text;
    return true;
  }, greedy(static_cast<int>(o["generated_ids"].size())));
  CHECK(text == m.detokenize(o["generated_ids"].as_vector()));
  CHECK(done.prompt_tokens == o["prompt_ids"].size());
  const auto& enc = ref["encode"];
  for (size_t i = 0; i < enc.size(); ++i) {
    CAPTURE(enc[i]["text"].str);
    CHECK(m.tokenize(enc[i]["text"].str, true) == enc[i]["ids"].as_vector());
  }
}

TEST_CASE("capi: stories260K logits through the ABI match run.c within 1e-4") {
  dianoia::model_params mp;
  mp.context_length = 512;
  dianoia::model m(stories_path(), mp);
  dianoia::session s(m, exact_kv());
  auto ref = stories_ref();
  const auto& cases = ref["logits_greedy_from_bos_first_positions"];
  std::vector<int32_t> toks;
  for (size_t i = 0; i < cases.size(); ++i) toks.push_back(static_cast<int32_t>(cases[i]["input_token"].num));
  auto logits = s.eval_logits(toks, toks.size(), 512);
  for (size_t i = 0; i < cases.size(); ++i) {
    auto r = cases[i]["logits"].as_vector<float>();
    float err = 0;
    for (size_t v = 0; v < 512; ++v) err = std::max(err, std::fabs(logits[i * 512 + v] - r[v]));
    CHECK(err <= 1e-4f);
  }
}

namespace {

// Session parameters with llama.cpp's AVX2 arithmetic for prompt batches too (DIANOIA_NUMERICS_LLAMACPP).
dianoia_session_params llamacpp_numerics() {
  dianoia_session_params p = dianoia_session_default_params();
  p.numerics = DIANOIA_NUMERICS_LLAMACPP;
  return p;
}

}  // namespace

TEST_CASE("capi: SmolLM2-135M Q4_1 greedy continuations are llama.cpp's, token for token") {
  // With DIANOIA_NUMERICS_LLAMACPP, prompts and decode follow llama.cpp's AVX2 arithmetic bit for bit (q8
  // activations and its integer dots, its f16 flash attention, its vector exp in SwiGLU, its fused RoPE),
  // so the greedy choice is the same even at llama.cpp's own near-ties: no tolerance.
  const std::string path = dianoia::test::default_model_path();
  REQUIRE_MESSAGE(dianoia::test::file_exists(path), "default model missing: run scripts/fetch-default-model.sh");
  auto ref = json::parse(dianoia::test::read_file(dianoia::test::fixtures_dir() + "/smollm2_reference.json"));
  dianoia::model m(path);
  dianoia::session s(m, llamacpp_numerics());
  const auto& comps = ref["completions"];
  REQUIRE(comps.size() == 3);
  for (size_t i = 0; i < comps.size(); ++i) {
    const auto& c = comps[i];
    CAPTURE(c["prompt"].str);
    auto prompt = c["prompt_ids"].as_vector();
    CHECK(m.tokenize(c["prompt"].str, true) == prompt);
    const auto want = c["generated_ids"].as_vector();
    REQUIRE(want.size() == 64);
    // A real greedy generation; then compare its ids with llama.cpp's.
    std::string text;
    s.complete(c["prompt"].str, [&](const dianoia::event& e) {
      if (e.type == DIANOIA_EVENT_CONTENT) text += e.text;
      return true;
    }, greedy(static_cast<int>(want.size())));
    const auto all = s.tokens();
    REQUIRE(all.size() >= prompt.size());
    CHECK(std::vector<int32_t>(all.begin(), all.begin() + static_cast<long>(prompt.size())) == prompt);
    const std::vector<int32_t> got(all.begin() + static_cast<long>(prompt.size()), all.end());
    CHECK(text == m.detokenize(got));
    size_t agree = 0;
    while (agree < want.size() && agree < got.size() && got[agree] == want[agree]) ++agree;
    CAPTURE(agree);
    CHECK(got == want);
  }
  // The chat path: template rendering, special-token parsing, EOS at <|im_end|>.
  const auto& chat = ref["chat"];
  std::vector<dianoia::chat_message> msgs;
  for (size_t i = 0; i < chat["messages"].size(); ++i)
    msgs.push_back({chat["messages"][i]["role"].str, chat["messages"][i]["content"].str});
  CHECK(m.apply_chat_template(msgs) == chat["rendered"].str);
  std::string answer;
  auto done = s.chat(msgs, [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) answer += e.text;
    return true;
  }, greedy(64));
  CHECK(answer == chat["generated_text"].str);
  CHECK(done.stop_reason == DIANOIA_STOP_EOS);
  CHECK(done.prompt_tokens == chat["prompt_ids"].size());
}

namespace {

struct tf_stats {
  size_t agree = 0, total = 0, confident_disagree = 0;
  double max_top5_err = 0;  // |our logit - llama.cpp's| over its top 5 (its values are rounded to 1e-4)
};

// Each teacher-forced sequence (prompt + continuation, 64 tokens) evaluated as one batch, as llama.cpp did.
tf_stats teacher_forced(const json& ref, const dianoia_session_params& sp) {
  dianoia::model m(dianoia::test::default_model_path());
  const size_t n_vocab = m.info().n_vocab;
  dianoia::session s(m, sp);
  tf_stats st;
  const auto& tf = ref["teacher_forced"];
  for (size_t c = 0; c < tf.size(); ++c) {
    auto toks = tf[c]["tokens"].as_vector();
    auto want = tf[c]["argmax"].as_vector();
    auto lg = s.eval_logits(toks, toks.size(), n_vocab);
    for (size_t i = 0; i < toks.size(); ++i) {
      const float* l = &lg[i * n_vocab];
      int32_t best = 0;
      for (size_t v = 1; v < n_vocab; ++v)
        if (l[v] > l[best]) best = static_cast<int32_t>(v);
      const auto& top = tf[c]["top5"][i];
      for (size_t j = 0; j < top.size(); ++j)
        st.max_top5_err = std::max(st.max_top5_err, std::fabs(l[static_cast<size_t>(top[j][0].num)] - top[j][1].num));
      ++st.total;
      if (best == want[i]) ++st.agree;
      else if (top[0][1].num - top[1][1].num >= 0.5) ++st.confident_disagree;
    }
  }
  return st;
}

}  // namespace

TEST_CASE("capi: SmolLM2 top-1 agreement with llama.cpp over 5 prompts x 64 positions, llama.cpp-exact batches") {
  REQUIRE(dianoia::test::file_exists(dianoia::test::default_model_path()));
  auto ref = json::parse(dianoia::test::read_file(dianoia::test::fixtures_dir() + "/smollm2_reference.json"));
  // The reference logits come from one 64-token batch: with DIANOIA_NUMERICS_LLAMACPP that batch runs
  // llama.cpp's batch arithmetic (q8 dots per row, its tiled flash attention for >= 64 queries).
  const auto st = teacher_forced(ref, llamacpp_numerics());
  MESSAGE("exact batches: top-1 agreement " << st.agree << "/" << st.total << ", max |logit error| over llama.cpp's top 5: "
                                             << st.max_top5_err);
  CHECK(st.agree * 100 >= st.total * 99);  // issue 5's bar; measured: every position
  CHECK(st.confident_disagree == 0);
  CHECK(st.max_top5_err <= 6e-5);  // bit-identical logits, up to the fixture's 4-decimal rounding
}

TEST_CASE("capi: SmolLM2 teacher-forced top-1 with the default (int8 GEMM) prefill") {
  // The default prompt path multiplies batches through the int8 GEMM (same kind of activation
  // quantization as llama.cpp, another summation order): not llama.cpp's bits, so only its confident
  // choices must hold.
  REQUIRE(dianoia::test::file_exists(dianoia::test::default_model_path()));
  auto ref = json::parse(dianoia::test::read_file(dianoia::test::fixtures_dir() + "/smollm2_reference.json"));
  const auto st = teacher_forced(ref, dianoia_session_default_params());
  MESSAGE("default prefill: top-1 agreement " << st.agree << "/" << st.total << ", max |logit error| over llama.cpp's top 5: "
                                               << st.max_top5_err);
  CHECK(st.confident_disagree == 0);  // every disagreement is one of llama.cpp's near-ties
  CHECK(st.agree * 100 >= st.total * 90);
}

TEST_CASE("capi: a thinking prefix on the default model honours the reasoning budget") {
  const std::string path = dianoia::test::default_model_path();
  REQUIRE(dianoia::test::file_exists(path));
  dianoia::model m(path);
  dianoia::session s(m);
  auto p = greedy(200);
  p.reasoning = DIANOIA_REASONING_ON;
  p.max_reasoning_tokens = 16;
  std::string reasoning, content;
  auto done = s.chat({{"user", "What is 12 times 7?"}}, [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_REASONING) reasoning += e.text;
    if (e.type == DIANOIA_EVENT_CONTENT) content += e.text;
    return true;
  }, p);
  CHECK(done.reasoning_tokens <= 16);
  CHECK(!reasoning.empty());
  CHECK(!content.empty());
  CHECK(reasoning.find("<think>") == std::string::npos);
  CHECK(reasoning.find("</think>") == std::string::npos);
  CHECK(content.rfind("</think>", 0) == std::string::npos);  // the injected close tag is not shown
}

TEST_CASE("capi: cancel from another thread stops a running generation") {
  dianoia::model_params mp;
  mp.context_length = 512;
  dianoia::model m(stories_path(), mp);
  dianoia::session s(m);
  auto p = greedy(400);
  p.ignore_eos = true;
  int events = 0, after = 0;
  bool cancelled = false;
  auto done = s.complete(std::vector<int32_t>{1}, [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_DONE) return true;
    if (cancelled) ++after;
    if (++events == 20) {
      std::thread([&] { s.cancel(); }).join();
      cancelled = true;
    }
    return true;
  }, p);
  CHECK(done.stop_reason == DIANOIA_STOP_CANCELLED);
  CHECK(after == 0);
  // The next generation starts with the flag cleared.
  auto again = collect(s, {1}, greedy(5));
  CHECK(again.done.stop_reason == DIANOIA_STOP_MAX_TOKENS);
}

TEST_CASE("capi: session parameters max_isa and numerics are checked, and every level generates the same text") {
  dianoia_model* m = nullptr;
  REQUIRE(dianoia_model_load(stories_path().c_str(), nullptr, &m) == DIANOIA_OK);
  dianoia_session* s = nullptr;
  dianoia_session_params p = dianoia_session_default_params();
  p.max_isa = 7;
  CHECK(dianoia_session_create(m, &p, &s) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(dianoia_last_error()).find("max_isa") != std::string::npos);
  CHECK(s == nullptr);
  p.max_isa = -1;
  CHECK(dianoia_session_create(m, &p, &s) == DIANOIA_ERR_INVALID_ARGUMENT);
  p.max_isa = DIANOIA_ISA_AUTO;
  p.numerics = 2;
  CHECK(dianoia_session_create(m, &p, &s) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(dianoia_last_error()).find("numerics") != std::string::npos);
  dianoia_model_free(m);
  CHECK(std::string(dianoia_system_info()).find("int8 gemm: ") != std::string::npos);

  // stories260K: float weights and a tiny vocabulary, so every level (down to scalar) must give the
  // greedy text of the default level.
  dianoia::model_params mp;
  mp.context_length = 256;
  dianoia::model model(stories_path(), mp);
  std::string want;
  for (int32_t level : {DIANOIA_ISA_AUTO, DIANOIA_ISA_SCALAR, DIANOIA_ISA_AVX2, DIANOIA_ISA_AVX512_VNNI}) {
    dianoia_session_params sp = dianoia_session_default_params();
    sp.max_isa = level;
    dianoia::session sess(model, sp);
    std::string text;
    sess.complete(std::vector<int32_t>{1, 403, 407}, [&](const dianoia::event& e) {
      if (e.type == DIANOIA_EVENT_CONTENT) text += e.text;
      return true;
    }, greedy(24));
    CAPTURE(level);
    if (level == DIANOIA_ISA_AUTO) want = text;
    else CHECK(text == want);
  }
  CHECK(!want.empty());
}
