// The dense decoder shared by llama (Llama 1/2/3, SmolLM, Mistral-style GQA), qwen2 and qwen3: pre-norm
// blocks of RMSNorm -> attention with RoPE over a KV cache -> residual, RMSNorm -> SwiGLU MLP ->
// residual. The families differ only in explicit steps: qwen2 adds q/k/v biases, qwen3 RMS-normalises
// each q and k head before RoPE. RoPE rotates adjacent pairs or halves as hparams::rope says (GGUF
// llama: pairs, its q/k rows permuted by llama.cpp's converter; qwen2/qwen3 and HF safetensors: halves).
// One layer code serves a run of positions (forward: prompt chunks, decode) and a step over several
// sequences that share a prompt (forward_batch: samples); they differ in each token's position, the cache
// rows its keys and values go to, and the runs of the cache it attends over.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "core/thread_pool.hpp"
#include "kernels/matmul.hpp"
#include "kernels/quant/quant.hpp"
#include "model/attention.hpp"
#include "model/decoder_weights.hpp"
#include "model/kv_cache.hpp"
#include "model/ops.hpp"
#include "model/prefill_chunks.hpp"
#include "model/registry.hpp"
#include "model/rope.hpp"

namespace dianoia::detail {
namespace {

// Batches of at least this many tokens attend in f32 (see attention()).
constexpr size_t k_sgemm_min_batch = 32;
// Tokens per block of the prompt attention kernel (times the query heads of one KV head = its rows).
constexpr int64_t k_attn_block_tokens = 8;
// Long prompts run in chunks of this many tokens, so activations stay bounded by it, not the prompt.
constexpr size_t k_prefill_chunk = 512;

// A step over several sequences (forward_batch) multiplies through the gemv kernels, row by row over
// cached weight tiles, below this many tokens, and through the int8 GEMM from it on. The gemv kernels
// are bound by the vector ports, not by memory, so each row costs nearly a whole token, but every
// sequence gets the bits decoding it alone gives. The GEMM's cost hardly grows with the rows but starts
// high: at 8 rows most of it is unpacking the weights into panels, which a prompt batch amortises over
// hundreds of tokens. Measured (Qwen2.5-Coder-0.5B Q4_K_M, AVX-512 VNNI, 2 threads), one step against
// one token: 8 rows 5.2x (gemv) / 6.2x (GEMM); 12 rows ~7.8x / 6.3x; 16 rows 6.0x (GEMM).
constexpr size_t k_seq_int8_min = 12;

class decoder_state final : public forward_state {
 public:
  decoder_state(const hparams& hp, uint32_t n_ctx, int n_threads, attn::kv_type kv)
      : n_ctx_(n_ctx), kv_(kv), exact_batches_(false), pool_(n_threads), mm_(pool_),
        cache_(hp.n_layer, n_ctx, size_t{hp.n_head_kv} * hp.head_dim, size_t{hp.n_head_kv} * hp.head_dim, kv) {}
  uint32_t n_ctx() const override { return n_ctx_; }
  void set_numerics(const numerics_options& o) override {
    exact_batches_ = o.llamacpp_batches;
    mm_.set_isa_ceiling(o.isa_ceiling);
    mm_.set_exact_gemv(o.llamacpp_batches);
  }
  int n_threads() const override { return pool_.size(); }

  // Session files: K then V, each [layer][pos < n][n_kv * hd] in the cache's element type.
  size_t kv_bytes(uint32_t n) const override { return cache_.saved_bytes(n); }
  void kv_save(uint32_t n, uint8_t* out) const override { cache_.save(n, out); }
  void kv_load(uint32_t n, const uint8_t* in) override { cache_.load(n, in); }

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
  // Row of seq_cache_ that holds token t's keys and values.
  size_t seq_row(const seq_token& t) const { return size_t{t.seq} * seq_len_ + (t.pos - n_shared_); }

  uint32_t n_ctx_;
  attn::kv_type kv_;
  bool exact_batches_;  // llama.cpp numerics for every batch size (numerics_options::llamacpp_batches)
  thread_pool pool_;
  matmul_engine mm_;
  kv_cache cache_;  // [layer][pos][n_kv * hd] for K and for V; pages committed as positions fill
  size_t batch_ = 0;
  std::vector<float> x, xb, q, k, v, att, gate, up, rope_cs, scores;
  std::vector<int32_t> ids;     // forward_batch: the token ids of a pass
  std::vector<uint32_t> rows;   // the rows of x whose logits are wanted

