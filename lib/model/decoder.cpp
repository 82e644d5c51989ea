// The dense decoder shared by llama (Llama 1/2/3, SmolLM, Mistral-style GQA), qwen2 and qwen3: pre-norm
// blocks of RMSNorm -> attention with RoPE over a KV cache -> residual, RMSNorm -> SwiGLU MLP ->
// residual. The families differ only in explicit steps: qwen2 adds q/k/v biases, qwen3 RMS-normalises
// each q and k head before RoPE. RoPE rotates adjacent pairs or halves as hparams::rope says (GGUF
// llama: pairs, its q/k rows permuted by llama.cpp's converter; qwen2/qwen3 and HF safetensors: halves).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "core/thread_pool.hpp"
#include "kernels/matmul.hpp"
#include "kernels/quant/quant.hpp"
#include "model/attention.hpp"
#include "model/decoder_weights.hpp"
#include "model/ops.hpp"
#include "model/registry.hpp"
#include "model/rope.hpp"

namespace dianoia::detail {
namespace {

// Batches of at least this many tokens multiply through dequantized f32 tiles (see forward_chunk).
constexpr size_t k_sgemm_min_batch = 32;
// Long prompts run in chunks of this many tokens, so activations stay bounded by it, not the prompt.
constexpr size_t k_prefill_chunk = 512;

// DIANOIA_EXACT_PREFILL=1: batches of any size keep llama.cpp's numerics (q8-activation dots, its
// one-query or tiled flash attention), for comparisons with llama.cpp's batched logits; slower prefill.
bool exact_prefill_from_env() {
  const char* v = std::getenv("DIANOIA_EXACT_PREFILL");
  return v && *v && std::strcmp(v, "0") != 0;
}

class decoder_state final : public forward_state {
 public:
  decoder_state(const hparams& hp, uint32_t n_ctx, int n_threads, attn::kv_type kv)
      : n_ctx_(n_ctx), kv_(kv), exact_batches_(exact_prefill_from_env()), pool_(n_threads), mm_(pool_), n_layer_(hp.n_layer),
        kv_dim_(size_t{hp.n_head_kv} * hp.head_dim) {
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

  // Session files: K then V, each [layer][pos < n][n_kv * hd] in the cache's element type.
  size_t kv_bytes(uint32_t n) const override {
    check_positions(n);
    return 2 * n_layer_ * size_t{n} * kv_dim_ * elem_size();
  }
  void kv_save(uint32_t n, uint8_t* out) const override {
    check_positions(n);
    for (int which = 0; which < 2; ++which)
      for (size_t l = 0; l < n_layer_; ++l) {
        const size_t bytes = size_t{n} * kv_dim_ * elem_size();
        std::memcpy(out, layer_ptr(which, l), bytes);
        out += bytes;
      }
  }
  void kv_load(uint32_t n, const uint8_t* in) override {
    check_positions(n);
    for (int which = 0; which < 2; ++which)
      for (size_t l = 0; l < n_layer_; ++l) {
        const size_t bytes = size_t{n} * kv_dim_ * elem_size();
        std::memcpy(const_cast<uint8_t*>(layer_ptr(which, l)), in, bytes);
        in += bytes;
      }
  }

  // Activation buffers sized for a chunk of n tokens; grown on demand, never shrunk.
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
    rope_cs.resize(n * hp.rope_dim);
  }
  void reserve_scores(size_t per_thread) {
    if (scores.size() < per_thread * pool_.size()) scores.resize(per_thread * pool_.size());
  }

  uint32_t n_ctx_;
  attn::kv_type kv_;
  bool exact_batches_;  // llama.cpp numerics for every batch size (DIANOIA_EXACT_PREFILL)
  thread_pool pool_;
  matmul_engine mm_;
  size_t n_layer_, kv_dim_;
  size_t batch_ = 0;
  std::vector<float> k_cache, v_cache;        // [layer][pos][n_kv * hd], f32 cache
  std::vector<fp16_t> k_cache16, v_cache16;  // the same, f16 cache
  std::vector<float> x, xb, q, k, v, att, gate, up, rope_cs, scores;

