// DeepSeek-V2/V3 (GGUF arch "deepseek2"): pre-norm blocks of RMSNorm -> multi-head latent attention ->
// residual, RMSNorm -> dense SwiGLU MLP (the first n_layer_dense_lead layers) or DeepSeek MoE -> residual.
//
// Multi-head latent attention (MLA). Per token, with H heads, nope + rope = qk, kv_lora = r:
//   q[H, qk]        = q_b(rms_norm(q_a(x)))  or  q(x)                (q_lora_rank 0: V2-Lite)
//   [c, k_pe][r+rope] = kv_a_mqa(x);  c = rms_norm(c)                 c: the latent, k_pe: one RoPE key
//   q_pe, k_pe      = RoPE(q[h, nope:]), RoPE(k_pe)                   k_pe shared by every head
//   k_h = [kv_b_k,h c, k_pe],  v_h = kv_b_v,h c                        kv_b: [H][nope + v][r]
//   out_h = softmax(q_h . k_h * scale) . v_h;  y = o(out)
// The absorbed form computes the same without ever expanding k_h and v_h: q_h . k_h = (kv_b_k,h^T
// q_nope,h) . c + q_pe,h . k_pe, and sum_t p_t v_h,t = kv_b_v,h (sum_t p_t c_t). So the cache holds
// only [c, k_pe] per token and layer (kv_lora_rank + qk_rope_head_dim values), every head attends over
// it as keys [c, k_pe] and values c, and two small per-head products (Eigen) move into and out of the
// latent space. Decode and short chunks use it; prompt chunks expand K and V per head from the cached
// latents instead (fewer values per key, and matrix products over blocks of queries).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#define EIGEN_DONT_PARALLELIZE  // the session's thread pool parallelises over heads
#include <Eigen/Core>

#include "core/error.hpp"
#include "core/thread_pool.hpp"
#include "kernels/matmul.hpp"
#include "kernels/quant/quant.hpp"
#include "model/attention.hpp"
#include "model/deepseek2_weights.hpp"
#include "model/kv_cache.hpp"
#include "model/moe_routing.hpp"
#include "model/ops.hpp"
#include "model/prefill_chunks.hpp"
#include "model/registry.hpp"
#include "model/rope.hpp"

namespace dianoia::detail {
namespace {

constexpr size_t k_prefill_chunk = 512;
// Chunks of at least this many tokens attend with K and V expanded per head (expanded_attention);
// shorter ones, decode included, in the absorbed form over the latent rows.
constexpr size_t k_expand_min_batch = 16;
// Queries per masked product of expanded_attention (bounds its score rows to this many x the keys).
constexpr int64_t k_expand_block = 64;
// forward_batch passes of fewer tokens multiply row by row as decode does (the same bits as each
// sequence decoding alone); larger ones through the int8 GEMM, as the dense decoder does.
constexpr size_t k_seq_int8_min = 12;

using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using strided_map = Eigen::Map<row_matrix, 0, Eigen::OuterStride<>>;
using const_strided_map = Eigen::Map<const row_matrix, 0, Eigen::OuterStride<>>;

class deepseek2_state final : public forward_state {
 public:
  deepseek2_state(const hparams& hp, uint32_t n_ctx, int n_threads, attn::kv_type kv)
      : n_ctx_(n_ctx), kv_(kv), pool_(n_threads), mm_(pool_),
        cache_(hp.n_layer, n_ctx, size_t{hp.mla.kv_lora_rank} + hp.mla.qk_rope_head_dim, 0, kv) {}
  uint32_t n_ctx() const override { return n_ctx_; }
  void set_numerics(const numerics_options& o) override {
    exact_batches_ = o.llamacpp_batches;
    mm_.set_isa_ceiling(o.isa_ceiling);
    mm_.set_exact_gemv(o.llamacpp_batches);
  }
  int n_threads() const override { return pool_.size(); }
  // Session files: [layer][pos < n][kv_lora + rope] in the cache's element type.
  size_t kv_bytes(uint32_t n) const override { return cache_.saved_bytes(n); }
  void kv_save(uint32_t n, uint8_t* out) const override { cache_.save(n, out); }
  void kv_load(uint32_t n, const uint8_t* in) override { cache_.load(n, in); }

