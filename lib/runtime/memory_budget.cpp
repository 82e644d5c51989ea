#include "runtime/memory_budget.hpp"

#include <cstdio>
#include <cstring>

#include "core/error.hpp"

namespace dianoia::detail {

uint64_t estimate_kv_bytes(const hparams& hp, uint32_t n_ctx, bool f32_kv) {
  const uint64_t elem = f32_kv ? 4 : 2;
  uint64_t per_pos;
  if (hp.mla.kv_lora_rank) per_pos = uint64_t{hp.mla.kv_lora_rank} + hp.mla.qk_rope_head_dim;
  else per_pos = 2ull * hp.n_head_kv * hp.head_dim;  // K and V
  return per_pos * elem * hp.n_layer * n_ctx;
}

uint64_t available_memory_bytes() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    unsigned long long v;
    if (std::sscanf(line, "MemAvailable: %llu kB", &v) == 1) {
      kb = v;
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

void check_memory_budget(const memory_estimate& need, uint64_t max_bytes, std::string_view what) {
  const bool machine = max_bytes == 0;
  const uint64_t cap = machine ? available_memory_bytes() : max_bytes;
  if (cap == 0 || need.total() <= cap) return;
  constexpr double mib = 1024.0 * 1024.0;
  fail(errc::out_of_memory,
       "{} needs {:.1f} MiB (weights mapped {:.1f} MiB + repacked {:.1f} MiB + KV cache {:.1f} MiB) but {} is {:.1f} MiB{}",
       what, need.total() / mib, need.mapped_bytes / mib, need.owned_bytes / mib, need.kv_bytes / mib,
       machine ? "the machine's available memory" : "the memory cap (max_memory_bytes)", cap / mib,
       machine ? "; set max_memory_bytes to override" : "");
}

}  // namespace dianoia::detail
