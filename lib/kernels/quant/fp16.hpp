// Scalar IEEE half and bfloat16 conversions, bit-exact with F16C (round to nearest even, subnormals kept,
// NaN stays NaN). The model files store scales and F16 weights in these formats; the scalar versions are
// the reference the F16C code is tested against and the fallback on CPUs without F16C.
#pragma once
#include <bit>
#include <cstdint>

namespace dianoia::detail {

using fp16_t = uint16_t;
using bf16_t = uint16_t;

constexpr float fp16_to_f32(fp16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);  // inf, or NaN with its payload (quietness kept as is)
    if (man) bits |= 0x00400000u;             // F16C quiets signalling NaNs
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {
    // Subnormal half: value = man * 2^-24; normalise it.
    int e = -1;
    do {
      man <<= 1;
      ++e;
    } while ((man & 0x400u) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((man & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

constexpr fp16_t f32_to_fp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return static_cast<fp16_t>(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // NaN, quieted
  if (ax >= 0x477ff000u) return static_cast<fp16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (ax >= 0x38800000u) {
    // Normal half. Rebias the exponent, then round the 13 dropped bits to nearest even; a carry out of
    // the mantissa correctly bumps the exponent.
    uint32_t r = ax - 0x38000000u;
    r += 0xfffu + ((r >> 13) & 1u);
    return static_cast<fp16_t>(sign | (r >> 13));
  }
  if (ax < 0x33000000u) return static_cast<fp16_t>(sign);  // below half of the smallest subnormal: 0
  // Subnormal half: the result is round(mantissa_with_implicit_bit >> shift), nearest even.
  const uint32_t e = ax >> 23;                       // 102..112
  const uint32_t m = (ax & 0x7fffffu) | 0x800000u;   // 24 significant bits
  const uint32_t shift = 126u - e;                   // value = m * 2^(e-150); half unit = 2^-24
  uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return static_cast<fp16_t>(sign | q);
}

constexpr float bf16_to_f32(bf16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// Round to nearest even, NaN quieted (what ggml does when it writes BF16).
constexpr bf16_t f32_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<bf16_t>((x >> 16) | 64u);
  return static_cast<bf16_t>((x + (0x7fffu + ((x >> 16) & 1u))) >> 16);
}

}  // namespace dianoia::detail
