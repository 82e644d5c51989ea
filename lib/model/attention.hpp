// Attention of one query head over a KV cache, for the two cache types.
#pragma once
#include <cstdint>
#include <span>

#include "kernels/quant/fp16.hpp"

namespace dianoia::detail::attn {

enum class kv_type { f32, f16 };

// out[hd] = softmax(q . K[0..len) * scale) . V[0..len). Rows of K and V are `stride` elements apart.
// Two-pass softmax in f32; scores needs len floats.
void attend_f32(const float* q, const float* k, const float* v, int64_t stride, int64_t len, int64_t hd, float scale,
                float* scores, float* out);

// The same over an f16 cache, computed the way llama.cpp's CPU flash attention does (its default), so
// that greedy decoding picks the same tokens: q rounded to f16, f16 dot products in f32, an online
// softmax whose V accumulator is kept in f16. scratch needs 2*hd floats.
void attend_f16(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd, float scale,
                float* scratch, float* out);

// Keys and values of `len` consecutive cached positions (one KV head's slice of each row; rows `stride`
// elements apart, as above).
template <class T>
struct kv_run {
  const T* k;
  const T* v;
  int64_t len;
};

// attend_f32 and attend_f16 over several runs of the cache, the keys of each run after those of the runs
// before it: bit for bit what one run holding them all in that order gives (a sequence that shares its
// prompt's positions with others and keeps its own positions apart). scores needs the total length;
// scratch 2*hd floats.
void attend_f32_runs(const float* q, std::span<const kv_run<float>> runs, int64_t stride, int64_t hd, float scale,
                     float* scores, float* out);
void attend_f16_runs(const float* q, std::span<const kv_run<fp16_t>> runs, int64_t stride, int64_t hd, float scale,
                     float* scratch, float* out);
void attend_f16_runs_ref(const float* q, std::span<const kv_run<fp16_t>> runs, int64_t stride, int64_t hd,
                         float scale, float* scratch, float* out);

// Over an f16 cache with f32 arithmetic throughout (unrounded q, f32 dots, two-pass softmax summed in
// double, f32 accumulator): the prompt-batch path, as llama.cpp's tiled kernel for large batches is.
// scores needs len floats.
void attend_f16_f32(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                    float scale, float* scores, float* out);

// llama.cpp's CPU flash attention switches to a tiled kernel when a batch holds at least this many queries
// (GGML_FA_TILE_Q) and the head size is a multiple of the SIMD width; keys go in tiles of k_fa_tile_kv.
constexpr int64_t k_fa_tile_q = 64;
constexpr int64_t k_fa_tile_kv = 64;
inline bool llamacpp_uses_tiled(int64_t n_queries, int64_t hd) { return n_queries >= k_fa_tile_q && hd % 8 == 0; }

// One query row the way that tiled kernel computes it over an f16 cache: q stays f32; per tile of 64
// keys (from key 0) the scores are fma chains over the head dimension times scale, the running max is
// raised to the tile's max (rescaling the f32 accumulator and the sum by expf of the difference), the
// tile's weights are ggml's vector exp (ops::ggml_expf) of score - max, summed 8 at a time in float and
// across groups in double into a float sum, and the accumulator takes weight * v as one fma chain per
// element. hd % 8 == 0. scratch needs tiled_scratch_floats(hd).
void attend_f16_tiled(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                      float scale, float* scratch, float* out);
void attend_f16_tiled_ref(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                          float scale, float* scratch, float* out);
inline int64_t tiled_scratch_floats(int64_t hd) { return (k_fa_tile_kv + 1) * hd + 2 * k_fa_tile_kv; }

// A block of prompt queries that share one KV head: n_tok consecutive tokens x n_head query heads (the
// GQA group). Row (t, h) reads q[t * q_stride + h * hd] and sees keys [0, len0 + t).
struct block_queries {
  const float* q;
  int64_t q_stride;  // floats between consecutive tokens' queries
  int64_t n_tok;
  int64_t n_head;
  int64_t len0;      // keys visible to the first token (its position + 1)
};
// Tile of keys the block kernel converts to f32 at a time.
constexpr int64_t k_block_tile_kv = 64;
// Floats of scratch attend_block_f16 needs.
inline int64_t block_scratch_floats(int64_t hd, int64_t rows) {
  return 2 * hd * k_block_tile_kv + 2 * rows * hd + 2 * rows + k_block_tile_kv;
}
// Whether attend_block_f16 takes this head size (and the CPU has AVX2).
bool block_kernel_available(int64_t hd);

// Every row of the block attends over the f16 cache, f32 arithmetic (scaled q, online softmax): the same
// math as attend_f16_f32, but each key/value tile is converted once for all rows. Output row (t, h) goes to
// out[t * out_stride + h * hd]. scratch needs block_scratch_floats(hd, n_tok * n_head) floats.
void attend_block_f16(const block_queries& bq, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t hd,
                      float scale, float* scratch, float* out, int64_t out_stride);

// Keys and values of different sizes in rows of their own: out[dv] = softmax(q . K[0..len) * scale) .
// V[0..len), key p at k + p * k_stride (dk values), value p at v + p * v_stride (dv values); K and V may
// be slices of the same rows (multi-head latent attention's absorbed form attends over the cached latent
// as both). Over f32 rows (vectorised products) or f16 rows (scalar, each value widened exactly; callers that
// attend many heads over one f16 run widen it once and take the f32 version); the softmax sums in
// double, as attend_f32's. scores needs len floats.
void attend_kv(const float* q, const float* k, int64_t k_stride, int64_t dk, const float* v, int64_t v_stride,
               int64_t dv, int64_t len, float scale, float* scores, float* out);
void attend_kv(const float* q, const fp16_t* k, int64_t k_stride, int64_t dk, const fp16_t* v, int64_t v_stride,
               int64_t dv, int64_t len, float scale, float* scores, float* out);

// The scalar version (reference for tests; used without AVX2). attend_f16 gives the same bits.
void attend_f16_ref(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                    float scale, float* scratch, float* out);

}  // namespace dianoia::detail::attn
