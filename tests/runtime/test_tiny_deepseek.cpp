// DeepSeek-V2/V3 (multi-head latent attention, DeepSeek MoE, YaRN) on tiny random models against
// transformers' float32 logits, from tests/fixtures/tiny_deepseek (tools/make_deepseek_models.py):
// prompt batches (chunks of 16 tokens or more expand K/V per head; shorter ones and token-by-token
// decode use the absorbed form over the latent cache), the KV bytes per token, GGUF twins, the fp8
// form of the V3 model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf.hpp"
#include "core/error.hpp"
#include "json.hpp"
#include "model/hparams_gguf.hpp"
#include "model/kv_cache.hpp"
#include "model/moe_routing.hpp"
#include "model/registry.hpp"
#include "runtime/hf_weights.hpp"
#include "runtime/memory_budget.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
using dianoia::test::json;

namespace {

std::string ds_dir() { return dianoia::test::fixtures_dir() + "/tiny_deepseek"; }

const json& manifest() {
  static const json m = json::parse(dianoia::test::read_file(ds_dir() + "/manifest.json"));
  return m;
}

struct loaded {
  hparams hp;
  std::unique_ptr<safetensors::tensor_set> weights;
  std::unique_ptr<model> net;
};

loaded load(const std::string& name) {
  loaded l;
  const std::string dir = ds_dir() + "/" + name;
  l.hp = read_hf_config(dir);
  l.weights = open_hf_weights(dir, l.hp);
  l.weights->materialize();
  l.net = create_model(l.hp, *l.weights);
  return l;
}

// Every position's logits: the whole sequence in one forward() call (batch == n), or the first `batch`
// tokens in one call and then one token per call.
std::vector<float> run(const model& net, const std::vector<int32_t>& ids, size_t batch, bool f32_kv) {
  auto st = net.new_state(256, 2, f32_kv);
  const size_t V = net.hp().n_vocab;
  std::vector<float> out(ids.size() * V);
  net.forward(*st, std::span<const int32_t>(ids.data(), batch), 0, out.data(), true);
  for (size_t i = batch; i < ids.size(); ++i)
    net.forward(*st, std::span<const int32_t>(&ids[i], 1), static_cast<uint32_t>(i), &out[i * V], false);
  return out;
}

float max_err(const std::vector<float>& all, size_t V, const std::vector<size_t>& pos, const json& ref) {
  REQUIRE(pos.size() == ref.arr.size());
  float e = 0;
  for (size_t k = 0; k < pos.size(); ++k) {
    const auto row = ref.arr[k].as_vector<float>();
    REQUIRE(row.size() == V);
    for (size_t v = 0; v < V; ++v) e = std::max(e, std::fabs(all[pos[k] * V + v] - row[v]));
  }
  return e;
}

float max_err_rows(const json& a, const json& b) {
  float e = 0;
  for (size_t k = 0; k < a.arr.size(); ++k) {
    const auto x = a.arr[k].as_vector<float>(), y = b.arr[k].as_vector<float>();
    for (size_t v = 0; v < x.size(); ++v) e = std::max(e, std::fabs(x[v] - y[v]));
  }
  return e;
}

const char* k_seqs[] = {"1", "7", "64", "200"};

// A tensor_source without one of another's tensors.
class hiding_source final : public tensor_source {
 public:
  hiding_source(const tensor_source& base, std::string hidden) : base_(base), hidden_(std::move(hidden)) {
    for (const auto& t : base.all_tensors())
      if (t.name != hidden_) kept_.push_back(t);
  }
  const std::string& source_name() const override { return base_.source_name(); }
  const tensor_view* find_tensor(std::string_view name) const override {
    return name == hidden_ ? nullptr : base_.find_tensor(name);
  }
  std::span<const tensor_view> all_tensors() const override { return kept_; }

 private:
  const tensor_source& base_;
  std::string hidden_;
  std::vector<tensor_view> kept_;
};

}  // namespace

