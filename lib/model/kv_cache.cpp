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

// Bytes of n_ctx rows of `row` elements, rounded up to whole pages, so that no page holds the end of
// one layer's run and the start of the next (a page is committed for whoever writes it first).
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
  if (__builtin_mul_overflow(n_layer, k_layer_ + v_layer_, &size_))
    fail(errc::out_of_memory, "KV cache: {} layers of {} positions do not fit in the address space", n_layer, n_ctx);
  if (size_ == 0) return;
  // MAP_NORESERVE: the context is a ceiling, not a commitment; with the kernel's default heuristic
  // overcommit the reservation succeeds and pages are backed only when first written (reading an
  // unwritten page yields zeros, as a zero-filled buffer would).
  void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    fail(errc::out_of_memory, "KV cache: cannot reserve {:.1f} MiB for {} positions x {} layers: {}",
         static_cast<double>(size_) / (1024.0 * 1024.0), n_ctx, n_layer, std::strerror(err));
  }
  base_ = static_cast<uint8_t*>(p);
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
  if (base_) munmap(base_, size_);
  base_ = nullptr;
  size_ = 0;
}

kv_cache::kv_cache(kv_cache&& o) noexcept
    : n_layer_(o.n_layer_), n_ctx_(o.n_ctx_), k_row_(o.k_row_), v_row_(o.v_row_), type_(o.type_),
      k_layer_(o.k_layer_), v_layer_(o.v_layer_), base_(std::exchange(o.base_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

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
