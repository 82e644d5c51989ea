// Runtime CPU checks that gate the *_avx2.cpp kernels (compiled with -mavx2 -mfma -mf16c while the rest
// of the library stays baseline x86-64).
#pragma once

namespace dianoia::detail {

// AVX2 + FMA + F16C, all three: the avx2 kernels use every one of them.
inline bool cpu_has_avx2() {
  static const bool v = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  }();
  return v;
}

}  // namespace dianoia::detail