 private:
  size_t elem_size() const { return kv_ == attn::kv_type::f32 ? sizeof(float) : sizeof(fp16_t); }
  void check_positions(uint32_t n) const {
    if (n > n_ctx_) fail(errc::invalid_argument, "KV cache: {} positions exceed the context of {}", n, n_ctx_);
  }
  // Start of layer l's keys (which 0) or values (which 1).
  const uint8_t* layer_ptr(int which, size_t l) const {
    const size_t at = l * n_ctx_ * kv_dim_;
    if (kv_ == attn::kv_type::f32)
      return reinterpret_cast<const uint8_t*>((which ? v_cache : k_cache).data() + at);
    return reinterpret_cast<const uint8_t*>((which ? v_cache16 : k_cache16).data() + at);
  }
};

class decoder_model final : public model {
 public:
  decoder_model(const hparams& hp, const tensor_source& src, const decoder_family& fam)
      : hp_(hp), w_(load_decoder_weights(hp_, src, fam)), rope_(hp_, w_.rope_freqs) {}

  const hparams& hp() const override { return hp_; }
  std::unique_ptr<forward_state> new_state(uint32_t n_ctx, int n_threads, bool f32_kv) const override {
    if (n_ctx == 0) fail(errc::invalid_argument, "context length must be positive");
    return std::make_unique<decoder_state>(hp_, n_ctx, n_threads, f32_kv ? attn::kv_type::f32 : attn::kv_type::f16);
  }
  void forward(forward_state& st, std::span<const int32_t> tokens, uint32_t pos, float* logits,
               bool all_logits) const override;

 private:
  void forward_chunk(decoder_state& s, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                     bool all_logits) const;
  void attention(decoder_state& s, uint32_t layer, size_t n, uint32_t pos) const;