TEST_CASE("deepseek2: tiny V3 and V2 models match transformers within 1e-4, prefill and token by token") {
  for (const auto& m : manifest()["models"].arr) {
    const std::string name = m["name"].str;
    CAPTURE(name);
    const loaded l = load(name);
    CHECK(l.hp.arch == "deepseek2");
    CHECK(l.hp.mla.q_lora_rank == m["q_lora_rank"].num);
    const size_t V = l.net->hp().n_vocab;
    const json ref = json::parse(dianoia::test::read_file(ds_dir() + "/" + name + "/reference_hf.json"))["logits"];
    float worst = 0, worst_steps = 0;
    for (const char* n : k_seqs) {
      CAPTURE(n);
      const auto ids = manifest()["sequences"][n].as_vector();
      const auto pos = manifest()["positions"][n].as_vector<size_t>();
      const float e = max_err(run(*l.net, ids, ids.size(), true), V, pos, ref[n]);
      CHECK(e <= 1e-4f);
      worst = std::max(worst, e);
      // Decode: one token per call after the first, over the latent cache.
      const float es = max_err(run(*l.net, ids, 1, true), V, pos, ref[n]);
      CHECK(es <= 1e-4f);
      worst_steps = std::max(worst_steps, es);
    }
    // A prompt in two chunks: the second expands K/V over the first's cached latents too.
    {
      const auto ids = manifest()["sequences"]["200"].as_vector();
      auto st = l.net->new_state(256, 2, true);
      std::vector<float> out(ids.size() * V);
      l.net->forward(*st, std::span<const int32_t>(ids.data(), 120), 0, out.data(), true);
      l.net->forward(*st, std::span<const int32_t>(ids.data() + 120, 80), 120, &out[120 * V], true);
      CHECK(max_err(out, V, manifest()["positions"]["200"].as_vector<size_t>(), ref["200"]) <= 1e-4f);
    }
    // The default f16 cache: the latent rounded to half precision.
    const auto ids = manifest()["sequences"]["64"].as_vector();
    const float e16 = max_err(run(*l.net, ids, 1, false), V, manifest()["positions"]["64"].as_vector<size_t>(), ref["64"]);
    CHECK(e16 <= 0.05f);
    MESSAGE(name << ": max |dianoia - transformers| prefill " << worst << ", token by token " << worst_steps
                 << ", f16 cache " << e16);
  }
}

// The same weights as llama.cpp's deepseek2 GGUF layout (stacked 3-D experts; ds_v3 with a fused
// attn_kv_b and per-head key/value lengths, ds_v2 with split attn_k_b/attn_v_b and the MLA keys).
TEST_CASE("deepseek2: the F32 GGUF twins give transformers' logits too") {
  for (const auto& m : manifest()["models"].arr) {
    const std::string name = m["name"].str;
    CAPTURE(name);
    auto f = gguf::file::open(ds_dir() + "/" + name + "/" + m["gguf"].str);
    const loaded hf = load(name);
    // GGUF keeps only mscale_all_dim (as 0.1 x it, yarn_log_multiplier) and llama.cpp takes mscale to be
    // equal, as in DeepSeek-V3's own config; ds_v3's config sets them apart (1.0 and 0.8) so that the
    // Hugging Face path shows both terms. The file cannot say so: the test supplies mscale.
    hparams ghp = hparams_from_gguf(*f);
    CHECK(ghp.scaling.yarn_mscale_all_dim == doctest::Approx(hf.hp.scaling.yarn_mscale_all_dim));
    ghp.scaling.yarn_mscale = hf.hp.scaling.yarn_mscale;
    auto net = create_model(ghp, *f);
    const auto& a = net->hp();
    const auto& b = hf.net->hp();
    CHECK(a.mla.q_lora_rank == b.mla.q_lora_rank);
    CHECK(a.mla.kv_lora_rank == b.mla.kv_lora_rank);
    CHECK(a.mla.qk_nope_head_dim == b.mla.qk_nope_head_dim);
    CHECK(a.mla.v_head_dim == b.mla.v_head_dim);
    CHECK(a.moe.n_expert == b.moe.n_expert);
    CHECK(a.moe.n_layer_dense_lead == b.moe.n_layer_dense_lead);
    CHECK(a.moe.sigmoid_gating == b.moe.sigmoid_gating);
    CHECK(a.rope == b.rope);
    const size_t V = a.n_vocab;
    const json ref = json::parse(dianoia::test::read_file(ds_dir() + "/" + name + "/reference_hf.json"))["logits"];
    float worst = 0;
    for (const char* n : {"7", "64", "200"}) {
      const auto ids = manifest()["sequences"][n].as_vector();
      const auto pos = manifest()["positions"][n].as_vector<size_t>();
      const float e = std::max(max_err(run(*net, ids, ids.size(), true), V, pos, ref[n]),
                               max_err(run(*net, ids, 1, true), V, pos, ref[n]));
      CHECK(e <= 1e-4f);
      worst = std::max(worst, e);
    }
    MESSAGE(m["gguf"].str << ": max |dianoia - transformers| " << worst);
  }
}

