#include "model/attention.hpp"

#include <cmath>

#include "kernels/dot.hpp"

namespace dianoia::detail::attn {

void attend_f32(const float* q, const float* k, const float* v, int64_t stride, int64_t len, int64_t hd, float scale,
                float* scores, float* out) {
  float mx = -INFINITY;
  for (int64_t p = 0; p < len; ++p) {
    const float* kr = k + p * stride;
    float dot = 0.0f;
    for (int64_t j = 0; j < hd; ++j) dot += q[j] * kr[j];
    scores[p] = dot * scale;
    mx = std::fmax(mx, scores[p]);
  }
  double sum = 0.0;
  for (int64_t p = 0; p < len; ++p) {
    scores[p] = std::exp(scores[p] - mx);
    sum += scores[p];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < hd; ++j) out[j] = 0.0f;
  for (int64_t p = 0; p < len; ++p) {
    const float a = scores[p] * inv;
    const float* vr = v + p * stride;
    for (int64_t j = 0; j < hd; ++j) out[j] += a * vr[j];
  }
}

void attend_f16(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd, float scale,
                float* scratch, float* out) {
  static const gemv_fn dot_f16 = select_gemv(ggml_type::f16);
  float* q16 = scratch;       // q rounded through half, as the f16 dot product consumes it
  float* acc = scratch + hd;  // the f16 accumulator, held as floats that are always exact halves
  for (int64_t j = 0; j < hd; ++j) {
    q16[j] = fp16_to_f32(f32_to_fp16(q[j]));
    acc[j] = 0.0f;
  }
  float S = 0.0f, M = -INFINITY;
  for (int64_t p = 0; p < len; ++p) {
    float s;
    dot_f16(k + p * stride, 0, 1, q16, hd, &s);
    s *= scale;
    float ms = 1.0f, vs = 1.0f;
    if (s > M) {
      ms = std::exp(M - s);
      M = s;
      for (int64_t j = 0; j < hd; ++j) acc[j] = fp16_to_f32(f32_to_fp16(acc[j] * ms));
    } else {
      vs = std::exp(s - M);
    }
    const fp16_t* vr = v + p * stride;
    for (int64_t j = 0; j < hd; ++j) acc[j] = fp16_to_f32(f32_to_fp16(std::fma(fp16_to_f32(vr[j]), vs, acc[j])));
    S = S * ms + vs;
  }
  const float inv = S == 0.0f ? 0.0f : 1.0f / S;
  for (int64_t j = 0; j < hd; ++j) out[j] = acc[j] * inv;
}

}  // namespace dianoia::detail::attn
