// Bring the pages of a mapped range into this process's page tables ahead of use.
#pragma once
#include <cstddef>

namespace dianoia::detail {

// Faults in the pages of [p, p + n) for reading: MADV_POPULATE_READ where the kernel has it (Linux 5.14+),
// else one read per page. Pages not yet in the page cache are read from the file. Best effort: never
// fails (a range it cannot populate is faulted in later, on first use, as before).
void prefault_read(const void* p, size_t n);

}  // namespace dianoia::detail
