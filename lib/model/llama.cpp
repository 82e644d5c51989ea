// The llama architecture (Llama 1/2/3, SmolLM, TinyStories, Mistral-style GQA): pre-norm blocks of
// RMSNorm -> attention with RoPE over a KV cache -> residual, RMSNorm -> SwiGLU MLP -> residual.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "core/thread_pool.hpp"
#include "core/tensor.hpp"
#include "kernels/matmul.hpp"
#include "kernels/quant/quant.hpp"
#include "model/attention.hpp"
#include "model/ops.hpp"
#include "model/registry.hpp"

namespace dianoia::detail {
namespace {

constexpr size_t k_sgemm_min_batch = 32;

struct layer_weights {
  const float* attn_norm;  // [n_embd]
  weight_view wq, wk, wv;  // [n_head*hd, n_embd], [n_kv*hd, n_embd] x2
  weight_view wo;          // [n_embd, n_head*hd]
  const float* ffn_norm;   // [n_embd]
  weight_view gate, up;    // [n_ff, n_embd]
  weight_view down;        // [n_embd, n_ff]
};

class llama_state final : public forward_state {
 public:
  llama_state(const hparams& hp, uint32_t n_ctx, int n_threads, attn::kv_type kv)
      : n_ctx_(n_ctx), kv_(kv), pool_(n_threads), mm_(pool_) {
    const size_t n = checked_mul(checked_mul(hp.n_layer, n_ctx, "KV cache"), size_t{hp.n_head_kv} * hp.head_dim, "KV cache");
    if (kv == attn::kv_type::f32) {
      k_cache.assign(n, 0.0f);
      v_cache.assign(n, 0.0f);
    } else {
      k_cache16.assign(n, 0);
      v_cache16.assign(n, 0);
    }
  }
  uint32_t n_ctx() const override { return n_ctx_; }
  int n_threads() const override { return pool_.size(); }

  // Activation buffers sized for a batch of n tokens; grown on demand, never shrunk.
  void reserve(const hparams& hp, size_t n) {
    if (n <= batch_) return;
    batch_ = n;
    const size_t q_dim = static_cast<size_t>(hp.n_head) * hp.head_dim;
    const size_t kv_dim = static_cast<size_t>(hp.n_head_kv) * hp.head_dim;
    x.resize(n * hp.n_embd);
    xb.resize(n * std::max<size_t>(hp.n_embd, q_dim));
    q.resize(n * q_dim);
    k.resize(n * kv_dim);
    v.resize(n * kv_dim);
    att.resize(n * q_dim);
    gate.resize(n * hp.n_ff);
    up.resize(n * hp.n_ff);
  }
  void reserve_scores(size_t per_thread) {
    if (scores.size() < per_thread * pool_.size()) scores.resize(per_thread * pool_.size());
  }

  uint32_t n_ctx_;
  attn::kv_type kv_;
  thread_pool pool_;
  matmul_engine mm_;
  size_t batch_ = 0;
  std::vector<float> k_cache, v_cache;        // [layer][pos][n_kv * hd], f32 cache
  std::vector<fp16_t> k_cache16, v_cache16;  // the same, f16 cache
  std::vector<float> x, xb, q, k, v, att, gate, up, scores;
};

class llama_model final : public model {
 public:
  llama_model(const hparams& hp, const tensor_source& w);
  const hparams& hp() const override { return hp_; }
  std::unique_ptr<forward_state> new_state(uint32_t n_ctx, int n_threads, bool f32_kv) const override {
    if (n_ctx == 0) fail(errc::invalid_argument, "context length must be positive");
    return std::make_unique<llama_state>(hp_, n_ctx, n_threads, f32_kv ? attn::kv_type::f32 : attn::kv_type::f16);
  }
  void forward(forward_state& st, std::span<const int32_t> tokens, uint32_t pos, float* logits,
               bool all_logits) const override;

 private:
  void attention(llama_state& s, uint32_t layer, size_t n, uint32_t pos) const;

