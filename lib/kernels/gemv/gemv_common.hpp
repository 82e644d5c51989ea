// What the fast gemv files share: rows per pass, prefetch distance and the prefetch of a pass's share.
#pragma once
#include <xmmintrin.h>

#include <cstddef>
#include <cstdint>

namespace dianoia::detail::gemv {

// Weight rows per pass with one activation row, and how many passes ahead their bytes are prefetched.
inline constexpr int k_rows = 4;
inline constexpr int64_t k_prefetch_passes = 2;

// Requests the cache lines that start inside step i's share (step bytes) of the span at pf.
inline void prefetch_step(const uint8_t* pf, size_t step, int64_t i) {
  const uintptr_t b = reinterpret_cast<uintptr_t>(pf) + static_cast<uintptr_t>(i) * step, e = b + step;
  for (uintptr_t l = (b + 63) & ~uintptr_t{63}; l < e; l += 64) _mm_prefetch(reinterpret_cast<const char*>(l), _MM_HINT_T0);
}

}  // namespace dianoia::detail::gemv