  // begin_sequences: positions [0, n_shared_) stay in cache_, shared; sequence s keeps its own positions
  // in seq_cache_, rows [s * seq_len_, (s + 1) * seq_len_), reserved up front and committed as they fill.
  std::unique_ptr<kv_cache> seq_cache_;
  uint32_t n_shared_ = 0, seq_len_ = 0;
  std::vector<uint32_t> seq_filled_;  // per sequence: n_shared_ + its own positions written
};

// The tokens of one pass through the layers: a run of positions [pos, pos + n) of the shared cache
// (forward), or tokens of several sequences, each with its own position and cache rows (forward_batch).
struct pass {
  size_t n;
  uint32_t pos;           // run: the first token's position
  const seq_token* seq;   // sequences: each token's sequence and position; nullptr for a run
  int64_t position(size_t i) const { return seq ? seq[i].pos : pos + static_cast<int64_t>(i); }
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
  void begin_sequences(forward_state& st, uint32_t n_shared, uint32_t n_seq) const override;
  void forward_batch(forward_state& st, std::span<const seq_token> tokens, float* logits) const override;
  void end_sequences(forward_state& st, uint32_t keep, uint32_t n_keep) const noexcept override;

 private:
  void forward_chunk(decoder_state& s, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                     bool all_logits) const;
  void forward_seq_chunk(decoder_state& s, std::span<const seq_token> tokens, float* logits) const;
  void embed(decoder_state& s, std::span<const int32_t> ids, const pass& p) const;
  void layer(decoder_state& s, uint32_t l, const pass& p) const;
  void store_kv(decoder_state& s, uint32_t l, const pass& p) const;
  void attention(decoder_state& s, uint32_t layer, size_t n, uint32_t pos) const;
  void attention_blocks(decoder_state& s, uint32_t layer, size_t n, uint32_t pos) const;
  void attention_seqs(decoder_state& s, uint32_t layer, const pass& p) const;
  void output(decoder_state& s, std::span<const uint32_t> rows, float* logits) const;