// Q8_0 files (gguf-py's quantizer, llama.cpp's reference Q8_0; rows of 16 values stay F32) against
// transformers run on the very weights the file rounds to: what remains is the runtime's own rounding of
// activations to q8 blocks (decode, as llama.cpp does) or the int8 GEMM's (prompts). That is one 8-bit
// rounding of one operand of the same products as the weights' rounding, so it may move the logits about
// as far: the bound is twice the weights' own effect (reference_hf_q8_0 against reference_hf).
TEST_CASE("deepseek2: Q8_0 GGUFs against transformers on the same rounded weights") {
  for (const auto& m : manifest()["models"].arr) {
    const std::string name = m["name"].str;
    CAPTURE(name);
    auto f = gguf::file::open(ds_dir() + "/" + name + "/" + m["gguf_q8_0"].str);
    hparams ghp = hparams_from_gguf(*f);
    ghp.scaling.yarn_mscale = read_hf_config(ds_dir() + "/" + name).scaling.yarn_mscale;  // as above
    auto net = create_model(ghp, *f);
    const size_t V = net->hp().n_vocab;
    const json ref = json::parse(dianoia::test::read_file(ds_dir() + "/" + name + "/reference_hf_q8_0.json"))["logits"];
    const json ref32 = json::parse(dianoia::test::read_file(ds_dir() + "/" + name + "/reference_hf.json"))["logits"];
    float weights_effect = 0, prefill = 0, decode = 0;
    for (const char* n : {"7", "64", "200"}) {
      const auto ids = manifest()["sequences"][n].as_vector();
      const auto pos = manifest()["positions"][n].as_vector<size_t>();
      const auto a = run(*net, ids, ids.size(), false), b = run(*net, ids, 1, false);
      prefill = std::max(prefill, max_err(a, V, pos, ref[n]));
      decode = std::max(decode, max_err(b, V, pos, ref[n]));
      for (size_t k = 0; k < pos.size(); ++k) {
        const auto x = ref[n].arr[k].as_vector<float>(), y = ref32[n].arr[k].as_vector<float>();
        for (size_t v = 0; v < V; ++v) weights_effect = std::max(weights_effect, std::fabs(x[v] - y[v]));
      }
    }
    CHECK(prefill <= 2 * weights_effect);
    CHECK(decode <= 2 * weights_effect);
    MESSAGE(name << " Q8_0 (f16 cache): max |dianoia - transformers on the rounded weights| prefill " << prefill
                 << ", decode " << decode << "; the weights' rounding itself moves the logits by " << weights_effect);
  }
}

