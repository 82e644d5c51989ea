// Attention of one query head over a KV cache, for the two cache types.
#pragma once
#include <cstdint>

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

// Over an f16 cache with f32 arithmetic throughout (unrounded q, f32 dots, two-pass softmax summed in
// double, f32 accumulator): the prompt-batch path, as llama.cpp's tiled kernel for large batches is.
// scores needs len floats.
void attend_f16_f32(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                    float scale, float* scores, float* out);

// The scalar version (reference for tests; used without AVX2). attend_f16 gives the same bits.
void attend_f16_ref(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                    float scale, float* scratch, float* out);

}  // namespace dianoia::detail::attn
