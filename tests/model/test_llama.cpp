// The llama forward pass against independent references: Karpathy's run.c on stories260K (f32).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "gguf/gguf.hpp"
#include "json.hpp"
#include "model/attention.hpp"
#include "model/registry.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
using dianoia::test::json;

namespace {

struct stories {
  std::unique_ptr<gguf::file> file;
  std::unique_ptr<model> net;
  json ref;
  stories() {
    const std::string dir = dianoia::test::data_dir() + "/models/stories260K/";
    file = gguf::file::open(dir + "stories260K.gguf");
    net = create_model(*file);
    ref = json::parse(dianoia::test::read_file(dir + "reference_outputs.json"));
  }
};

int32_t argmax(const float* x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return static_cast<int32_t>(best);
}

// Greedy decoding one token at a time, as run.c does.
std::vector<int32_t> greedy(const model& net, forward_state& st, std::vector<int32_t> prompt, size_t steps) {
  std::vector<float> logits(net.hp().n_vocab);
  std::vector<int32_t> out;
  uint32_t pos = 0;
  int32_t tok = prompt[0];
  for (size_t i = 0; i < steps + prompt.size() - 1 && pos < st.n_ctx(); ++i) {
    const int32_t one[1] = {tok};
    net.forward(st, one, pos++, logits.data(), false);
    if (pos < prompt.size()) {
      tok = prompt[pos];
    } else {
      tok = argmax(logits.data(), logits.size());
      out.push_back(tok);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("llama: stories260K hyper-parameters") {
  stories s;
  const auto& hp = s.net->hp();
  CHECK(hp.n_embd == 64);
  CHECK(hp.n_layer == 5);
  CHECK(hp.n_head == 8);
  CHECK(hp.n_head_kv == 4);
  CHECK(hp.n_ff == 172);
  CHECK(hp.n_vocab == 512);
}

TEST_CASE("llama: stories260K logits at positions 0-3 match run.c within 1e-4") {
  stories s;
  auto st = s.net->new_state(512, 1, true);
  const auto& cases = s.ref["logits_greedy_from_bos_first_positions"];
  std::vector<int32_t> toks;
  for (size_t i = 0; i < cases.size(); ++i) toks.push_back(static_cast<int32_t>(cases[i]["input_token"].num));
  // All positions in one batch (prefill path) ...
  std::vector<float> all(toks.size() * 512);
  s.net->forward(*st, toks, 0, all.data(), true);
  // ... and one at a time (decode path) must both match.
  auto st2 = s.net->new_state(512, 2, true);
  std::vector<float> one(512);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto ref = cases[i]["logits"].as_vector<float>();
    REQUIRE(ref.size() == 512);
    s.net->forward(*st2, std::span<const int32_t>(&toks[i], 1), static_cast<uint32_t>(i), one.data(), false);
    float max_err_batch = 0, max_err_step = 0;
    for (size_t v = 0; v < 512; ++v) {
      max_err_batch = std::max(max_err_batch, std::fabs(all[i * 512 + v] - ref[v]));
      max_err_step = std::max(max_err_step, std::fabs(one[v] - ref[v]));
    }
    CAPTURE(i);
    CHECK(max_err_batch <= 1e-4f);
    CHECK(max_err_step <= 1e-4f);
  }
}

TEST_CASE("llama: stories260K greedy continuations equal run.c's") {
  stories s;
  // The file says context 128, the model was trained with 512 and the reference runs 256 steps.
  auto st = s.net->new_state(512, 2, true);
  const auto& g = s.ref["greedy_from_bos"];
  CHECK(greedy(*s.net, *st, g["prompt_ids"].as_vector(), 256) == g["generated_ids"].as_vector());
  const auto& o = s.ref["greedy_once_upon_a_time"];
  auto expected = o["generated_ids"].as_vector();
  auto got = greedy(*s.net, *st, o["prompt_ids"].as_vector(), expected.size());
  CHECK(got == expected);
}

TEST_CASE("llama: context overflow and bad ids are errors") {
  stories s;
  auto st = s.net->new_state(4, 1, true);
  std::vector<float> logits(512);
  std::vector<int32_t> five = {1, 2, 3, 4, 5};
  CHECK_THROWS_WITH_AS(s.net->forward(*st, five, 0, logits.data(), false), doctest::Contains("context"), error);
  std::vector<int32_t> bad = {1, 9999};
  CHECK_THROWS_WITH_AS(s.net->forward(*st, bad, 0, logits.data(), false), doctest::Contains("outside the vocabulary"), error);
}

TEST_CASE("llama: an unknown architecture is named") {
  // Rewrite general.architecture in a copy of the file to a name of the same length.
  auto bytes = dianoia::test::read_file(dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf");
  auto at = bytes.find("llama");
  REQUIRE(at != std::string::npos);
  bytes.replace(at, 5, "xyzzy");
  auto f = gguf::file::parse(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  if (f->get_string("general.architecture") == "xyzzy")
    CHECK_THROWS_WITH_AS(create_model(*f), doctest::Contains("unknown model architecture 'xyzzy'"), error);
}

TEST_CASE("attention: the F16C kernel gives the scalar reference's bits") {
  // Random-ish q, k, v with a long context; both implementations must agree exactly.
  const int64_t hd = 64, stride = 3 * hd, len = 300;
  std::vector<float> q(hd), out_a(hd), out_b(hd), scratch(2 * hd);
  std::vector<uint16_t> k(len * stride), v(len * stride);
  uint32_t state = 12345;
  auto rnd = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(state >> 8) / 16777216.0f * 2.0f - 1.0f;
  };
  for (auto& x : q) x = rnd() * 3;
  for (size_t i = 0; i < k.size(); ++i) {
    k[i] = f32_to_fp16(rnd());
    v[i] = f32_to_fp16(rnd());
  }
  attn::attend_f16(q.data(), k.data() + hd, v.data() + hd, stride, len, hd, 0.125f, scratch.data(), out_a.data());
  attn::attend_f16_ref(q.data(), k.data() + hd, v.data() + hd, stride, len, hd, 0.125f, scratch.data(), out_b.data());
  for (int64_t j = 0; j < hd; ++j) CHECK(out_a[j] == out_b[j]);
  // And both are attention: close to the f32 computation on the same (rounded) values.
  std::vector<float> kf(k.size()), vf(v.size()), scores(len), out_c(hd);
  for (size_t i = 0; i < k.size(); ++i) {
    kf[i] = fp16_to_f32(k[i]);
    vf[i] = fp16_to_f32(v[i]);
  }
  attn::attend_f32(q.data(), kf.data() + hd, vf.data() + hd, stride, len, hd, 0.125f, scores.data(), out_c.data());
  for (int64_t j = 0; j < hd; ++j) CHECK(out_a[j] == doctest::Approx(out_c[j]).epsilon(0.01));
}