// llama.cpp's logits for the same GGUF files (tools/make_deepseek_models.py llamacpp: llama-cpp-python
// 0.3.36, f16 KV cache, whole sequence in one batch and one token per call; CI has no llama.cpp, so
// reference_llamacpp.json holds its numbers, beside transformers' logits for the weights the file holds).
// Both runtimes read the file alone, so ds_v3's mscale is the file's (= mscale_all_dim) in all three.
// The files: F32, gguf-py's Q8_0, and llama.cpp's own Q4_K_M (whose 32-wide rows fall back to
// q5_0/q5_1/f16).
TEST_CASE("deepseek2: the GGUFs give llama.cpp's logits") {
  for (const auto& m : manifest()["models"].arr) {
    const std::string name = m["name"].str;
    const json lc = json::parse(dianoia::test::read_file(ds_dir() + "/" + name + "/reference_llamacpp.json"))["files"];
    for (const auto& [file, ref] : lc.obj) {
      CAPTURE(file);
      auto f = gguf::file::open(ds_dir() + "/" + name + "/" + file);
      auto net = create_model(hparams_from_gguf(*f), *f);
      const size_t V = net->hp().n_vocab;
      const bool f32 = file.find(".F32.") != std::string::npos;
      float vs_lc[2] = {0, 0}, vs_hf[2] = {0, 0}, lc_hf[2] = {0, 0};
      size_t agree = 0, clear = 0, agree_all = 0, clear_all = 0;
      for (int mode = 0; mode < 2; ++mode) {
        const char* mname = mode == 0 ? "prefill" : "decode";
        for (const char* n : k_seqs) {
          CAPTURE(n);
          const auto ids = manifest()["sequences"][n].as_vector();
          const auto pos = manifest()["positions"][n].as_vector<size_t>();
          const json& rows = ref[mname][n];
          const auto out = run(*net, ids, mode == 0 ? ids.size() : 1, false);
          vs_lc[mode] = std::max(vs_lc[mode], max_err(out, V, pos, rows));
          vs_hf[mode] = std::max(vs_hf[mode], max_err(out, V, pos, ref["transformers"][n]));
          const float lc_seq = max_err_rows(rows, ref["transformers"][n]);
          lc_hf[mode] = std::max(lc_hf[mode], lc_seq);
          for (size_t k = 0; k < pos.size(); ++k) {
            auto row = rows.arr[k].as_vector<float>();
            const size_t top = static_cast<size_t>(std::max_element(row.begin(), row.end()) - row.begin());
            const float best = row[top];
            row[top] = -INFINITY;
            if (best - *std::max_element(row.begin(), row.end()) < 0.5f) continue;
            const float* o = &out[pos[k] * V];
            const bool same = static_cast<size_t>(std::max_element(o, o + V) - o) == top;
            ++clear_all;
            agree_all += same;
            // A sequence where llama.cpp lands a whole logit away from transformers took another expert
            // somewhere (see below); its top-1 is not the model's to agree with.
            if (lc_seq > 1.0f) continue;
            ++clear;
            agree += same;
          }
        }
      }
      CHECK(agree == clear);
      if (f32) {
        CHECK(vs_lc[0] <= 0.02f);  // the f16 latent cache's rounding, summed in different orders
        CHECK(vs_lc[1] <= 0.02f);
      }
      // As close to transformers as llama.cpp is (the dense models' rule, tests/model/test_tiny_models).
      CHECK(vs_hf[0] <= 1.25f * lc_hf[0] + 0.01f);
      CHECK(vs_hf[1] <= 1.25f * lc_hf[1] + 0.01f);
      MESSAGE(name << " " << file << ": max |dianoia - llama.cpp| prefill " << vs_lc[0] << ", decode " << vs_lc[1]
                   << "; top-1 agrees at " << agree_all << "/" << clear_all << " positions with a llama.cpp margin"
                   << " >= 0.5 (" << agree << "/" << clear << " outside sequences where llama.cpp routes"
                   << " differently); from transformers on the file's weights: dianoia " << vs_hf[0] << " / "
                   << vs_hf[1] << ", llama.cpp " << lc_hf[0] << " / " << lc_hf[1]);
    }
  }
}