  hparams hp_;
  decoder_weights w_;
  rope rope_;
};

void decoder_model::forward(forward_state& st, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                            bool all_logits) const {
  auto& s = static_cast<decoder_state&>(st);
  forward_in_chunks(hp_.n_vocab, s.n_ctx(), tokens, pos, logits, all_logits, k_prefill_chunk,
                    [&](std::span<const int32_t> t, uint32_t p, float* out, bool all) { forward_chunk(s, t, p, out, all); });
}

// One chunk of n tokens at positions [pos, pos + n). logits == nullptr: fill the cache only.
void decoder_model::forward_chunk(decoder_state& s, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                                  bool all_logits) const {
  const size_t n = tokens.size();
  s.reserve(hp_, n);
  // Prompt batches of quantized weights go through the int8 GEMM (float weights: dequantized tiles on
  // oneDNN's sgemm); one-token decode keeps the gemv kernels, which read each weight once. With
  // llama.cpp numerics every batch takes its q8-activation dots instead, row by row.
  s.mm_.set_prefill_mode(n > 1 && !s.exact_batches_ ? prefill_mode::int8 : prefill_mode::exact);
  const pass p{n, pos, nullptr};
  embed(s, tokens, p);                                        // x[n, d], rope_cs[n, rope_dim]
  for (uint32_t l = 0; l < hp_.n_layer; ++l) layer(s, l, p);  // x[n, d]
  if (!logits) return;
  // The last token's logits only, unless all are wanted.
  s.rows.clear();
  for (size_t i = all_logits ? 0 : n - 1; i < n; ++i) s.rows.push_back(static_cast<uint32_t>(i));
  output(s, s.rows, logits);  // logits[rows, n_vocab]
}

// x[n, d] = the embedding rows of the pass's tokens; rope_cs[n, rope_dim] = the rotation of each
// token's position, shared by every layer and head.
void decoder_model::embed(decoder_state& s, std::span<const int32_t> ids, const pass& p) const {
  const int64_t d = hp_.n_embd, rd = hp_.rope_dim;
  const size_t emb_row = ggml_row_bytes(w_.tok_embd->type, d);
  for (size_t i = 0; i < p.n; ++i)
    dequantize_row(w_.tok_embd->type, w_.tok_embd->data + static_cast<size_t>(ids[i]) * emb_row, &s.x[i * d], d);
  for (size_t i = 0; i < p.n; ++i) rope_.angles(p.position(i), &s.rope_cs[i * rd]);
}

// One block over the pass's n tokens: x[n, d] -> x[n, d]; their keys and values join the cache.
void decoder_model::layer(decoder_state& s, uint32_t l, const pass& p) const {
  const decoder_layer& w = w_.layers[l];
  const size_t n = p.n;
  const int64_t d = hp_.n_embd, hd = hp_.head_dim, rd = hp_.rope_dim;
  const int64_t q_dim = int64_t{hp_.n_head} * hd, kv_dim = int64_t{hp_.n_head_kv} * hd, ff = hp_.n_ff;
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
  store_kv(s, l, p);
  if (p.seq)
    attention_seqs(s, l, p);  // att[n, n_head*hd]
  else
    attention(s, l, n, p.pos);  // att[n, n_head*hd]
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

// k[n, kv_dim] and v[n, kv_dim] into the cache: a run as one block of consecutive rows of the shared
// cache, tokens of sequences one row each in their sequence's own rows.
void decoder_model::store_kv(decoder_state& s, uint32_t l, const pass& p) const {
  const size_t kv_dim = size_t{hp_.n_head_kv} * hp_.head_dim;
  const size_t block = p.seq ? 1 : p.n;
  for (size_t i = 0; i < p.n; i += block) {
    kv_cache& c = p.seq ? *s.seq_cache_ : s.cache_;
    const size_t row = p.seq ? s.seq_row(p.seq[i]) : p.pos;
    const float* k = &s.k[i * kv_dim];
    const float* v = &s.v[i * kv_dim];
    if (s.kv_ == attn::kv_type::f32) {
      std::memcpy(c.k<float>(l, row), k, block * kv_dim * sizeof(float));
      std::memcpy(c.v<float>(l, row), v, block * kv_dim * sizeof(float));
    } else {
      fp16_t* kc = c.k<fp16_t>(l, row);
      fp16_t* vc = c.v<fp16_t>(l, row);
      for (size_t j = 0; j < block * kv_dim; ++j) {
        kc[j] = f32_to_fp16(k[j]);
        vc[j] = f32_to_fp16(v[j]);
      }
    }
  }
}

// logits[m, n_vocab] for the m rows of x listed: the final norm, then the vocabulary projection.
void decoder_model::output(decoder_state& s, std::span<const uint32_t> rows, float* logits) const {
  const int64_t d = hp_.n_embd;
  for (size_t j = 0; j < rows.size(); ++j)
    ops::rms_norm(&s.x[rows[j] * d], w_.output_norm.data(), &s.xb[j * d], d, hp_.rms_eps);
  s.mm_.matmul(w_.output, s.xb.data(), static_cast<int64_t>(rows.size()), logits);
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
  if (f32_math && s.kv_ == attn::kv_type::f16 && attn::block_kernel_available(hd))
    return attention_blocks(s, layer, n, pos);
  const bool tiled = (f32_math && hd % 8 == 0) || (!f32_math && attn::llamacpp_uses_tiled(static_cast<int64_t>(n), hd));
  const size_t per_thread = std::max<size_t>({pos + n, 2 * static_cast<size_t>(hd),
                                              tiled ? static_cast<size_t>(attn::tiled_scratch_floats(hd)) : 0});
  s.reserve_scores(per_thread);
  const kv_cache& cache = s.cache_;
  // Prompt batches (already off llama.cpp's token-exact path for their matmuls) attend in f32 over the
  // f16 cache; decode and short batches keep the f16 accumulator of llama.cpp's one-query kernel.
  s.pool_.parallel_for_indexed(static_cast<int64_t>(n) * hp_.n_head, [&](int t, int64_t b, int64_t e) {
    float* scratch = &s.scores[static_cast<size_t>(t) * per_thread];
    for (int64_t job = b; job < e; ++job) {
      const int64_t i = job / hp_.n_head, h = job % hp_.n_head, kvh = h / group;
      const float* q = &s.q[i * q_dim + h * hd];
      float* out = &s.att[i * q_dim + h * hd];
      const int64_t len = pos + i + 1;
      const int64_t at = kvh * hd;  // this KV head's slice of each cached row
      if (s.kv_ == attn::kv_type::f32)
        attn::attend_f32(q, cache.k<float>(layer, 0) + at, cache.v<float>(layer, 0) + at, kv_dim, len, hd, scale,
                         scratch, out);
      else if (tiled)
        attn::attend_f16_tiled(q, cache.k<fp16_t>(layer, 0) + at, cache.v<fp16_t>(layer, 0) + at, kv_dim, len, hd,
                               scale, scratch, out);
      else if (f32_math)
        attn::attend_f16_f32(q, cache.k<fp16_t>(layer, 0) + at, cache.v<fp16_t>(layer, 0) + at, kv_dim, len, hd,
                             scale, scratch, out);
      else
        attn::attend_f16(q, cache.k<fp16_t>(layer, 0) + at, cache.v<fp16_t>(layer, 0) + at, kv_dim, len, hd, scale,
                         scratch, out);
    }
  });
}

// Prompt batches: blocks of k_attn_block_tokens tokens x the query heads of one KV head, each block
// converting every key/value tile once for all its rows (attn::attend_block_f16).
void decoder_model::attention_blocks(decoder_state& s, uint32_t layer, size_t n, uint32_t pos) const {
  const int64_t hd = hp_.head_dim, kv_dim = int64_t{hp_.n_head_kv} * hd, q_dim = int64_t{hp_.n_head} * hd;
  const int64_t group = hp_.n_head / hp_.n_head_kv, n_kv = hp_.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t nb = (static_cast<int64_t>(n) + k_attn_block_tokens - 1) / k_attn_block_tokens;
  const size_t per_thread = static_cast<size_t>(attn::block_scratch_floats(hd, k_attn_block_tokens * group));
  s.reserve_scores(per_thread);
  const kv_cache& cache = s.cache_;
  s.pool_.parallel_for_indexed(nb * n_kv, [&](int t, int64_t b, int64_t e) {
    float* scratch = &s.scores[static_cast<size_t>(t) * per_thread];
    for (int64_t job = b; job < e; ++job) {
      // Later blocks see more keys: alternate early and late blocks so each thread's share costs the same.
      const int64_t j = job / n_kv, kvh = job % n_kv;
      const int64_t blk = j % 2 == 0 ? j / 2 : nb - 1 - j / 2;
      const int64_t i0 = blk * k_attn_block_tokens;
      const int64_t nt = std::min<int64_t>(k_attn_block_tokens, static_cast<int64_t>(n) - i0);
      const attn::block_queries bq{&s.q[i0 * q_dim + kvh * group * hd], q_dim, nt, group, pos + i0 + 1};
      attn::attend_block_f16(bq, cache.k<fp16_t>(layer, 0) + kvh * hd, cache.v<fp16_t>(layer, 0) + kvh * hd, kv_dim,
                             hd, scale, scratch, &s.att[i0 * q_dim + kvh * group * hd], q_dim);
    }
  });
}

// --- several sequences over one shared prompt (model::begin_sequences) ---

void decoder_model::begin_sequences(forward_state& st, uint32_t n_shared, uint32_t n_seq) const {
  auto& s = static_cast<decoder_state&>(st);
  const uint32_t rows = seq_cache_rows(n_shared, n_seq, s.n_ctx());
  const size_t kv_dim = size_t{hp_.n_head_kv} * hp_.head_dim;
  s.seq_cache_.reset();  // an earlier layout's pages go back before the new one is reserved
  s.seq_cache_ = std::make_unique<kv_cache>(hp_.n_layer, rows, kv_dim, kv_dim, s.kv_);
  s.n_shared_ = n_shared;
  s.seq_len_ = s.n_ctx() - n_shared;
  s.seq_filled_.assign(n_seq, n_shared);
}

void decoder_model::end_sequences(forward_state& st, uint32_t keep, uint32_t n_keep) const noexcept {
  auto& s = static_cast<decoder_state&>(st);
  if (!s.seq_cache_) return;
  if (keep < s.seq_filled_.size()) {
    // Each layer's rows of the kept sequence follow the shared prompt, as if forward() had written them.
    const size_t n = std::min<size_t>(n_keep, s.seq_filled_[keep] - s.n_shared_);
    const size_t row0 = size_t{keep} * s.seq_len_;
    const size_t bytes = n * s.cache_.k_row() * s.cache_.elem_size();
    for (uint32_t l = 0; n && l < hp_.n_layer; ++l) {
      if (s.kv_ == attn::kv_type::f32) {
        std::memcpy(s.cache_.k<float>(l, s.n_shared_), s.seq_cache_->k<float>(l, row0), bytes);
        std::memcpy(s.cache_.v<float>(l, s.n_shared_), s.seq_cache_->v<float>(l, row0), bytes);
      } else {
        std::memcpy(s.cache_.k<fp16_t>(l, s.n_shared_), s.seq_cache_->k<fp16_t>(l, row0), bytes);
        std::memcpy(s.cache_.v<fp16_t>(l, s.n_shared_), s.seq_cache_->v<fp16_t>(l, row0), bytes);
      }
    }
  }
  s.seq_cache_.reset();
  s.seq_filled_.clear();
}

void decoder_model::forward_batch(forward_state& st, std::span<const seq_token> tokens, float* logits) const {
  auto& s = static_cast<decoder_state&>(st);
  if (!s.seq_cache_) fail(errc::invalid_argument, "forward_batch() before begin_sequences()");
  std::vector<uint32_t> filled = check_seq_step(tokens, s.seq_filled_, s.n_shared_, s.n_ctx(), hp_.n_vocab, logits);
  for (size_t at = 0; at < tokens.size(); at += k_prefill_chunk) {
    const auto part = tokens.subspan(at, std::min(k_prefill_chunk, tokens.size() - at));
    forward_seq_chunk(s, part, logits);
    for (const seq_token& t : part) logits += t.logits ? hp_.n_vocab : 0;
  }
  s.seq_filled_ = std::move(filled);
}

// One pass over n tokens of several sequences: the same layers as a run, but each token has its own
// position and cache rows and attends over its own sequence.
void decoder_model::forward_seq_chunk(decoder_state& s, std::span<const seq_token> tokens, float* logits) const {
  const size_t n = tokens.size();
  s.reserve(hp_, n);
  // See k_seq_int8_min. With llama.cpp numerics every step keeps its q8-activation dots.
  s.mm_.set_prefill_mode(n >= k_seq_int8_min && !s.exact_batches_ ? prefill_mode::int8 : prefill_mode::exact);
  s.ids.resize(n);
  s.rows.clear();
  for (size_t i = 0; i < n; ++i) {
    s.ids[i] = tokens[i].id;
    if (tokens[i].logits) s.rows.push_back(static_cast<uint32_t>(i));
  }
  const pass p{n, 0, tokens.data()};
  embed(s, s.ids, p);                                         // x[n, d], rope_cs[n, rope_dim]
  for (uint32_t l = 0; l < hp_.n_layer; ++l) layer(s, l, p);  // x[n, d]
  output(s, s.rows, logits);                                  // logits[rows, n_vocab]
}

// Token i of sequence s at position p attends over the shared positions [0, n_shared) and then its own
// [n_shared, p], with decode's one-query kernels: continuing the online softmax over the second run gives
// what one cache holding both would. Parallel over (token, head) pairs.
void decoder_model::attention_seqs(decoder_state& s, uint32_t layer, const pass& p) const {
  const int64_t hd = hp_.head_dim, kv_dim = int64_t{hp_.n_head_kv} * hd, q_dim = int64_t{hp_.n_head} * hd;
  const int64_t group = hp_.n_head / hp_.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  size_t longest = 0;
  for (size_t i = 0; i < p.n; ++i) longest = std::max<size_t>(longest, p.seq[i].pos + 1);
  const size_t per_thread = std::max<size_t>(longest, 2 * static_cast<size_t>(hd));
  s.reserve_scores(per_thread);
  const kv_cache& shared = s.cache_;
  const kv_cache& own = *s.seq_cache_;
  s.pool_.parallel_for_indexed(static_cast<int64_t>(p.n) * hp_.n_head, [&](int t, int64_t b, int64_t e) {
    float* scratch = &s.scores[static_cast<size_t>(t) * per_thread];
    for (int64_t job = b; job < e; ++job) {
      const int64_t i = job / hp_.n_head, h = job % hp_.n_head, at = h / group * hd;
      const seq_token& tok = p.seq[i];
      const size_t row0 = size_t{tok.seq} * s.seq_len_;  // the sequence's first own position
      const int64_t n_own = tok.pos - s.n_shared_ + 1;
      const float* q = &s.q[i * q_dim + h * hd];
      float* out = &s.att[i * q_dim + h * hd];
      if (s.kv_ == attn::kv_type::f32) {
        const attn::kv_run<float> runs[2] = {
            {shared.k<float>(layer, 0) + at, shared.v<float>(layer, 0) + at, s.n_shared_},
            {own.k<float>(layer, row0) + at, own.v<float>(layer, row0) + at, n_own}};
        attn::attend_f32_runs(q, runs, kv_dim, hd, scale, scratch, out);
      } else {
        const attn::kv_run<fp16_t> runs[2] = {
            {shared.k<fp16_t>(layer, 0) + at, shared.v<fp16_t>(layer, 0) + at, s.n_shared_},
            {own.k<fp16_t>(layer, row0) + at, own.v<fp16_t>(layer, row0) + at, n_own}};
        attn::attend_f16_runs(q, runs, kv_dim, hd, scale, scratch, out);
      }
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