  void reserve(const hparams& hp, size_t n) {
    if (n <= batch_) return;
    batch_ = n;
    const auto& m = hp.mla;
    const size_t H = hp.n_head, qk = m.qk_nope_head_dim + m.qk_rope_head_dim, r = m.kv_lora_rank;
    const size_t ff = std::max<size_t>({hp.n_ff, size_t{hp.moe.n_ff_expert} * std::max(1u, hp.moe.n_expert_shared)});
    x.resize(n * hp.n_embd);
    xb.resize(n * hp.n_embd);
    qa.resize(n * m.q_lora_rank);
    q.resize(n * H * qk);
    kva.resize(n * (r + m.qk_rope_head_dim));
    qabs.resize(n * H * (r + m.qk_rope_head_dim));
    olat.resize(n * H * r);
    att.resize(n * H * m.v_head_dim);
    gate.resize(n * ff);
    up.resize(n * ff);
    moe_out.resize(n * hp.n_embd);
    router.resize(n * hp.moe.n_expert);
    ids.resize(n * hp.moe.n_expert_used);
    weights.resize(n * hp.moe.n_expert_used);
    rope_cs.resize(n * m.qk_rope_head_dim);
  }
  void reserve_scores(size_t per_thread) {
    if (scores.size() < per_thread * pool_.size()) scores.resize(per_thread * pool_.size());
  }

  uint32_t n_ctx_;
  attn::kv_type kv_;
  bool exact_batches_ = false;
  thread_pool pool_;
  matmul_engine mm_;
  kv_cache cache_;  // K: [layer][pos][kv_lora + rope] (the normalised latent, then the rotated k_pe); no V
  size_t batch_ = 0;
  std::vector<float> x, xb, qa, q, kva, qabs, olat, att, gate, up, moe_out, router, weights, rope_cs, scores;
  std::vector<float> latent32;  // an f16 cache's rows of one layer, widened for attention
  std::vector<float> expand;    // expanded_attention: per thread one head's K, V and a block of scores
  std::vector<uint32_t> ids;
  // MoE scratch: the rows routed to one expert, gathered.
  std::vector<float> ex, eg, eu, ey, route_scratch;
  std::vector<std::vector<std::pair<uint32_t, float>>> by_expert;  // expert -> (token, weight)
  // absorbed_attention: each token's latent rows [0, tok_len[i]) start at tok_c[i].
  std::vector<const float*> tok_c;
  std::vector<size_t> tok_len;

  // begin_sequences: positions [0, n_shared_) stay in cache_, shared; sequence s keeps its own latents in
  // seq_cache_, rows [s * seq_len_, (s + 1) * seq_len_), reserved up front and committed as they fill.
  std::unique_ptr<kv_cache> seq_cache_;
  uint32_t n_shared_ = 0, seq_len_ = 0;
  std::vector<uint32_t> seq_filled_;  // per sequence: n_shared_ + its own positions written
  bool exact_rows_ = false;           // a short forward_batch pass: every product row by row
  std::vector<float> seq_rows;        // a pass's tokens' visible latent rows, each token's contiguous
  std::vector<uint32_t> logit_rows;   // the rows of a pass whose logits are wanted
  size_t seq_row(const seq_token& t) const { return size_t{t.seq} * seq_len_ + (t.pos - n_shared_); }
};

class deepseek2_model final : public model {
 public:
  deepseek2_model(const hparams& hp, const tensor_source& src)
      : hp_(hp), w_(load_deepseek2_weights(hp_, src)), rope_(hp_, {}) {
    // YaRN as DeepSeek defines it: the rotation's magnitude is mscale(factor, mscale) / mscale(factor,
    // mscale_all_dim) (1 when both are equal, as in V3 and in every GGUF file, where llama.cpp keeps
    // only mscale_all_dim), or mscale(factor, 1) when either is unset (transformers' default); the
    // softmax scale grows by mscale(factor, mscale_all_dim)^2.
    const auto& sc = hp_.scaling;
    scale_ = 1.0f / std::sqrt(static_cast<float>(hp_.mla.qk_nope_head_dim + hp_.mla.qk_rope_head_dim));
    if (sc.kind == rope_scaling_kind::yarn) {
      const bool both = sc.yarn_mscale != 0.0f && sc.yarn_mscale_all_dim != 0.0f;
      rope_.set_yarn_magnitude(sc.yarn_mscale == sc.yarn_mscale_all_dim ? 1.0f
                               : both ? yarn_mscale(sc.factor, sc.yarn_mscale) / yarn_mscale(sc.factor, sc.yarn_mscale_all_dim)
                                      : yarn_mscale(sc.factor, 1.0f));
      if (sc.yarn_mscale_all_dim != 0.0f) {
        const float m = yarn_mscale(sc.factor, sc.yarn_mscale_all_dim);
        scale_ *= m * m;
      }
    }
  }

