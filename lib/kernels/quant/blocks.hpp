// The ggml quantization blocks, byte for byte as they sit in a GGUF file (and as llama.cpp's CPU code
// builds its activation blocks). 32 elements per block; scales are IEEE half.
//
//   Q4_0: x = d * (q - 8),       q in 0..15; byte j holds element j (low nibble) and j+16 (high nibble)
//   Q4_1: x = d * q + m,         same nibble order
//   Q5_0: x = d * (q - 16),      q = nibble | (bit j of qh) << 4; qh's bit j+16 belongs to element j+16
//   Q5_1: x = d * q + m
//   Q8_0: x = d * q,             q signed byte
//   Q8_1: x = d * q, and s = d * sum(q) precomputed (used against Q4_1's offset m)
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

}  // namespace dianoia::detail
