// Attention whose keys and values differ in size (attn::attend_kv): multi-head latent attention.
#include <cmath>

#define EIGEN_DONT_PARALLELIZE  // callers parallelise over heads and tokens
#include <Eigen/Core>

#include "model/attention.hpp"

namespace dianoia::detail::attn {
namespace {

using rows_map = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                            Eigen::OuterStride<>>;
using vec_map = Eigen::Map<Eigen::VectorXf>;
using cvec_map = Eigen::Map<const Eigen::VectorXf>;

// softmax(scores[0..len)) in place (f32 exponentials, the sum in double as attend_f32's); returns 1/sum.
float softmax_weights(float* scores, int64_t len, float scale) {
  float mx = -INFINITY;
  for (int64_t p = 0; p < len; ++p) mx = std::fmax(mx, scores[p] *= scale);
  double sum = 0.0;
  for (int64_t p = 0; p < len; ++p) sum += scores[p] = std::exp(scores[p] - mx);
  return static_cast<float>(1.0 / sum);
}

}  // namespace

// f32: the two products as Eigen matrix-vector products over the strided rows (vectorised; the scalar
// f16 version below is the reference arithmetic, in another summation order).
void attend_kv(const float* q, const float* k, int64_t k_stride, int64_t dk, const float* v, int64_t v_stride,
                      int64_t dv, int64_t len, float scale, float* scores, float* out) {
  vec_map s(scores, len);
  s.noalias() = rows_map(k, len, dk, Eigen::OuterStride<>(k_stride)) * cvec_map(q, dk);
  const float inv = softmax_weights(scores, len, scale);
  vec_map o(out, dv);
  o.noalias() = rows_map(v, len, dv, Eigen::OuterStride<>(v_stride)).transpose() * s;
  o *= inv;
}

void attend_kv(const float* q, const fp16_t* k, int64_t k_stride, int64_t dk, const fp16_t* v,
                       int64_t v_stride, int64_t dv, int64_t len, float scale, float* scores, float* out) {
  for (int64_t p = 0; p < len; ++p) {
    const fp16_t* kr = k + p * k_stride;
    float dot = 0.0f;
    for (int64_t j = 0; j < dk; ++j) dot += q[j] * fp16_to_f32(kr[j]);
    scores[p] = dot;
  }
  const float inv = softmax_weights(scores, len, scale);
  for (int64_t j = 0; j < dv; ++j) out[j] = 0.0f;
  for (int64_t p = 0; p < len; ++p) {
    const float w = scores[p] * inv;
    const fp16_t* vr = v + p * v_stride;
    for (int64_t j = 0; j < dv; ++j) out[j] += w * fp16_to_f32(vr[j]);
  }
}

}  // namespace dianoia::detail::attn