  const hparams& hp() const override { return hp_; }
  std::unique_ptr<forward_state> new_state(uint32_t n_ctx, int n_threads, bool f32_kv) const override {
    if (n_ctx == 0) fail(errc::invalid_argument, "context length must be positive");
    return std::make_unique<deepseek2_state>(hp_, n_ctx, n_threads, f32_kv ? attn::kv_type::f32 : attn::kv_type::f16);
  }
  void forward(forward_state& st, std::span<const int32_t> tokens, uint32_t pos, float* logits,
               bool all_logits) const override {
    auto& s = static_cast<deepseek2_state&>(st);
    s.exact_rows_ = false;
    forward_in_chunks(hp_.n_vocab, s.n_ctx(), tokens, pos, logits, all_logits, k_prefill_chunk,
                      [&](std::span<const int32_t> t, uint32_t p, float* out, bool all) { chunk(s, t, p, out, all); });
  }

  void begin_sequences(forward_state& st, uint32_t n_shared, uint32_t n_seq) const override;
  void forward_batch(forward_state& st, std::span<const seq_token> tokens, float* logits) const override;
  void end_sequences(forward_state& st, uint32_t keep, uint32_t n_keep) const noexcept override;

 private:
  void chunk(deepseek2_state& s, std::span<const int32_t> tokens, uint32_t pos, float* logits, bool all_logits) const;
  void seq_chunk(deepseek2_state& s, std::span<const seq_token> tokens, float* logits) const;
  void block(deepseek2_state& s, uint32_t l, size_t n, const std::function<void()>& attend) const;
  void project(deepseek2_state& s, const mla_layer& w, size_t n) const;
  void attention(deepseek2_state& s, const mla_layer& w, uint32_t l, size_t n, uint32_t pos) const;
  void attention_seqs(deepseek2_state& s, const mla_layer& w, uint32_t l, std::span<const seq_token> tokens) const;
  void store_latent(deepseek2_state& s, uint32_t l, size_t n, uint32_t pos) const;
  const float* latent_rows(deepseek2_state& s, uint32_t l, size_t len) const;
  void absorbed_attention(deepseek2_state& s, const mla_layer& w, size_t n, bool row_by_row) const;
  void expanded_attention(deepseek2_state& s, const mla_layer& w, const float* c, size_t n, uint32_t pos) const;
  void mlp(deepseek2_state& s, const weight_view& gate, const weight_view& up, const weight_view& down, const float* in,
           size_t n, float* out) const;
  void moe(deepseek2_state& s, const mla_layer& w, size_t n) const;
  void set_mode(deepseek2_state& s, size_t rows) const {
    s.mm_.set_prefill_mode(rows > 1 && !s.exact_batches_ && !s.exact_rows_ ? prefill_mode::int8 : prefill_mode::exact);
  }

