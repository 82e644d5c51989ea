// Attention whose keys and values differ in size (attn::attend_kv): multi-head latent attention.
#include <cmath>

#include "model/attention.hpp"

namespace dianoia::detail::attn {
namespace {

inline float widen(float x) { return x; }
inline float widen(fp16_t x) { return fp16_to_f32(x); }

}  // namespace

template <class T>
void attend_kv(const float* q, const T* k, int64_t k_stride, int64_t dk, const T* v, int64_t v_stride, int64_t dv,
               int64_t len, float scale, float* scores, float* out) {
  float mx = -INFINITY;
  for (int64_t p = 0; p < len; ++p) {
    const T* kr = k + p * k_stride;
    float dot = 0.0f;
    for (int64_t j = 0; j < dk; ++j) dot += q[j] * widen(kr[j]);
    scores[p] = dot * scale;
    mx = std::fmax(mx, scores[p]);
  }
  double sum = 0.0;
  for (int64_t p = 0; p < len; ++p) {
    scores[p] = std::exp(scores[p] - mx);
    sum += scores[p];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < dv; ++j) out[j] = 0.0f;
  for (int64_t p = 0; p < len; ++p) {
    const float w = scores[p] * inv;
    const T* vr = v + p * v_stride;
    for (int64_t j = 0; j < dv; ++j) out[j] += w * widen(vr[j]);
  }
}

template void attend_kv<float>(const float*, const float*, int64_t, int64_t, const float*, int64_t, int64_t, int64_t,
                               float, float*, float*);
template void attend_kv<fp16_t>(const float*, const fp16_t*, int64_t, int64_t, const fp16_t*, int64_t, int64_t,
                                int64_t, float, float*, float*);

}  // namespace dianoia::detail::attn
