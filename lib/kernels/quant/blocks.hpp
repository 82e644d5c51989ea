// The ggml quantization blocks, byte for byte as they sit in a GGUF file (and as llama.cpp's CPU code
// builds its activation blocks). 32 elements per block for the legacy types, 256 (a "super-block" of
// 8 or 16 sub-blocks) for the K types; scales are IEEE half unless noted.
//
//   Q4_0: x = d * (q - 8),       q in 0..15; byte j holds element j (low nibble) and j+16 (high nibble)
//   Q4_1: x = d * q + m,         same nibble order
//   Q5_0: x = d * (q - 16),      q = nibble | (bit j of qh) << 4; qh's bit j+16 belongs to element j+16
//   Q5_1: x = d * q + m
//   Q8_0: x = d * q,             q signed byte
//   Q8_1: x = d * q, and s = d * sum(q) precomputed (used against Q4_1's offset m)
//
// K types, 256 elements in 8 sub-blocks of 32 (Q4_K, Q5_K) or 16 of 16 (Q6_K):
//   Q4_K: x = d * sc[s] * q - dmin * mn[s],  q in 0..15; sc/mn are 6-bit, packed in 12 bytes (see
//         kquant_scale_min); each 32 bytes of qs hold sub-block 2k (low nibbles) and 2k+1 (high nibbles)
//   Q5_K: as Q4_K with a fifth bit: bit 2k of qh[l] for element l of sub-block 2k, bit 2k+1 for 2k+1
//   Q6_K: x = d * sc[s] * (q - 32), q in 0..63 = 4 bits of ql | 2 bits of qh << 4; sc signed bytes
//   Q8_K: x = d * q with d a *float*; bsums[j] = sum of q over elements 16j..16j+15 (activations only)
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/ggml_types.hpp"
#include "kernels/quant/fp16.hpp"

namespace dianoia::detail {

inline constexpr int qk = 32;  // elements per block for every type here

struct block_q4_0 {
  fp16_t d;
  uint8_t qs[qk / 2];
};
struct block_q4_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qs[qk / 2];
};
struct block_q5_0 {
  fp16_t d;
  uint8_t qh[4];
  uint8_t qs[qk / 2];
};
struct block_q5_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qh[4];
  uint8_t qs[qk / 2];
};
struct block_q8_0 {
  fp16_t d;
  int8_t qs[qk];
};
struct block_q8_1 {
  fp16_t d;
  fp16_t s;
  int8_t qs[qk];
};

inline constexpr int qk_k = 256;  // elements per K-type super-block

struct block_q4_k {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[12];
  uint8_t qs[qk_k / 2];
};
struct block_q5_k {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[12];
  uint8_t qh[qk_k / 8];
  uint8_t qs[qk_k / 2];
};
struct block_q6_k {
  uint8_t ql[qk_k / 2];
  uint8_t qh[qk_k / 4];
  int8_t scales[qk_k / 16];
  fp16_t d;
};
struct block_q8_k {
  float d;
  int8_t qs[qk_k];
  int16_t bsums[qk_k / 16];
};

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block: j < 4 sit in the low 6 bits of
// bytes j and j+4; j >= 4 take 4 low bits from byte j+4 and their top 2 bits from bytes j-4 and j.
inline void kquant_scale_min(int j, const uint8_t* q, int& sc, int& mn) {
  if (j < 4) {
    sc = q[j] & 63;
    mn = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

static_assert(sizeof(block_q4_0) == 18 && alignof(block_q4_0) == 2);
static_assert(sizeof(block_q4_1) == 20);
static_assert(sizeof(block_q5_0) == 22);
static_assert(sizeof(block_q5_1) == 24);
static_assert(sizeof(block_q8_0) == 34);
static_assert(sizeof(block_q8_1) == 36);
static_assert(sizeof(block_q4_0) == ggml_traits(ggml_type::q4_0).block_bytes);
static_assert(sizeof(block_q4_1) == ggml_traits(ggml_type::q4_1).block_bytes);
static_assert(sizeof(block_q5_0) == ggml_traits(ggml_type::q5_0).block_bytes);
static_assert(sizeof(block_q5_1) == ggml_traits(ggml_type::q5_1).block_bytes);
static_assert(sizeof(block_q8_0) == ggml_traits(ggml_type::q8_0).block_bytes);
static_assert(sizeof(block_q8_1) == ggml_traits(ggml_type::q8_1).block_bytes);
static_assert(sizeof(block_q4_k) == ggml_traits(ggml_type::q4_k).block_bytes);
static_assert(sizeof(block_q5_k) == ggml_traits(ggml_type::q5_k).block_bytes);
static_assert(sizeof(block_q6_k) == ggml_traits(ggml_type::q6_k).block_bytes);
static_assert(sizeof(block_q8_k) == ggml_traits(ggml_type::q8_k).block_bytes);

}  // namespace dianoia::detail