  hparams hp_;
  const tensor_view* tok_embd_ = nullptr;  // [n_vocab, n_embd], any dequantizable type
  std::vector<layer_weights> layers_;
  const float* output_norm_ = nullptr;
  weight_view output_{};  // tied to tok_embd when the file has no output.weight
};

// Looks up a tensor and checks its shape (ggml order: ne[0] is the row length).
const tensor_view& tensor(const tensor_source& f, const std::string& name, uint64_t ne0, uint64_t ne1) {
  const auto* t = f.find_tensor(name);
  if (!t) fail(errc::format, "tensor '{}' is missing", name);
  const uint64_t want1 = ne1 == 0 ? 1 : ne1;
  if (t->ne[0] != ne0 || t->ne[1] != want1 || t->ne[2] != 1 || t->ne[3] != 1)
    fail(errc::format, "tensor '{}' has shape [{}, {}, {}, {}], expected [{}, {}]", name, t->ne[0], t->ne[1], t->ne[2],
         t->ne[3], ne0, want1);
  return *t;
}

const float* norm_weight(const tensor_source& f, const std::string& name, uint64_t n) {
  const auto& t = tensor(f, name, n, 0);
  if (t.type != ggml_type::f32)
    fail(errc::unsupported, "norm tensor '{}' has type {}; only F32 is supported", name, ggml_traits(t.type).name);
  return reinterpret_cast<const float*>(t.data);
}

weight_view matrix(const tensor_source& f, const std::string& name, uint64_t cols, uint64_t rows) {
  const auto& t = tensor(f, name, cols, rows);
  if (!matmul_engine::supports(t.type))
    fail(errc::unsupported, "tensor '{}' has type {}, which dianoia cannot multiply yet", name, ggml_traits(t.type).name);
  return weight_view{t.type, t.data, static_cast<int64_t>(rows), static_cast<int64_t>(cols)};
}

llama_model::llama_model(const hparams& hp, const tensor_source& f) : hp_(hp) {
  if (hp_.rope != rope_kind::norm) fail(errc::unsupported, "llama: only adjacent-pair RoPE is implemented");
  if (hp_.scaling.kind != rope_scaling_kind::none) fail(errc::unsupported, "llama: rope scaling is not supported yet");
  if (hp_.head_dim == 0 || hp_.n_head == 0 || hp_.n_head_kv == 0 || hp_.n_head % hp_.n_head_kv != 0)
    fail(errc::format, "llama: inconsistent head counts ({} heads, {} KV heads, head size {})", hp_.n_head, hp_.n_head_kv,
         hp_.head_dim);
  hp_.n_params = 0;

  tok_embd_ = f.find_tensor("token_embd.weight");
  if (!tok_embd_) fail(errc::format, "tensor 'token_embd.weight' is missing");
  if (tok_embd_->ne[0] != hp_.n_embd || tok_embd_->ne[2] != 1 || tok_embd_->ne[3] != 1)
    fail(errc::format, "token_embd.weight has row length {}, expected {}", tok_embd_->ne[0], hp_.n_embd);
  hp_.n_vocab = static_cast<uint32_t>(tok_embd_->ne[1]);
  if (!dequantize_supports(tok_embd_->type))
    fail(errc::unsupported, "token_embd.weight has type {}, which dianoia cannot read yet", ggml_traits(tok_embd_->type).name);

  const uint64_t d = hp_.n_embd, q_dim = uint64_t{hp_.n_head} * hp_.head_dim, kv_dim = uint64_t{hp_.n_head_kv} * hp_.head_dim;
  for (uint32_t l = 0; l < hp_.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    layer_weights w;
    w.attn_norm = norm_weight(f, p + "attn_norm.weight", d);
    w.wq = matrix(f, p + "attn_q.weight", d, q_dim);
    w.wk = matrix(f, p + "attn_k.weight", d, kv_dim);
    w.wv = matrix(f, p + "attn_v.weight", d, kv_dim);
    w.wo = matrix(f, p + "attn_output.weight", q_dim, d);
    w.ffn_norm = norm_weight(f, p + "ffn_norm.weight", d);
    w.gate = matrix(f, p + "ffn_gate.weight", d, hp_.n_ff);
    w.up = matrix(f, p + "ffn_up.weight", d, hp_.n_ff);
    w.down = matrix(f, p + "ffn_down.weight", hp_.n_ff, d);
    layers_.push_back(w);
  }
  output_norm_ = norm_weight(f, "output_norm.weight", d);
  hp_.tied_output = f.find_tensor("output.weight") == nullptr;
  output_ = hp_.tied_output ? matrix(f, "token_embd.weight", d, hp_.n_vocab) : matrix(f, "output.weight", d, hp_.n_vocab);
  for (const auto& t : f.all_tensors()) hp_.n_params += t.n_elements();
}

void llama_model::forward(forward_state& st, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                          bool all_logits) const {
  auto& s = static_cast<llama_state&>(st);
  const size_t n = tokens.size();
  if (n == 0) fail(errc::invalid_argument, "forward() needs at least one token");
  if (pos + n > s.n_ctx()) fail(errc::context_full, "context full: {} + {} tokens exceed the context of {}", pos, n, s.n_ctx());
  for (int32_t t : tokens)
    if (t < 0 || static_cast<uint32_t>(t) >= hp_.n_vocab) fail(errc::invalid_argument, "token id {} is outside the vocabulary of {}", t, hp_.n_vocab);

  s.reserve(hp_, n);
  // Batches of prompt tokens multiply through dequantized f32 tiles on oneDNN's GEMM (several times
  // faster, and more accurate); one-token decode and short batches keep llama.cpp's q8-activation
  // numerics, so that greedy outputs can be compared with it token for token.
  s.mm_.set_prefill_mode(n >= k_sgemm_min_batch ? prefill_mode::dequant_sgemm : prefill_mode::exact);
  const int64_t d = hp_.n_embd, hd = hp_.head_dim;
  const int64_t q_dim = int64_t{hp_.n_head} * hd, kv_dim = int64_t{hp_.n_head_kv} * hd, ff = hp_.n_ff;
  const size_t emb_row = ggml_row_bytes(tok_embd_->type, d);

  // x[n, d] = embedding rows
  for (size_t i = 0; i < n; ++i) dequantize_row(tok_embd_->type, tok_embd_->data + tokens[i] * emb_row, &s.x[i * d], d);

  for (uint32_t l = 0; l < hp_.n_layer; ++l) {
    const layer_weights& w = layers_[l];
    // --- attention ---
    for (size_t i = 0; i < n; ++i) ops::rms_norm(&s.x[i * d], w.attn_norm, &s.xb[i * d], d, hp_.rms_eps);
    s.mm_.matmul(w.wq, s.xb.data(), n, s.q.data());  // q[n, n_head*hd]
    s.mm_.matmul(w.wk, s.xb.data(), n, s.k.data());  // k[n, n_kv*hd]
    s.mm_.matmul(w.wv, s.xb.data(), n, s.v.data());  // v[n, n_kv*hd]
    for (size_t i = 0; i < n; ++i) {
      ops::rope_norm(&s.q[i * q_dim], hp_.n_head, hd, hp_.rope_dim, pos + i, hp_.rope_base);
      ops::rope_norm(&s.k[i * kv_dim], hp_.n_head_kv, hd, hp_.rope_dim, pos + i, hp_.rope_base);
    }
    // Append this batch's keys and values to the cache.
    const size_t at = (size_t{l} * s.n_ctx() + pos) * kv_dim;
    if (s.kv_ == attn::kv_type::f32) {
      std::memcpy(&s.k_cache[at], s.k.data(), n * kv_dim * sizeof(float));
      std::memcpy(&s.v_cache[at], s.v.data(), n * kv_dim * sizeof(float));
    } else {
      for (size_t i = 0; i < n * kv_dim; ++i) {
        s.k_cache16[at + i] = f32_to_fp16(s.k[i]);
        s.v_cache16[at + i] = f32_to_fp16(s.v[i]);
      }
    }
    attention(s, l, n, pos);                          // att[n, n_head*hd]
    s.mm_.matmul(w.wo, s.att.data(), n, s.xb.data());  // xb[n, d]
    ops::add(s.x.data(), s.xb.data(), n * d);

    // --- feed-forward ---
    for (size_t i = 0; i < n; ++i) ops::rms_norm(&s.x[i * d], w.ffn_norm, &s.xb[i * d], d, hp_.rms_eps);
    s.mm_.matmul(w.gate, s.xb.data(), n, s.gate.data());  // gate[n, ff]
    s.mm_.matmul(w.up, s.xb.data(), n, s.up.data());      // up[n, ff]
    ops::swiglu(s.gate.data(), s.up.data(), n * ff);
    s.mm_.matmul(w.down, s.gate.data(), n, s.xb.data());  // xb[n, d]
    ops::add(s.x.data(), s.xb.data(), n * d);
  }

  // Final norm and the vocabulary projection, for the last token only unless all are wanted.
  const size_t first = all_logits ? 0 : n - 1;
  for (size_t i = first; i < n; ++i) ops::rms_norm(&s.x[i * d], output_norm_, &s.xb[(i - first) * d], d, hp_.rms_eps);
  s.mm_.matmul(output_, s.xb.data(), n - first, logits);  // logits[n - first, n_vocab]
}

// Causal attention of the batch's queries over the cache [0, pos + i] for query i, GQA: query head h
// reads KV head h / (n_head / n_kv). Parallel over (token, head) pairs.
void llama_model::attention(llama_state& s, uint32_t layer, size_t n, uint32_t pos) const {
  const int64_t hd = hp_.head_dim, kv_dim = int64_t{hp_.n_head_kv} * hd, q_dim = int64_t{hp_.n_head} * hd;
  const int64_t group = hp_.n_head / hp_.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t per_thread = std::max<size_t>(pos + n, 2 * hd);
  s.reserve_scores(per_thread);
  const size_t base = size_t{layer} * s.n_ctx() * kv_dim;
  s.pool_.parallel_for_indexed(static_cast<int64_t>(n) * hp_.n_head, [&](int t, int64_t b, int64_t e) {
    float* scratch = &s.scores[static_cast<size_t>(t) * per_thread];
    for (int64_t job = b; job < e; ++job) {
      const int64_t i = job / hp_.n_head, h = job % hp_.n_head, kvh = h / group;
      const float* q = &s.q[i * q_dim + h * hd];
      float* out = &s.att[i * q_dim + h * hd];
      const int64_t len = pos + i + 1;
      if (s.kv_ == attn::kv_type::f32)
        attn::attend_f32(q, &s.k_cache[base + kvh * hd], &s.v_cache[base + kvh * hd], kv_dim, len, hd, scale, scratch, out);
      else
        attn::attend_f16(q, &s.k_cache16[base + kvh * hd], &s.v_cache16[base + kvh * hd], kv_dim, len, hd, scale, scratch,
                         out);
    }
  });
}

}  // namespace

std::unique_ptr<model> make_llama(const hparams& hp, const tensor_source& w) { return std::make_unique<llama_model>(hp, w); }

}  // namespace dianoia::detail
