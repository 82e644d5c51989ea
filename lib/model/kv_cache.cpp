#include "model/kv_cache.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "core/error.hpp"

namespace dianoia::detail {

namespace {

// Every layer's run starts this far past a page boundary, not on it (nor on a cache line). Measured on
// the development VM (AMD EPYC): decode attention over f16 rows that start on a cache line runs up to
// 2x slower than over rows 16, 32 or 48 bytes into one (9 heads x 30 layers over 1,500 positions:
// 20.4 ms vs 10.0-10.4 ms a token; f32 rows: 8%); the zero-filled vectors this cache replaced had
// their rows 16 bytes in (malloc's header), by luck. Half a line also keeps the 32-byte loads of f32
// rows from straddling two lines.
constexpr size_t k_row_skew = 32;

// Bytes reserved for n_ctx rows of `row` elements, rounded up to whole pages so that each layer's run
// begins at the same offset in a page of its own: filling positions [0, p) commits only the first
// pages of each run (plus, once a run is full, the page its last bytes share with the next one).
size_t layer_run_bytes(uint32_t n_ctx, size_t row, size_t elem, size_t page) {
  size_t b;
  if (__builtin_mul_overflow(row, elem, &b) || __builtin_mul_overflow(b, size_t{n_ctx}, &b) || b > SIZE_MAX - page)
    fail(errc::out_of_memory, "KV cache: {} positions of {} values do not fit in the address space", n_ctx, row);
  return (b + page - 1) / page * page;
}

}  // namespace

kv_cache::kv_cache(size_t n_layer, uint32_t n_ctx, size_t k_row, size_t v_row, attn::kv_type type)
    : n_layer_(n_layer), n_ctx_(n_ctx), k_row_(k_row), v_row_(v_row), type_(type) {
  const long ps = sysconf(_SC_PAGESIZE);
  const size_t page = ps > 0 ? static_cast<size_t>(ps) : 4096;
  k_layer_ = layer_run_bytes(n_ctx, k_row, elem_size(), page);
  v_layer_ = layer_run_bytes(n_ctx, v_row, elem_size(), page);
  size_t runs;
  if (__builtin_add_overflow(k_layer_, v_layer_, &runs) || __builtin_mul_overflow(n_layer, runs, &runs) ||
      runs > SIZE_MAX - page)
    fail(errc::out_of_memory, "KV cache: {} layers of {} positions do not fit in the address space", n_layer, n_ctx);
  if (runs == 0) return;  // no layers, or rows of no values: nothing to store
  size_ = runs + page;    // room for the skew
  // MAP_NORESERVE: the context is a ceiling, not a commitment; with the kernel's default heuristic
  // overcommit the reservation succeeds and pages are backed only when first written (reading an
  // unwritten page yields zeros, as a zero-filled buffer would).
  void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    size_ = 0;
    fail(errc::out_of_memory, "KV cache: cannot reserve {:.1f} MiB for {} positions x {} layers: {}",
         static_cast<double>(runs) / (1024.0 * 1024.0), n_ctx, n_layer, std::strerror(err));
  }
  map_ = static_cast<uint8_t*>(p);
  base_ = map_ + k_row_skew;
#ifdef MADV_NOHUGEPAGE
  // With transparent huge pages set to "always", the first write to a layer's run would commit 2 MiB
  // rather than one 4 KiB page: up to 2 MiB x 2 x n_layer before a single position is cached, about
  // the size of a small model's whole weights. Attention reads the cache sequentially, so the TLB
  // misses of small pages cost little next to that.
  madvise(p, size_, MADV_NOHUGEPAGE);
#endif
}

kv_cache::~kv_cache() { release(); }

void kv_cache::release() noexcept {
  if (map_) munmap(map_, size_);
  map_ = base_ = nullptr;
  size_ = 0;
}

kv_cache::kv_cache(kv_cache&& o) noexcept
    : n_layer_(o.n_layer_), n_ctx_(o.n_ctx_), k_row_(o.k_row_), v_row_(o.v_row_), type_(o.type_),
      k_layer_(o.k_layer_), v_layer_(o.v_layer_), map_(std::exchange(o.map_, nullptr)),
      base_(std::exchange(o.base_, nullptr)), size_(std::exchange(o.size_, 0)) {}

kv_cache& kv_cache::operator=(kv_cache&& o) noexcept {
  if (this != &o) {
    release();
    n_layer_ = o.n_layer_;
    n_ctx_ = o.n_ctx_;
    k_row_ = o.k_row_;
    v_row_ = o.v_row_;
    type_ = o.type_;
    k_layer_ = o.k_layer_;
    v_layer_ = o.v_layer_;
    map_ = std::exchange(o.map_, nullptr);
    base_ = std::exchange(o.base_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void kv_cache::check_positions(uint32_t n) const {
  if (n > n_ctx_) fail(errc::invalid_argument, "KV cache: {} positions exceed the context of {}", n, n_ctx_);
}

size_t kv_cache::saved_bytes(uint32_t n) const {
  check_positions(n);
  return size_t{n} * bytes_per_position();
}

void kv_cache::save(uint32_t n, uint8_t* out) const {
  check_positions(n);
  const size_t kb = size_t{n} * k_row_ * elem_size(), vb = size_t{n} * v_row_ * elem_size();
  for (size_t l = 0; kb && l < n_layer_; ++l, out += kb) std::memcpy(out, k_bytes(l, 0), kb);
  for (size_t l = 0; vb && l < n_layer_; ++l, out += vb) std::memcpy(out, v_bytes(l, 0), vb);
}

void kv_cache::load(uint32_t n, const uint8_t* in) {
  check_positions(n);
  const size_t kb = size_t{n} * k_row_ * elem_size(), vb = size_t{n} * v_row_ * elem_size();
  for (size_t l = 0; kb && l < n_layer_; ++l, in += kb) std::memcpy(k_bytes(l, 0), in, kb);
  for (size_t l = 0; vb && l < n_layer_; ++l, in += vb) std::memcpy(v_bytes(l, 0), in, vb);
}

}  // namespace dianoia::detail
