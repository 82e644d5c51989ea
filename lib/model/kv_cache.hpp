// The per-session KV cache: for each of n_layer layers, a key row and a value row per position, up to
// n_ctx positions, in f16 or f32.
//
// Memory is committed as positions fill, not when the session is created: the whole cache is one
// anonymous mapping reserved up front (so the addresses never move and a full context can still be
// reached), and the kernel backs a page only when it is first written. Each layer's keys (and values)
// are one contiguous run of positions, so filling positions [0, p) touches the first pages of each run
// and nothing else; a session that uses 500 of 32,768 positions costs 500 positions of RAM.
//
// K and V rows may differ in width (multi-head latent attention caches a latent row and a RoPE key
// row of different sizes).
#pragma once
#include <cstddef>
#include <cstdint>

#include "model/attention.hpp"

namespace dianoia::detail {

class kv_cache {
 public:
  // k_row / v_row: elements per position per layer. error(out_of_memory) if the address space cannot be
  // reserved.
  kv_cache(size_t n_layer, uint32_t n_ctx, size_t k_row, size_t v_row, attn::kv_type type);
  ~kv_cache();
  kv_cache(kv_cache&& o) noexcept;
  kv_cache& operator=(kv_cache&& o) noexcept;
  kv_cache(const kv_cache&) = delete;
  kv_cache& operator=(const kv_cache&) = delete;

  size_t n_layer() const noexcept { return n_layer_; }
  uint32_t n_ctx() const noexcept { return n_ctx_; }
  size_t k_row() const noexcept { return k_row_; }
  size_t v_row() const noexcept { return v_row_; }
  attn::kv_type type() const noexcept { return type_; }
  size_t elem_size() const noexcept { return type_ == attn::kv_type::f32 ? sizeof(float) : sizeof(fp16_t); }
  // K and V of one position in every layer: what each cached token costs.
  size_t bytes_per_position() const noexcept { return n_layer_ * (k_row_ + v_row_) * elem_size(); }
  // Address space reserved for the whole context (each layer's runs rounded up to whole pages), and
  // where it starts (page-aligned; the rows start a few bytes in).
  size_t reserved_bytes() const noexcept { return size_; }
  const void* reserved_begin() const noexcept { return map_; }

  // Layer l's key (value) row of position p; the rows of later positions follow it, k_row() (v_row())
  // elements apart, up to n_ctx. T must be the element type (float for f32, fp16_t for f16).
  template <class T>
  T* k(size_t l, size_t p) noexcept {
    return reinterpret_cast<T*>(k_bytes(l, p));
  }
  template <class T>
  const T* k(size_t l, size_t p) const noexcept {
    return reinterpret_cast<const T*>(k_bytes(l, p));
  }
  template <class T>
  T* v(size_t l, size_t p) noexcept {
    return reinterpret_cast<T*>(v_bytes(l, p));
  }
  template <class T>
  const T* v(size_t l, size_t p) const noexcept {
    return reinterpret_cast<const T*>(v_bytes(l, p));
  }

  // Session files: positions [0, n) as K then V, each [layer][pos < n][row] in the cache's element type.
  // error(invalid_argument) if n > n_ctx.
  size_t saved_bytes(uint32_t n) const;
  void save(uint32_t n, uint8_t* out) const;
  void load(uint32_t n, const uint8_t* in);

 private:
  uint8_t* k_bytes(size_t l, size_t p) const noexcept { return base_ + l * k_layer_ + p * k_row_ * elem_size(); }
  uint8_t* v_bytes(size_t l, size_t p) const noexcept {
    return base_ + n_layer_ * k_layer_ + l * v_layer_ + p * v_row_ * elem_size();
  }
  void check_positions(uint32_t n) const;
  void release() noexcept;

  size_t n_layer_ = 0;
  uint32_t n_ctx_ = 0;
  size_t k_row_ = 0, v_row_ = 0;
  attn::kv_type type_ = attn::kv_type::f16;
  size_t k_layer_ = 0, v_layer_ = 0;  // bytes from one layer's run to the next (whole pages)
  uint8_t* map_ = nullptr;            // the mapping, size_ bytes
  uint8_t* base_ = nullptr;           // [K: layer][pos][k_row] then [V: layer][pos][v_row], inside it
  size_t size_ = 0;
};

}  // namespace dianoia::detail