TEST_CASE("deepseek2: the KV cache holds kv_lora_rank + qk_rope_head_dim values per token and layer") {
  for (const auto& m : manifest()["models"].arr) {
    const loaded l = load(m["name"].str);
    const auto& hp = l.net->hp();
    const size_t per_layer = size_t{hp.mla.kv_lora_rank} + hp.mla.qk_rope_head_dim;
    CHECK(per_layer == m["kv_lora_rank"].num + m["qk_rope_head_dim"].num);
    for (bool f32 : {true, false}) {
      auto st = l.net->new_state(64, 1, f32);
      const size_t elem = f32 ? sizeof(float) : 2;
      const size_t want = size_t{hp.n_layer} * per_layer * elem;
      CHECK(st->kv_bytes(1) == want);
      CHECK(st->kv_bytes(10) == 10 * want);
      CHECK(estimate_kv_bytes(hp, 10, f32) == 10 * want);
      MESSAGE(m["name"].str << ": " << want << " KV bytes per token (" << hp.n_layer << " layers x " << per_layer
                            << " x " << elem << "); full multi-head K and V would be "
                            << size_t{hp.n_layer} * hp.n_head * (hp.mla.qk_nope_head_dim + hp.mla.qk_rope_head_dim + hp.mla.v_head_dim) * elem);
    }
  }
}

TEST_CASE("deepseek2: a session file round trip continues as if never interrupted") {
  const loaded l = load("ds_v3");
  const auto ids = manifest()["sequences"]["64"].as_vector();
  const size_t V = l.net->hp().n_vocab;
  auto a = l.net->new_state(128, 2, true);
  std::vector<float> la(V), lb(V);
  l.net->forward(*a, std::span<const int32_t>(ids.data(), 40), 0, la.data(), false);
  std::vector<uint8_t> bytes(a->kv_bytes(40));
  a->kv_save(40, bytes.data());
  auto b = l.net->new_state(128, 2, true);
  b->kv_load(40, bytes.data());
  l.net->forward(*a, std::span<const int32_t>(&ids[40], 5), 40, la.data(), false);
  l.net->forward(*b, std::span<const int32_t>(&ids[40], 5), 40, lb.data(), false);
  CHECK(la == lb);
}

// The loader turns e4m3 x block scale into bf16 exactly as the reference's weights were made, so the
// remaining difference is the matmuls': BF16 weights meet activations rounded to bf16 where llama.cpp
// rounds them (one-row products, e.g. an expert that gets one token), ~2e-3 here; on a CPU with AVX-512
// BF16 prompt batches go through oneDNN's bf16 matmul, which rounds their activations too (as llama.cpp's
// BF16 GEMM does): ~0.07. The fp8 rounding of the weights itself moves the logits by ~4.5 (ds_v3 against
// ds_v3_fp8); the bound is far below that.
TEST_CASE("deepseek2: fp8 e4m3 weights with 128x128 block scales") {
  const loaded l = load("ds_v3_fp8");
  CHECK(l.weights->n_repacked() > 0);
  const size_t V = l.net->hp().n_vocab;
  const json ref = json::parse(dianoia::test::read_file(ds_dir() + "/ds_v3_fp8/reference_hf.json"))["logits"];
  const json ref32 = json::parse(dianoia::test::read_file(ds_dir() + "/ds_v3/reference_hf.json"))["logits"];
  float worst = 0, fp8_effect = 0;
  for (const char* n : {"7", "64"}) {
    const auto ids = manifest()["sequences"][n].as_vector();
    const auto pos = manifest()["positions"][n].as_vector<size_t>();
    const auto out = run(*l.net, ids, ids.size(), true);
    const float e = max_err(out, V, pos, ref[n]);
    CHECK(e <= 0.15f);
    worst = std::max(worst, e);
    fp8_effect = std::max(fp8_effect, max_err(out, V, pos, ref32[n]));
  }
  CHECK(fp8_effect > 25 * worst);
  MESSAGE("ds_v3_fp8: max |dianoia - transformers on the dequantized weights| " << worst
          << "; fp8 rounding itself moves the logits by " << fp8_effect);
}

