#include "core/prefault.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace dianoia::detail {

namespace {
#ifndef MADV_POPULATE_READ
constexpr int MADV_POPULATE_READ = 22;  // Linux 5.14; older headers lack the name
#endif
}  // namespace

void prefault_read(const void* p, size_t n) {
  if (!p || n == 0) return;
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t b = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  const uintptr_t e = reinterpret_cast<uintptr_t>(p) + n;
  if (::madvise(reinterpret_cast<void*>(b), e - b, MADV_POPULATE_READ) == 0) return;
  // Older kernels (EINVAL): touch one byte per page. volatile keeps the reads.
  volatile uint8_t sink = 0;
  for (uintptr_t a = b; a < e; a += page)
    sink = static_cast<uint8_t>(sink + *reinterpret_cast<const volatile uint8_t*>(std::max(a, reinterpret_cast<uintptr_t>(p))));
}

}  // namespace dianoia::detail