  hparams hp_;
  decoder_weights w_;
  rope rope_;
};

void decoder_model::forward(forward_state& st, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                            bool all_logits) const {
  auto& s = static_cast<decoder_state&>(st);
  const size_t n = tokens.size();
  if (n == 0) fail(errc::invalid_argument, "forward() needs at least one token");
  if (pos > s.n_ctx() || n > s.n_ctx() - pos)
    fail(errc::context_full, "context full: {} + {} tokens exceed the context of {}", pos, n, s.n_ctx());
  for (int32_t t : tokens)
    if (t < 0 || static_cast<uint32_t>(t) >= hp_.n_vocab)
      fail(errc::invalid_argument, "token id {} is outside the vocabulary of {}", t, hp_.n_vocab);
  // Each chunk sees the cache its predecessors filled, so chunking changes nothing but peak memory.
  for (size_t at = 0; at < n; at += k_prefill_chunk) {
    const size_t m = std::min(k_prefill_chunk, n - at);
    const bool last = at + m == n;
    if (!all_logits && !last) {
      forward_chunk(s, tokens.subspan(at, m), pos + static_cast<uint32_t>(at), nullptr, false);
    } else {
      float* out = all_logits ? logits + at * hp_.n_vocab : logits;
      forward_chunk(s, tokens.subspan(at, m), pos + static_cast<uint32_t>(at), out, all_logits);
    }
  }
}

// One chunk of n tokens at positions [pos, pos + n). logits == nullptr: fill the cache only.
void decoder_model::forward_chunk(decoder_state& s, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                                  bool all_logits) const {
  const size_t n = tokens.size();
  s.reserve(hp_, n);
  // Batches of prompt tokens multiply through dequantized f32 tiles on oneDNN's GEMM (several times
  // faster, and more accurate); one-token decode and short batches keep llama.cpp's q8-activation
  // numerics, so that greedy outputs can be compared with it token for token.
  const bool fast_batch = n >= k_sgemm_min_batch && !s.exact_batches_;
  s.mm_.set_prefill_mode(fast_batch ? prefill_mode::dequant_sgemm : prefill_mode::exact);
  const int64_t d = hp_.n_embd, hd = hp_.head_dim, rd = hp_.rope_dim;
  const int64_t q_dim = int64_t{hp_.n_head} * hd, kv_dim = int64_t{hp_.n_head_kv} * hd, ff = hp_.n_ff;
  const size_t emb_row = ggml_row_bytes(w_.tok_embd->type, d);

  // x[n, d] = embedding rows
  for (size_t i = 0; i < n; ++i)
    dequantize_row(w_.tok_embd->type, w_.tok_embd->data + static_cast<size_t>(tokens[i]) * emb_row, &s.x[i * d], d);
  // rope_cs[n, rope_dim]: the rotation of each position, shared by every layer and head
  for (size_t i = 0; i < n; ++i) rope_.angles(pos + static_cast<int64_t>(i), &s.rope_cs[i * rd]);

  for (uint32_t l = 0; l < hp_.n_layer; ++l) {
    const decoder_layer& w = w_.layers[l];
    // --- attention ---
    for (size_t i = 0; i < n; ++i) ops::rms_norm(&s.x[i * d], w.attn_norm.data(), &s.xb[i * d], d, hp_.rms_eps);
    s.mm_.matmul(w.wq, s.xb.data(), n, s.q.data());  // q[n, n_head*hd]
    s.mm_.matmul(w.wk, s.xb.data(), n, s.k.data());  // k[n, n_kv*hd]
    s.mm_.matmul(w.wv, s.xb.data(), n, s.v.data());  // v[n, n_kv*hd]
    if (!w.bq.empty()) {  // qwen2
      ops::add_rows(s.q.data(), w.bq.data(), n, q_dim);
      ops::add_rows(s.k.data(), w.bk.data(), n, kv_dim);
      ops::add_rows(s.v.data(), w.bv.data(), n, kv_dim);
    }
    if (!w.q_norm.empty()) {  // qwen3: each head of q and k RMS-normalised over hd, before RoPE
      for (size_t j = 0; j < n * hp_.n_head; ++j) ops::rms_norm(&s.q[j * hd], w.q_norm.data(), &s.q[j * hd], hd, hp_.rms_eps);
      for (size_t j = 0; j < n * hp_.n_head_kv; ++j) ops::rms_norm(&s.k[j * hd], w.k_norm.data(), &s.k[j * hd], hd, hp_.rms_eps);
    }
    for (size_t i = 0; i < n; ++i) {
      rope_.apply(&s.q[i * q_dim], hp_.n_head, hd, &s.rope_cs[i * rd]);
      rope_.apply(&s.k[i * kv_dim], hp_.n_head_kv, hd, &s.rope_cs[i * rd]);
    }
    // Append this chunk's keys and values to the cache.
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
    for (size_t i = 0; i < n; ++i) ops::rms_norm(&s.x[i * d], w.ffn_norm.data(), &s.xb[i * d], d, hp_.rms_eps);
    s.mm_.matmul(w.gate, s.xb.data(), n, s.gate.data());  // gate[n, ff]
    s.mm_.matmul(w.up, s.xb.data(), n, s.up.data());      // up[n, ff]
    for (size_t i = 0; i < n; ++i) ops::swiglu(&s.gate[i * ff], &s.up[i * ff], ff);
    s.mm_.matmul(w.down, s.gate.data(), n, s.xb.data());  // xb[n, d]
    ops::add(s.x.data(), s.xb.data(), n * d);
  }
  if (!logits) return;

  // Final norm and the vocabulary projection, for the last token only unless all are wanted.
  const size_t first = all_logits ? 0 : n - 1;
  for (size_t i = first; i < n; ++i)
    ops::rms_norm(&s.x[i * d], w_.output_norm.data(), &s.xb[(i - first) * d], d, hp_.rms_eps);
  s.mm_.matmul(w_.output, s.xb.data(), n - first, logits);  // logits[n - first, n_vocab]
}

// Causal attention of the chunk's queries over the cache [0, pos + i] for query i, GQA: query head h
// reads KV head h / (n_head / n_kv). Parallel over (token, head) pairs.
void decoder_model::attention(decoder_state& s, uint32_t layer, size_t n, uint32_t pos) const {
  const int64_t hd = hp_.head_dim, kv_dim = int64_t{hp_.n_head_kv} * hd, q_dim = int64_t{hp_.n_head} * hd;
  const int64_t group = hp_.n_head / hp_.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // llama.cpp-exact batches of >= 64 queries reproduce its tiled kernel; f32_math: see below. The tiled
  // kernel is f32 math too (and vectorised), so default-mode batches use it whenever hd allows.
  const bool f32_math = n >= k_sgemm_min_batch && !s.exact_batches_;
  const bool tiled = (f32_math && hd % 8 == 0) || (!f32_math && attn::llamacpp_uses_tiled(static_cast<int64_t>(n), hd));
  const size_t per_thread = std::max<size_t>({pos + n, 2 * static_cast<size_t>(hd),
                                              tiled ? static_cast<size_t>(attn::tiled_scratch_floats(hd)) : 0});
  s.reserve_scores(per_thread);
  const size_t base = size_t{layer} * s.n_ctx() * kv_dim;
  // Prompt batches (already off llama.cpp's token-exact path for their matmuls) attend in f32 over the
  // f16 cache; decode and short batches keep the f16 accumulator of llama.cpp's one-query kernel.
  s.pool_.parallel_for_indexed(static_cast<int64_t>(n) * hp_.n_head, [&](int t, int64_t b, int64_t e) {
    float* scratch = &s.scores[static_cast<size_t>(t) * per_thread];
    for (int64_t job = b; job < e; ++job) {
      const int64_t i = job / hp_.n_head, h = job % hp_.n_head, kvh = h / group;
      const float* q = &s.q[i * q_dim + h * hd];
      float* out = &s.att[i * q_dim + h * hd];
      const int64_t len = pos + i + 1;
      if (s.kv_ == attn::kv_type::f32)
        attn::attend_f32(q, &s.k_cache[base + kvh * hd], &s.v_cache[base + kvh * hd], kv_dim, len, hd, scale, scratch, out);
      else if (tiled)
        attn::attend_f16_tiled(q, &s.k_cache16[base + kvh * hd], &s.v_cache16[base + kvh * hd], kv_dim, len, hd, scale,
                               scratch, out);
      else if (f32_math)
        attn::attend_f16_f32(q, &s.k_cache16[base + kvh * hd], &s.v_cache16[base + kvh * hd], kv_dim, len, hd, scale,
                               scratch, out);
      else
        attn::attend_f16(q, &s.k_cache16[base + kvh * hd], &s.v_cache16[base + kvh * hd], kv_dim, len, hd, scale, scratch,
                         out);
    }
  });
}

constexpr decoder_family k_llama{"llama", false, false};
constexpr decoder_family k_qwen2{"qwen2", true, false};
constexpr decoder_family k_qwen3{"qwen3", false, true};

}  // namespace

std::unique_ptr<model> make_llama(const hparams& hp, const tensor_source& w) {
  return std::make_unique<decoder_model>(hp, w, k_llama);
}
std::unique_ptr<model> make_qwen2(const hparams& hp, const tensor_source& w) {
  return std::make_unique<decoder_model>(hp, w, k_qwen2);
}
std::unique_ptr<model> make_qwen3(const hparams& hp, const tensor_source& w) {
  return std::make_unique<decoder_model>(hp, w, k_qwen3);
}

}  // namespace dianoia::detail