TEST_CASE("deepseek2 routing: V3 group-limited top-k, bias for selection only, normalised and scaled") {
  moe_params p;
  p.n_expert = 8;
  p.n_expert_used = 2;
  p.n_expert_groups = 2;
  p.n_group_used = 1;
  p.sigmoid_gating = true;
  p.norm_topk_prob = true;
  p.routed_scaling = 2.5f;
  p.group_scoring = expert_group_scoring::top2_sum;
  p.scale_normalized = true;
  // Group 0 holds the single best expert (3), group 1 the better pair (4, 5): group 1 wins on its sum.
  const float logits[8] = {-3, -3, -3, 4, 2.5f, 2.5f, -3, -3};
  std::vector<float> scratch;
  uint32_t ids[2];
  float w[2];
  route_token(p, logits, {}, ids, w, scratch);
  std::sort(ids, ids + 2);
  CHECK(ids[0] == 4);
  CHECK(ids[1] == 5);
  CHECK(w[0] + w[1] == doctest::Approx(2.5f));
  // A bias moves the choice but not the weights: expert 6 chosen, weighted by its unbiased score.
  const float bias[8] = {0, 0, 0, 0, 0, 0, 2, 0};
  route_token(p, logits, bias, ids, w, scratch);
  const float s5 = 1 / (1 + std::exp(-2.5f)), s6 = 1 / (1 + std::exp(3.0f));
  const uint32_t first = ids[0];
  CHECK(((ids[0] == 6 && (ids[1] == 4 || ids[1] == 5)) || (ids[1] == 6 && (first == 4 || first == 5))));
  const float w6 = ids[0] == 6 ? w[0] : w[1];
  CHECK(w6 == doctest::Approx(2.5f * s6 / (s5 + s6)));
  // V2: softmax scores, scaled, not normalised.
  p.sigmoid_gating = false;
  p.norm_topk_prob = false;
  p.scale_normalized = false;
  p.group_scoring = expert_group_scoring::none;
  p.routed_scaling = 2.0f;
  route_token(p, logits, {}, ids, w, scratch);
  CHECK(ids[0] == 3);
  double z = 0;
  for (float x : logits) z += std::exp(x);
  CHECK(w[0] == doctest::Approx(2.0 * std::exp(4.0) / z));
}

TEST_CASE("deepseek2: a missing or misshapen weight is named, never run") {
  auto f = gguf::file::open(ds_dir() + "/ds_v2/ds_v2.F32.gguf");
  const hparams hp = hparams_from_gguf(*f);
  CHECK_THROWS_WITH_AS(create_model(hp, hiding_source(*f, "blk.0.attn_v_b.weight")),
                       doctest::Contains("attn_kv_b.weight' is missing"), dianoia::detail::error);
  CHECK_THROWS_WITH_AS(create_model(hp, hiding_source(*f, "blk.1.ffn_up_exps.weight")),
                       doctest::Contains("blk.1.ffn_up_exps.weight' is missing"), dianoia::detail::error);
  CHECK_THROWS_WITH_AS(create_model(hp, hiding_source(*f, "blk.1.attn_kv_a_mqa.weight")),
                       doctest::Contains("attn_kv_a_mqa.weight"), dianoia::detail::error);
  hparams bad = hp;
  bad.moe.n_expert = 16;  // the file stacks 8; the load-time shape checks (shape_checks) name it first
  CHECK_THROWS_WITH_AS(create_model(bad, *f), doctest::Contains("expert count: GGUF 'deepseek2.expert_count' = 16"),
                       dianoia::detail::error);
  bad = hp;
  bad.moe.n_ff_expert = 32;  // the router fits; the experts do not
  CHECK_THROWS_WITH_AS(create_model(bad, *f), doctest::Contains("expert FFN size: GGUF 'deepseek2.expert_feed_forward_length' = 32"),
                       dianoia::detail::error);
  bad = hp;
  bad.mla.kv_lora_rank = 0;
  CHECK_THROWS_WITH_AS(create_model(bad, *f), doctest::Contains("blk.0.attn_output.weight"), dianoia::detail::error);
  // HF form: one expert of the per-expert tensors missing.
  const loaded l = load("ds_v3");
  CHECK_THROWS_WITH_AS(create_model(l.hp, hiding_source(*l.weights, "blk.2.ffn_down_exps.5.weight")),
                       doctest::Contains("blk.2.ffn_down_exps.5.weight' is missing"), dianoia::detail::error);
}