  hparams hp_;
  deepseek2_weights w_;
  rope rope_;
  float scale_ = 1.0f;
};

// n tokens at positions [pos, pos + n): x[n, d] through every layer; logits of the last (or all) rows.
void deepseek2_model::chunk(deepseek2_state& s, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                            bool all_logits) const {
  const size_t n = tokens.size();
  const int64_t d = hp_.n_embd, rd = hp_.mla.qk_rope_head_dim;
  s.reserve(hp_, n);
  const size_t emb_row = ggml_row_bytes(w_.tok_embd->type, d);
  for (size_t i = 0; i < n; ++i) {
    dequantize_row(w_.tok_embd->type, w_.tok_embd->data + static_cast<size_t>(tokens[i]) * emb_row, &s.x[i * d], d);
    rope_.angles(pos + static_cast<int64_t>(i), &s.rope_cs[i * rd]);
  }
  for (uint32_t l = 0; l < hp_.n_layer; ++l) block(s, l, n, [&] { attention(s, w_.layers[l], l, n, pos); });
  if (!logits) return;
  const size_t first = all_logits ? 0 : n - 1, m = n - first;
  for (size_t i = 0; i < m; ++i)
    ops::rms_norm(&s.x[(first + i) * d], w_.output_norm.data(), &s.xb[i * d], d, hp_.rms_eps);
  set_mode(s, m);
  s.mm_.matmul(w_.output, s.xb.data(), static_cast<int64_t>(m), logits);  // logits[m, n_vocab]
}

// Layer l over x[n, d]: attend (xb[n, d] normalised input -> xb[n, d] attention output), then the MLP or
// the experts, each with its residual.
void deepseek2_model::block(deepseek2_state& s, uint32_t l, size_t n, const std::function<void()>& attend) const {
  const mla_layer& w = w_.layers[l];
  const int64_t d = hp_.n_embd;
  for (size_t i = 0; i < n; ++i) ops::rms_norm(&s.x[i * d], w.attn_norm.data(), &s.xb[i * d], d, hp_.rms_eps);
  attend();
  ops::add(s.x.data(), s.xb.data(), n * d);
  for (size_t i = 0; i < n; ++i) ops::rms_norm(&s.x[i * d], w.ffn_norm.data(), &s.xb[i * d], d, hp_.rms_eps);
  if (w.moe())
    moe(s, w, n);  // xb[n, d]
  else
    mlp(s, w.gate, w.up, w.down, s.xb.data(), n, s.xb.data());
  ops::add(s.x.data(), s.xb.data(), n * d);
}

// xb[n, d] (normalised input) -> xb[n, d] (attention output, before the residual).
void deepseek2_model::attention(deepseek2_state& s, const mla_layer& w, uint32_t l, size_t n, uint32_t pos) const {
  project(s, w, n);
  store_latent(s, l, n, pos);
  const float* c = latent_rows(s, l, pos + n);  // [pos + n, r + rope]
  if (n >= k_expand_min_batch) {
    expanded_attention(s, w, c, n, pos);  // att[n, H, v]
  } else {
    s.tok_c.assign(n, c);
    s.tok_len.resize(n);
    for (size_t i = 0; i < n; ++i) s.tok_len[i] = pos + i + 1;
    absorbed_attention(s, w, n, false);  // att[n, H, v]
  }
  s.mm_.matmul(w.wo, s.att.data(), n, s.xb.data());  // xb[n, d]
}

// xb[n, d] -> q[n, H, qk] and kva[n, r + rope] = [c, k_pe], normalised and rotated by rope_cs.
void deepseek2_model::project(deepseek2_state& s, const mla_layer& w, size_t n) const {
  const auto& m = hp_.mla;
  const int64_t H = hp_.n_head, nope = m.qk_nope_head_dim, rd = m.qk_rope_head_dim, qk = nope + rd;
  const int64_t r = m.kv_lora_rank, ql = m.q_lora_rank;
  set_mode(s, n);
  if (ql) {
    s.mm_.matmul(w.wq_a, s.xb.data(), n, s.qa.data());  // qa[n, q_lora]
    for (size_t i = 0; i < n; ++i) ops::rms_norm(&s.qa[i * ql], w.q_a_norm.data(), &s.qa[i * ql], ql, hp_.rms_eps);
    s.mm_.matmul(w.wq_b, s.qa.data(), n, s.q.data());  // q[n, H, qk]
  } else {
    s.mm_.matmul(w.wq, s.xb.data(), n, s.q.data());  // q[n, H, qk]
  }
  s.mm_.matmul(w.wkv_a, s.xb.data(), n, s.kva.data());  // kva[n, r + rope] = [c, k_pe]
  for (size_t i = 0; i < n; ++i) {
    float* c = &s.kva[i * (r + rd)];
    ops::rms_norm(c, w.kv_a_norm.data(), c, r, hp_.rms_eps);
    rope_.apply(&s.q[i * H * qk + nope], H, qk, &s.rope_cs[i * rd]);  // q_pe of every head
    rope_.apply(c + r, 1, rd, &s.rope_cs[i * rd]);                     // the shared k_pe
  }
}

// kva[n, r + rope] into the cache's rows [pos, pos + n) of layer l.
void deepseek2_model::store_latent(deepseek2_state& s, uint32_t l, size_t n, uint32_t pos) const {
  const size_t row = s.cache_.k_row();
  if (s.kv_ == attn::kv_type::f32) {
    std::memcpy(s.cache_.k<float>(l, pos), s.kva.data(), n * row * sizeof(float));
  } else {
    fp16_t* dst = s.cache_.k<fp16_t>(l, pos);
    for (size_t j = 0; j < n * row; ++j) dst[j] = f32_to_fp16(s.kva[j]);
  }
}

// The cached rows [0, len) of layer l as f32 [len, r + rope]: the cache itself, or an f16 cache widened
// once for every head.
const float* deepseek2_model::latent_rows(deepseek2_state& s, uint32_t l, size_t len) const {
  if (s.kv_ == attn::kv_type::f32) return s.cache_.k<float>(l, 0);
  const int64_t kr = s.cache_.k_row();
  if (s.latent32.size() < len * kr) s.latent32.resize(len * kr);
  const fp16_t* c16 = s.cache_.k<fp16_t>(l, 0);
  s.pool_.parallel_for(static_cast<int64_t>(len), [&](int64_t b, int64_t e) {
    dequantize_row(ggml_type::f16, c16 + b * kr, &s.latent32[b * kr], (e - b) * kr);
  });
  return s.latent32.data();
}

// Decode and short chunks. q[n, H, qk] -> att[n, H, v], token i over its latent rows c = tok_c[i],
// [0, tok_len[i]), per head h (row_by_row: each token's products alone, as decode computes them):
//   qabs[:, h] = [q_nope,h . kv_b_k,h, q_pe,h]    [n, r + rope]
//   olat[:, h] = softmax(qabs[:, h] . [c, k_pe]^T * scale) . c    [n, r]
//   att[:, h]  = olat[:, h] . kv_b_v,h^T           [n, v]
void deepseek2_model::absorbed_attention(deepseek2_state& s, const mla_layer& w, size_t n, bool row_by_row) const {
  const auto& m = hp_.mla;
  const int64_t H = hp_.n_head, nope = m.qk_nope_head_dim, rd = m.qk_rope_head_dim, qk = nope + rd;
  const int64_t r = m.kv_lora_rank, vd = m.v_head_dim, kr = r + rd, N = static_cast<int64_t>(n);
  const int64_t step = row_by_row ? 1 : N;
  // Decode (and forward_batch, row by row) with a split file: the stored per-head k_b / v_b through the
  // gemv kernels; otherwise Eigen over the f32 kv_b.
  const bool stored = !w.k_b.empty() && step == 1;
  if (stored) set_mode(s, 1);
  // Into the latent space, per head: an [n, nope] x [nope, r] product.
  if (stored) {
    for (int64_t job = 0; job < N * H; ++job) {
      s.mm_.matmul(w.k_b[job % H], &s.q[job * qk], 1, &s.qabs[job * kr]);
      std::memcpy(&s.qabs[job * kr + r], &s.q[job * qk + nope], rd * sizeof(float));
    }
  } else s.pool_.parallel_for(H, [&](int64_t b, int64_t e) {
    for (int64_t h = b; e > h; ++h) {
      const const_strided_map kb(w.kv_b + h * (nope + vd) * r, nope, r, Eigen::OuterStride<>(r));
      for (int64_t i0 = 0; i0 < N; i0 += step) {
        const const_strided_map qn(&s.q[i0 * H * qk + h * qk], step, nope, Eigen::OuterStride<>(H * qk));
        strided_map qa(&s.qabs[i0 * H * kr + h * kr], step, r, Eigen::OuterStride<>(H * kr));
        qa.noalias() = qn * kb;
      }
      for (int64_t i = 0; i < N; ++i) std::memcpy(&s.qabs[(i * H + h) * kr + r], &s.q[(i * H + h) * qk + nope], rd * sizeof(float));
    }
  });
  // Every (token, head) attends over its latent rows: keys [c, k_pe], values c.
  const size_t len = *std::max_element(s.tok_len.begin(), s.tok_len.begin() + N);
  s.reserve_scores(len);
  s.pool_.parallel_for_indexed(N * H, [&](int t, int64_t b, int64_t e) {
    float* scores = &s.scores[static_cast<size_t>(t) * len];
    for (int64_t job = b; job < e; ++job) {
      const float* c = s.tok_c[job / H];
      attn::attend_kv(&s.qabs[job * kr], c, kr, kr, c, kr, r, s.tok_len[job / H], scale_, scores, &s.olat[job * r]);
    }
  });
  // Out of the latent space, per head: an [n, r] x [r, v] product.
  if (stored) {
    for (int64_t job = 0; job < N * H; ++job) s.mm_.matmul(w.v_b[job % H], &s.olat[job * r], 1, &s.att[job * vd]);
    set_mode(s, n);
    return;
  }
  s.pool_.parallel_for(H, [&](int64_t b, int64_t e) {
    for (int64_t h = b; e > h; ++h) {
      const const_strided_map vb(w.kv_b + (h * (nope + vd) + nope) * r, vd, r, Eigen::OuterStride<>(r));
      for (int64_t i0 = 0; i0 < N; i0 += step) {
        const const_strided_map ol(&s.olat[i0 * H * r + h * r], step, r, Eigen::OuterStride<>(H * r));
        strided_map o(&s.att[i0 * H * vd + h * vd], step, vd, Eigen::OuterStride<>(H * vd));
        o.noalias() = ol * vb.transpose();
      }
    }
  });
}

// Prompt chunks: K and V expanded per head from the latent rows (192 + 128 values per key instead of the
// absorbed form's 576 + 512), then per block of queries one masked product with the keys and one with
// the values. Per head h, over the rows [0, len = pos + n):
//   k_h[len, qk] = [c . kv_b_k,h^T, k_pe],  v_h[len, v] = c . kv_b_v,h^T
//   att[:, h] = softmax(q_h . k_h^T * scale, causal) . v_h
void deepseek2_model::expanded_attention(deepseek2_state& s, const mla_layer& w, const float* c, size_t n,
                                         uint32_t pos) const {
  const auto& m = hp_.mla;
  const int64_t H = hp_.n_head, nope = m.qk_nope_head_dim, rd = m.qk_rope_head_dim, qk = nope + rd;
  const int64_t r = m.kv_lora_rank, vd = m.v_head_dim, kr = r + rd;
  const int64_t N = static_cast<int64_t>(n), len = pos + N;
  const size_t per_thread = static_cast<size_t>(len * (qk + vd) + k_expand_block * len);
  if (s.expand.size() < per_thread * s.pool_.size()) s.expand.resize(per_thread * s.pool_.size());
  s.pool_.parallel_for_indexed(H, [&](int t, int64_t b, int64_t e) {
    float* kh = &s.expand[static_cast<size_t>(t) * per_thread];
    float* vh = kh + len * qk;
    float* sc = vh + len * vd;
    const const_strided_map lat(c, len, r, Eigen::OuterStride<>(kr));
    for (int64_t h = b; h < e; ++h) {
      const const_strided_map kb(w.kv_b + h * (nope + vd) * r, nope, r, Eigen::OuterStride<>(r));
      const const_strided_map vb(w.kv_b + (h * (nope + vd) + nope) * r, vd, r, Eigen::OuterStride<>(r));
      strided_map(kh, len, nope, Eigen::OuterStride<>(qk)).noalias() = lat * kb.transpose();
      for (int64_t p = 0; p < len; ++p) std::memcpy(kh + p * qk + nope, c + p * kr + r, rd * sizeof(float));
      strided_map(vh, len, vd, Eigen::OuterStride<>(vd)).noalias() = lat * vb.transpose();
      for (int64_t i0 = 0; i0 < N; i0 += k_expand_block) {
        const int64_t mq = std::min<int64_t>(k_expand_block, N - i0), vis = pos + i0 + mq;
        const const_strided_map qh(&s.q[i0 * H * qk + h * qk], mq, qk, Eigen::OuterStride<>(H * qk));
        strided_map S(sc, mq, vis, Eigen::OuterStride<>(vis));
        S.noalias() = qh * const_strided_map(kh, vis, qk, Eigen::OuterStride<>(qk)).transpose();
        for (int64_t j = 0; j < mq; ++j) {  // row j sees keys [0, pos + i0 + j]
          float* row = sc + j * vis;
          const int64_t lim = pos + i0 + j + 1;
          float mx = -INFINITY;
          for (int64_t p = 0; p < lim; ++p) mx = std::fmax(mx, row[p] *= scale_);
          double sum = 0.0;
          for (int64_t p = 0; p < lim; ++p) sum += row[p] = std::exp(row[p] - mx);
          const float inv = static_cast<float>(1.0 / sum);
          for (int64_t p = 0; p < lim; ++p) row[p] *= inv;
          for (int64_t p = lim; p < vis; ++p) row[p] = 0.0f;
        }
        strided_map(&s.att[i0 * H * vd + h * vd], mq, vd, Eigen::OuterStride<>(H * vd)).noalias() =
            S * const_strided_map(vh, vis, vd, Eigen::OuterStride<>(vd));
      }
    }
  });
}

// --- several sequences over one shared prompt (model::begin_sequences) ---

void deepseek2_model::begin_sequences(forward_state& st, uint32_t n_shared, uint32_t n_seq) const {
  auto& s = static_cast<deepseek2_state&>(st);
  const uint32_t rows = seq_cache_rows(n_shared, n_seq, s.n_ctx());
  s.seq_cache_.reset();  // an earlier layout's pages go back before the new one is reserved
  s.seq_cache_ = std::make_unique<kv_cache>(hp_.n_layer, rows, s.cache_.k_row(), 0, s.kv_);
  s.n_shared_ = n_shared;
  s.seq_len_ = s.n_ctx() - n_shared;
  s.seq_filled_.assign(n_seq, n_shared);
}

void deepseek2_model::end_sequences(forward_state& st, uint32_t keep, uint32_t n_keep) const noexcept {
  auto& s = static_cast<deepseek2_state&>(st);
  if (!s.seq_cache_) return;
  if (keep < s.seq_filled_.size()) {
    // The kept sequence's latents follow the shared prompt, as if forward() had written them.
    const size_t n = std::min<size_t>(n_keep, s.seq_filled_[keep] - s.n_shared_);
    const size_t row0 = size_t{keep} * s.seq_len_, bytes = n * s.cache_.k_row() * s.cache_.elem_size();
    for (uint32_t l = 0; n && l < hp_.n_layer; ++l)
      std::memcpy(s.cache_.k<uint8_t>(l, 0) + size_t{s.n_shared_} * s.cache_.k_row() * s.cache_.elem_size(),
                  s.seq_cache_->k<uint8_t>(l, 0) + row0 * s.cache_.k_row() * s.cache_.elem_size(), bytes);
  }
  s.seq_cache_.reset();
  s.seq_filled_.clear();
}

void deepseek2_model::forward_batch(forward_state& st, std::span<const seq_token> tokens, float* logits) const {
  auto& s = static_cast<deepseek2_state&>(st);
  if (!s.seq_cache_) fail(errc::invalid_argument, "forward_batch() before begin_sequences()");
  std::vector<uint32_t> filled = check_seq_step(tokens, s.seq_filled_, s.n_shared_, s.n_ctx(), hp_.n_vocab, logits);
  for (size_t at = 0; at < tokens.size(); at += k_prefill_chunk) {
    const auto part = tokens.subspan(at, std::min(k_prefill_chunk, tokens.size() - at));
    seq_chunk(s, part, logits);
    for (const seq_token& t : part) logits += t.logits ? hp_.n_vocab : 0;
  }
  s.seq_filled_ = std::move(filled);
}

// One pass over tokens of several sequences: the layers of chunk(), but each token has its own position
// and cache row and attends (in the absorbed form) over the shared prompt and its own sequence.
void deepseek2_model::seq_chunk(deepseek2_state& s, std::span<const seq_token> tokens, float* logits) const {
  const size_t n = tokens.size();
  const int64_t d = hp_.n_embd, rd = hp_.mla.qk_rope_head_dim;
  s.reserve(hp_, n);
  s.exact_rows_ = n < k_seq_int8_min;
  const size_t emb_row = ggml_row_bytes(w_.tok_embd->type, d);
  s.logit_rows.clear();
  for (size_t i = 0; i < n; ++i) {
    dequantize_row(w_.tok_embd->type, w_.tok_embd->data + static_cast<size_t>(tokens[i].id) * emb_row, &s.x[i * d], d);
    rope_.angles(tokens[i].pos, &s.rope_cs[i * rd]);
    if (tokens[i].logits) s.logit_rows.push_back(static_cast<uint32_t>(i));
  }
  for (uint32_t l = 0; l < hp_.n_layer; ++l) block(s, l, n, [&] { attention_seqs(s, w_.layers[l], l, tokens); });
  const size_t m = s.logit_rows.size();
  for (size_t i = 0; i < m; ++i)
    ops::rms_norm(&s.x[s.logit_rows[i] * d], w_.output_norm.data(), &s.xb[i * d], d, hp_.rms_eps);
  if (m) {
    set_mode(s, m);
    s.mm_.matmul(w_.output, s.xb.data(), static_cast<int64_t>(m), logits);  // logits[m, n_vocab]
  }
  s.exact_rows_ = false;
}

// attention() for a forward_batch pass: each token's latent goes to its sequence's row, then attends
// over the shared rows [0, n_shared) and its sequence's own [n_shared, pos], gathered contiguous in f32
// (what decode's latent_rows gives it when the sequence decodes alone).
void deepseek2_model::attention_seqs(deepseek2_state& s, const mla_layer& w, uint32_t l,
                                     std::span<const seq_token> tokens) const {
  const size_t n = tokens.size(), kr = s.cache_.k_row();
  project(s, w, n);
  kv_cache& own = *s.seq_cache_;
  for (size_t i = 0; i < n; ++i) {
    const size_t row = s.seq_row(tokens[i]);
    if (s.kv_ == attn::kv_type::f32)
      std::memcpy(own.k<float>(l, row), &s.kva[i * kr], kr * sizeof(float));
    else
      for (size_t j = 0; j < kr; ++j) own.k<fp16_t>(l, row)[j] = f32_to_fp16(s.kva[i * kr + j]);
  }
  const size_t n_shared = s.n_shared_;
  const float* shared = n_shared ? latent_rows(s, l, n_shared) : nullptr;
  size_t total = 0;
  for (const seq_token& t : tokens) total += (size_t{t.pos} + 1) * kr;
  if (s.seq_rows.size() < total) s.seq_rows.resize(total);
  s.tok_c.resize(n);
  s.tok_len.resize(n);
  float* dst = s.seq_rows.data();
  for (size_t i = 0; i < n; ++i) {
    const seq_token& t = tokens[i];
    if (n_shared) std::memcpy(dst, shared, n_shared * kr * sizeof(float));
    const size_t first = size_t{t.seq} * s.seq_len_, mine = t.pos + 1 - n_shared;
    if (s.kv_ == attn::kv_type::f32)
      std::memcpy(dst + n_shared * kr, own.k<float>(l, first), mine * kr * sizeof(float));
    else
      dequantize_row(ggml_type::f16, own.k<fp16_t>(l, first), dst + n_shared * kr, static_cast<int64_t>(mine * kr));
    s.tok_c[i] = dst;
    s.tok_len[i] = t.pos + 1;
    dst += (size_t{t.pos} + 1) * kr;
  }
  absorbed_attention(s, w, n, true);                  // att[n, H, v]
  s.mm_.matmul(w.wo, s.att.data(), n, s.xb.data());  // xb[n, d]
}

// out[n, d] = down(silu(gate(in)) * up(in)); in and out may be the same buffer.
void deepseek2_model::mlp(deepseek2_state& s, const weight_view& gate, const weight_view& up, const weight_view& down,
                          const float* in, size_t n, float* out) const {
  const int64_t ff = gate.rows;
  set_mode(s, n);
  s.mm_.matmul(gate, in, n, s.gate.data());  // gate[n, ff]
  s.mm_.matmul(up, in, n, s.up.data());      // up[n, ff]
  for (size_t i = 0; i < n; ++i) ops::swiglu(&s.gate[i * ff], &s.up[i * ff], ff);
  s.mm_.matmul(down, s.gate.data(), n, out);  // out[n, d]
}

// xb[n, d] -> xb[n, d]: the routed experts, each run once over the rows routed to it, weighted, plus
// the shared experts over every row.
void deepseek2_model::moe(deepseek2_state& s, const mla_layer& w, size_t n) const {
  const auto& e = hp_.moe;
  const int64_t d = hp_.n_embd, ffe = e.n_ff_expert, k = e.n_expert_used;
  set_mode(s, n);
  s.mm_.matmul(w.router, s.xb.data(), n, s.router.data());  // router[n, n_expert]
  s.by_expert.resize(e.n_expert);
  for (auto& v : s.by_expert) v.clear();
  for (size_t i = 0; i < n; ++i) {
    route_token(e, &s.router[i * e.n_expert], w.router_bias, &s.ids[i * k], &s.weights[i * k], s.route_scratch);
    for (int64_t j = 0; j < k; ++j)
      s.by_expert[s.ids[i * k + j]].emplace_back(static_cast<uint32_t>(i), s.weights[i * k + j]);
  }
  std::fill(s.moe_out.begin(), s.moe_out.begin() + n * d, 0.0f);
  for (uint32_t x = 0; x < e.n_expert; ++x) {
    const auto& rows = s.by_expert[x];
    if (rows.empty()) continue;
    const size_t m = rows.size();
    s.ex.resize(m * d);
    s.eg.resize(m * ffe);
    s.eu.resize(m * ffe);
    s.ey.resize(m * d);
    for (size_t j = 0; j < m; ++j) std::memcpy(&s.ex[j * d], &s.xb[rows[j].first * d], d * sizeof(float));
    set_mode(s, m);
    s.mm_.matmul(w.gate_exps[x], s.ex.data(), m, s.eg.data());  // eg[m, ff_e]
    s.mm_.matmul(w.up_exps[x], s.ex.data(), m, s.eu.data());    // eu[m, ff_e]
    for (size_t j = 0; j < m; ++j) ops::swiglu(&s.eg[j * ffe], &s.eu[j * ffe], ffe);
    s.mm_.matmul(w.down_exps[x], s.eg.data(), m, s.ey.data());  // ey[m, d]
    for (size_t j = 0; j < m; ++j) {
      float* dst = &s.moe_out[rows[j].first * d];
      const float wt = rows[j].second;
      for (int64_t c = 0; c < d; ++c) dst[c] += wt * s.ey[j * d + c];
    }
  }
  if (w.gate_sh.rows) {
    mlp(s, w.gate_sh, w.up_sh, w.down_sh, s.xb.data(), n, s.xb.data());  // xb[n, d]: shared experts
    ops::add(s.xb.data(), s.moe_out.data(), n * d);
  } else {
    std::memcpy(s.xb.data(), s.moe_out.data(), n * d * sizeof(float));
  }
}

}  // namespace

std::unique_ptr<model> make_deepseek2(const hparams& hp, const tensor_source& w) {
  return std::make_unique<deepseek2_model>(hp, w);
}

}  // namespace dianoia::detail
