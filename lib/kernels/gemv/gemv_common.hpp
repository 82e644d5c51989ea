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

// Requests the lines of a call's first passes before the loop starts: the loop only prefetches passes
// ahead of itself, so without this each call would begin on demand misses. That matters with two threads,
// where a matrix is handed out in chunks of 64 rows, each its own call.
inline void prefetch_head(const uint8_t* base, size_t rb, int64_t nrows, int64_t rows_per_pass) {
  const int64_t rows = nrows < rows_per_pass * k_prefetch_passes ? nrows : rows_per_pass * k_prefetch_passes;
  prefetch_step(base, static_cast<size_t>(rows) * rb, 0);
}

}  // namespace dianoia::detail::gemv