// Several sequences over one shared prompt (self-consistency samples): a pass of forward_batch gives
// each token the bits it gets when its sequence decodes alone (short passes multiply row by row), also
// with several tokens of one sequence in a pass; a kept sequence continues through forward().
TEST_CASE("deepseek2: forward_batch decodes each sequence as it decodes alone") {
  const loaded hf = load("ds_v3");
  auto f = gguf::file::open(ds_dir() + "/ds_v2/ds_v2.Q8_0.gguf");
  auto q8 = create_model(hparams_from_gguf(*f), *f);
  const auto ids = manifest()["sequences"]["200"].as_vector();
  const uint32_t P = 20, S = 3, steps = 6;
  auto tok = [&](uint32_t seq, uint32_t k) { return ids[P + 40 * seq + k]; };  // sequence seq's k-th own token
  for (const model* net : {hf.net.get(), q8.get()}) {
    for (bool f32 : {true, false}) {
      CAPTURE(f32);
      const size_t V = net->hp().n_vocab;
      // Alone: the prompt, then each sequence's tokens one per call.
      std::vector<std::vector<float>> alone(S, std::vector<float>((steps + 2) * V));
      for (uint32_t q = 0; q < S; ++q) {
        auto st = net->new_state(256, 2, f32);
        std::vector<float> l(V);
        net->forward(*st, std::span<const int32_t>(ids.data(), P), 0, l.data(), false);
        for (uint32_t k = 0; k < steps + 2; ++k) {
          const int32_t t = tok(q, k);
          net->forward(*st, std::span<const int32_t>(&t, 1), P + k, &alone[q][k * V], false);
        }
      }
      auto st = net->new_state(256, 2, f32);
      std::vector<float> l(S * 2 * V);
      net->forward(*st, std::span<const int32_t>(ids.data(), P), 0, l.data(), false);
      CHECK_THROWS_AS(net->forward_batch(*st, std::vector<seq_token>{{tok(0, 0), 0, P, true}}, l.data()), error);
      net->begin_sequences(*st, P, S);
      bool same = true;
      for (uint32_t k = 0; k < steps; ++k) {
        std::vector<seq_token> pass;
        for (uint32_t q = 0; q < S; ++q) pass.push_back({tok(q, k), q, P + k, true});
        net->forward_batch(*st, pass, l.data());
        for (uint32_t q = 0; q < S; ++q) same &= std::memcmp(&l[q * V], &alone[q][k * V], V * sizeof(float)) == 0;
      }
      CHECK(same);
      // Two tokens of sequence 1 and one of sequence 2 in one pass; a gap is refused.
      const std::vector<seq_token> mixed = {{tok(1, steps), 1, P + steps, true}, {tok(2, steps), 2, P + steps, false},
                                            {tok(1, steps + 1), 1, P + steps + 1, true}};
      CHECK_THROWS_AS(net->forward_batch(*st, std::vector<seq_token>{{tok(0, steps), 0, P + steps + 1, true}}, l.data()),
                      error);
      net->forward_batch(*st, mixed, l.data());
      CHECK(std::memcmp(&l[0], &alone[1][steps * V], V * sizeof(float)) == 0);
      CHECK(std::memcmp(&l[V], &alone[1][(steps + 1) * V], V * sizeof(float)) == 0);
      // Sequence 2 kept: forward() continues it as the shared cache.
      net->end_sequences(*st, 2, steps + 1);
      const int32_t t = tok(2, steps + 1);
      net->forward(*st, std::span<const int32_t>(&t, 1), P + steps + 1, l.data(), false);
      CHECK(std::memcmp(l.data(), &alone[2][(steps + 1) * V], V * sizeof(float)) == 0);
    }
  }
}
