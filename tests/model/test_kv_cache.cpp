// The KV cache reserves its whole context but commits memory only for the positions written, and
// saves/loads positions in the session-file layout.
#include "model/kv_cache.hpp"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.hpp"

using namespace dianoia::detail;

namespace {

// VmRSS of this process, in bytes (0 if /proc cannot be read).
size_t rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  unsigned long long kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %llu kB", &kb) == 1) break;
  std::fclose(f);
  return static_cast<size_t>(kb) * 1024;
}

// Bytes of [p, p + n) resident in RAM, by mincore (the cache's own pages, whatever else the process does).
size_t resident_bytes(const void* p, size_t n) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> v((n + page - 1) / page);
  if (mincore(const_cast<void*>(p), n, v.data()) != 0) return SIZE_MAX;
  size_t r = 0;
  for (unsigned char c : v) r += (c & 1) ? page : 0;
  return r;
}

// A distinct value for each (K or V, layer, position, column), exact in f16.
float pattern(int which, size_t l, size_t p, size_t c) {
  return static_cast<float>((which * 7 + l * 3 + p * 5 + c) % 1024) - 512.0f;
}

template <class T>
T to_elem(float x) {
  if constexpr (sizeof(T) == 2) return f32_to_fp16(x);
  else return x;
}

template <class T>
void fill(kv_cache& c, uint32_t n) {
  for (size_t l = 0; l < c.n_layer(); ++l)
    for (size_t p = 0; p < n; ++p) {
      for (size_t i = 0; i < c.k_row(); ++i) c.k<T>(l, p)[i] = to_elem<T>(pattern(0, l, p, i));
      for (size_t i = 0; i < c.v_row(); ++i) c.v<T>(l, p)[i] = to_elem<T>(pattern(1, l, p, i));
    }
}

}  // namespace

TEST_CASE("kv_cache commits memory only for the positions written") {
  // Qwen2.5-1.5B's shape: 28 layers, 32,768 positions, K and V rows of 2 heads x 128 in f16 (~940 MB).
  const size_t layers = 28, row = 256;
  const uint32_t ctx = 32768;
  const size_t before = rss_bytes();
  kv_cache c(layers, ctx, row, row, attn::kv_type::f16);
  CHECK(c.bytes_per_position() == layers * 2 * row * 2);
  CHECK(reinterpret_cast<uintptr_t>(c.k<fp16_t>(0, 0)) % 64 == 32);  // off the cache line, see kv_cache.cpp
  CHECK(c.reserved_bytes() >= size_t{ctx} * c.bytes_per_position());
  const void* base = c.reserved_begin();
  CHECK(resident_bytes(base, c.reserved_bytes()) == 0);
  CHECK(rss_bytes() < before + (8u << 20));

  fill<fp16_t>(c, 100);
  // 100 positions: 100 x 28 x 2 x 512 B = 2.9 MB, plus the partly filled pages at both ends of each
  // layer's K and V run (at most two per run).
  const size_t used = 100 * c.bytes_per_position();
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  CHECK(resident_bytes(base, c.reserved_bytes()) <= used + 2 * (2 * layers) * page);
  CHECK(resident_bytes(base, c.reserved_bytes()) >= used);
  CHECK(rss_bytes() < before + used + (16u << 20));
  MESSAGE("reserved ", c.reserved_bytes() >> 20, " MiB; 100 positions written (", used >> 10, " KiB): RSS +",
          (rss_bytes() - before) >> 10, " KiB, cache resident ", resident_bytes(base, c.reserved_bytes()) >> 10, " KiB");

  for (size_t l : {size_t{0}, size_t{13}, layers - 1})
    for (size_t p : {size_t{0}, size_t{57}, size_t{99}}) {
      CHECK(fp16_to_f32(c.k<fp16_t>(l, p)[0]) == pattern(0, l, p, 0));
      CHECK(fp16_to_f32(c.v<fp16_t>(l, p)[row - 1]) == pattern(1, l, p, row - 1));
    }
  // Never written: reads as zero, as the zero-filled vectors it replaces did.
  CHECK(c.k<fp16_t>(layers - 1, ctx - 1)[row - 1] == 0);
  CHECK(c.v<fp16_t>(5, 100)[0] == 0);
}

TEST_CASE("kv_cache saves K then V, each [layer][pos][row], and loads it back") {
  for (auto type : {attn::kv_type::f32, attn::kv_type::f16}) {
    CAPTURE(static_cast<int>(type));
    // Different K and V widths, as multi-head latent attention will need.
    kv_cache a(3, 10, 4, 6, type);
    CHECK(a.bytes_per_position() == 3 * (4 + 6) * a.elem_size());
    if (type == attn::kv_type::f32) fill<float>(a, 10);
    else fill<fp16_t>(a, 10);

    const uint32_t n = 7;
    std::vector<uint8_t> blob(a.saved_bytes(n));
    CHECK(blob.size() == n * a.bytes_per_position());
    a.save(n, blob.data());
    // The layout session files have always had: all of K (layer by layer), then all of V.
    const size_t es = a.elem_size();
    CHECK(std::memcmp(blob.data(), a.k<uint8_t>(0, 0), n * 4 * es) == 0);
    CHECK(std::memcmp(blob.data() + 2 * n * 4 * es, a.k<uint8_t>(2, 0), n * 4 * es) == 0);
    CHECK(std::memcmp(blob.data() + 3 * n * 4 * es, a.v<uint8_t>(0, 0), n * 6 * es) == 0);
    CHECK(std::memcmp(blob.data() + 3 * n * 4 * es + 2 * n * 6 * es, a.v<uint8_t>(2, 0), n * 6 * es) == 0);

    kv_cache b(3, 10, 4, 6, type);
    b.load(n, blob.data());
    for (size_t l = 0; l < 3; ++l) {
      CHECK(std::memcmp(b.k<uint8_t>(l, 0), a.k<uint8_t>(l, 0), n * 4 * es) == 0);
      CHECK(std::memcmp(b.v<uint8_t>(l, 0), a.v<uint8_t>(l, 0), n * 6 * es) == 0);
      CHECK(b.k<uint8_t>(l, n)[0] == 0);  // positions past n untouched
    }
    CHECK_THROWS_AS((void)a.saved_bytes(11), error);
    CHECK_THROWS_AS(a.save(11, blob.data()), error);
    CHECK_THROWS_AS(b.load(11, blob.data()), error);
  }
}

TEST_CASE("kv_cache moves and reports an unreservable size as out of memory") {
  kv_cache a(2, 16, 8, 8, attn::kv_type::f32);
  a.k<float>(1, 15)[7] = 3.5f;
  kv_cache b(std::move(a));
  CHECK(b.k<float>(1, 15)[7] == 3.5f);
  CHECK(a.reserved_bytes() == 0);
  a = std::move(b);
  CHECK(a.k<float>(1, 15)[7] == 3.5f);

  try {
    kv_cache huge(1u << 20, 1u << 20, 1u << 20, 1u << 20, attn::kv_type::f32);
    CHECK(false);
  } catch (const error& e) {
    CHECK(e.code() == errc::out_of_memory);
  }
}
