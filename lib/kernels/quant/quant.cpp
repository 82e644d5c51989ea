#include "kernels/quant/quant.hpp"

#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/quant/blocks.hpp"

namespace dianoia::detail {

namespace {

void dequant_q4_0(const block_q4_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += qk) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < qk / 2; ++j) {
      y[j] = static_cast<float>((b[i].qs[j] & 0x0f) - 8) * d;
      y[j + qk / 2] = static_cast<float>((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequant_q4_1(const block_q4_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += qk) {
    const float d = fp16_to_f32(b[i].d), m = fp16_to_f32(b[i].m);
    for (int j = 0; j < qk / 2; ++j) {
      y[j] = static_cast<float>(b[i].qs[j] & 0x0f) * d + m;
      y[j + qk / 2] = static_cast<float>(b[i].qs[j] >> 4) * d + m;
    }
  }
}

inline uint32_t load_qh(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian, as the file stores it
  return v;
}

void dequant_q5_0(const block_q5_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += qk) {
    const float d = fp16_to_f32(b[i].d);
    const uint32_t qh = load_qh(b[i].qh);
    for (int j = 0; j < qk / 2; ++j) {
      const int lo = (b[i].qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (b[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      y[j] = static_cast<float>(lo - 16) * d;
      y[j + qk / 2] = static_cast<float>(hi - 16) * d;
    }
  }
}

void dequant_q5_1(const block_q5_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += qk) {
    const float d = fp16_to_f32(b[i].d), m = fp16_to_f32(b[i].m);
    const uint32_t qh = load_qh(b[i].qh);
    for (int j = 0; j < qk / 2; ++j) {
      const int lo = (b[i].qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (b[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      y[j] = static_cast<float>(lo) * d + m;
      y[j + qk / 2] = static_cast<float>(hi) * d + m;
    }
  }
}

void dequant_q8_0(const block_q8_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += qk) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < qk; ++j) y[j] = static_cast<float>(b[i].qs[j]) * d;
  }
}

void dequant_q8_1(const block_q8_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += qk) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < qk; ++j) y[j] = static_cast<float>(b[i].qs[j]) * d;
  }
}

// One block of the llama.cpp AVX2 quantizer in scalar form. Returns sum(q) for Q8_1.
int quantize_block_q8(const float* x, fp16_t& d_out, int8_t* q, float& d_float) {
  float amax = 0.0f;
  for (int j = 0; j < qk; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.f;
  const float id = amax != 0.0f ? 127.f / amax : 0.0f;
  d_out = f32_to_fp16(d);
  d_float = d;
  uint32_t sum = 0;  // int32 arithmetic that wraps, like the vector code
  for (int j = 0; j < qk; ++j) {
    const float r = std::nearbyint(x[j] * id);  // default rounding mode: nearest even, like vroundps
    // cvtps2dq yields INT32_MIN for NaN (and out-of-range), then the packs saturate. Only reachable with
    // non-finite input; mirrored so the two implementations never disagree.
    const int32_t c = std::isnan(r) || std::fabs(r) >= 2147483648.f ? INT32_MIN : static_cast<int32_t>(r);
    q[j] = static_cast<int8_t>(c > 127 ? 127 : (c < -128 ? -128 : c));
    sum += static_cast<uint32_t>(c);
  }
  return static_cast<int32_t>(sum);
}

}  // namespace

bool dequantize_supports(ggml_type t) {
  switch (t) {
    case ggml_type::f32: case ggml_type::f16: case ggml_type::bf16: case ggml_type::q4_0:
    case ggml_type::q4_1: case ggml_type::q5_0: case ggml_type::q5_1: case ggml_type::q8_0:
    case ggml_type::q8_1: case ggml_type::q4_k: case ggml_type::q5_k: case ggml_type::q6_k:
    case ggml_type::q8_k:
      return true;
    default:
      return false;
  }
}

void dequantize_row(ggml_type t, const void* src, float* dst, int64_t n) {
  const auto tr = ggml_traits(t);
  if (!dequantize_supports(t))
    fail(errc::unsupported, "dequantize: tensor type {} ({}) is not supported", tr.name, static_cast<uint32_t>(t));
  if (n < 0 || n % tr.block_elems != 0)
    fail(errc::format, "dequantize: row of {} elements is not a multiple of the {} block size {}", n, tr.name,
         tr.block_elems);
  const int64_t nb = n / qk;
  switch (t) {
    case ggml_type::f32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case ggml_type::f16: {
      const auto* h = static_cast<const uint16_t*>(src);
      if (cpu_has_avx2()) return avx2::fp16_to_f32_row(h, dst, n);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(h[i]);
      return;
    }
    case ggml_type::bf16: {
      const auto* h = static_cast<const uint16_t*>(src);
      if (cpu_has_avx2()) return avx2::bf16_to_f32_row(h, dst, n);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(h[i]);
      return;
    }
    case ggml_type::q4_0: return dequant_q4_0(static_cast<const block_q4_0*>(src), dst, nb);
    case ggml_type::q4_1: return dequant_q4_1(static_cast<const block_q4_1*>(src), dst, nb);
    case ggml_type::q5_0: return dequant_q5_0(static_cast<const block_q5_0*>(src), dst, nb);
    case ggml_type::q5_1: return dequant_q5_1(static_cast<const block_q5_1*>(src), dst, nb);
    case ggml_type::q8_0: return dequant_q8_0(static_cast<const block_q8_0*>(src), dst, nb);
    case ggml_type::q8_1: return dequant_q8_1(static_cast<const block_q8_1*>(src), dst, nb);
    case ggml_type::q4_k: return dequantize_q4_k(src, dst, n / qk_k);
    case ggml_type::q5_k: return dequantize_q5_k(src, dst, n / qk_k);
    case ggml_type::q6_k: return dequantize_q6_k(src, dst, n / qk_k);
    case ggml_type::q8_k: return dequantize_q8_k(src, dst, n / qk_k);
    default: break;
  }
}

void quantize_row_q8_0_ref(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_0*>(dst);
  float d;
  for (int64_t i = 0; i < n / qk; ++i) quantize_block_q8(x + i * qk, y[i].d, y[i].qs, d);
}

void quantize_row_q8_1_ref(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_1*>(dst);
  for (int64_t i = 0; i < n / qk; ++i) {
    float d;
    const int sum = quantize_block_q8(x + i * qk, y[i].d, y[i].qs, d);
    y[i].s = f32_to_fp16(d * static_cast<float>(sum));
  }
}

void quantize_row_q8_0(const float* x, void* dst, int64_t n) {
  if (cpu_has_avx2()) return avx2::quantize_row_q8_0(x, dst, n);
  quantize_row_q8_0_ref(x, dst, n);
}

void quantize_row_q8_1(const float* x, void* dst, int64_t n) {
  if (cpu_has_avx2()) return avx2::quantize_row_q8_1(x, dst, n);
  quantize_row_q8_1_ref(x, dst, n);
}

void quantize_row_bf16_ref(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<bf16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

void quantize_row_bf16(const float* x, void* dst, int64_t n) {
  if (cpu_has_avx2()) return avx2::quantize_row_bf16(x, dst, n);
  quantize_row_bf16_ref(x, dst, n);
}

void round_row_through_bf16(const float* x, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(f32_to_bf16(x[i]));
}

void round_row_through_fp16(const float* x, float* dst, int64_t n) {
  if (cpu_has_avx2()) return avx2::round_row_through_fp16(x, dst, n);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(f32_to_fp16(x[i]));
}

}  // namespace dianoia::detail
