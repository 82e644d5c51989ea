// How much memory a model needs, checked before anything large is allocated. Mapped weights count: they
// are not allocated by dianoia, but every one is read per token, so a model whose weights do not fit in
// RAM pages from disk on every token. Repacked (owned) weights and, per session, the KV cache add to it.
#pragma once
#include <cstdint>
#include <string_view>

#include "model/model.hpp"

namespace dianoia::detail {

struct memory_estimate {
  uint64_t mapped_bytes = 0;  // weights used in place from the file mappings
  uint64_t owned_bytes = 0;   // weights repacked into buffers the model owns
  uint64_t kv_bytes = 0;      // KV cache of the whole context (sessions), committed as it fills
  uint64_t total() const { return mapped_bytes + owned_bytes + kv_bytes; }
};

// Bytes of a KV cache for n_ctx positions (f16 unless f32_kv). MLA models (deepseek2) cache the
// compressed latent plus the rope key per position: (kv_lora_rank + qk_rope_head_dim) values per layer.
// A session only reserves this much address space and commits pages as positions fill (kv_cache.hpp),
// but it is checked in full: the host asked for that context, and a session that runs out of memory
// halfway through a long generation is worse than one refused up front.
uint64_t estimate_kv_bytes(const hparams& hp, uint32_t n_ctx, bool f32_kv);

// MemAvailable from /proc/meminfo, in bytes; 0 if it cannot be read.
uint64_t available_memory_bytes();

// error(out_of_memory) if need.total() exceeds the cap: max_bytes, or when 0 the machine's available
// memory (no check when that cannot be read). The message gives each part in MiB and says how to raise
// the cap. `what` names the thing being loaded ("model 'x'", "session").
void check_memory_budget(const memory_estimate& need, uint64_t max_bytes, std::string_view what);

}  // namespace dianoia::detail
