// The tensors of a Hugging Face checkpoint (one model.safetensors or the shards an index names) as a
// tensor_source in canonical (GGUF) naming. A caller-supplied binder maps each file tensor to its
// canonical name (or drops it); the set then decides per tensor:
//   - mapped: F32/F16/BF16/I8/I16/I32/I64/F64 used in place when the pointer is aligned to the element size;
//   - repacked into a buffer the set owns (counted in owned_bytes(), shown by `dianoia info`):
//       * 1-D F16/BF16 tensors (norms, biases) -> F32, as llama.cpp's converter stores them;
//       * F8_E4M3 -> BF16, multiplied by its "<name>_scale_inv" 128x128 block scales when present
//         (DeepSeek-V3's fp8 checkpoints; the scale tensors are consumed, not exposed);
//       * rows permuted for adjacent-pair RoPE when the binder asks (llama q_proj/k_proj);
//       * any tensor misaligned for its element type (a valid but unusual writer): copied.
// Other dtypes (BOOL, U8..U64, F8_E5M2) have no ggml equivalent: binding one is error(unsupported).
// open() only parses and plans; nothing is allocated for repacking until materialize(), so that the
// memory budget can be checked in between.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.hpp"
#include "safetensors/file.hpp"

namespace dianoia::detail::safetensors {

struct binding {
  std::string canonical;       // e.g. "blk.0.attn_q.weight"
  uint32_t permute_heads = 0;  // > 0: reorder each head's rows from HF's halves layout to adjacent pairs
};
// nullopt drops the tensor. May throw (e.g. for an unknown weight of a known block).
using binder = std::function<std::optional<binding>(const tensor_entry&)>;

class tensor_set final : public tensor_source {
 public:
  // Opens every shard file (error(io) / error(format) naming the file).
  static std::unique_ptr<tensor_set> open(const std::vector<std::string>& shard_paths, const binder& bind,
                                          const std::string& name, file_access access = file_access::map);
  // Same, over files already opened (in-memory images for tests).
  static std::unique_ptr<tensor_set> from_files(std::vector<std::unique_ptr<file>> files, const binder& bind,
                                                const std::string& name);

  // Allocates the owned buffers and fills them. Idempotent.
  void materialize();
  bool materialized() const { return materialized_; }

  uint64_t mapped_bytes() const { return mapped_bytes_; }  // weights used in place
  uint64_t owned_bytes() const { return owned_bytes_; }    // planned (or filled) repacked buffers
  size_t n_repacked() const { return n_repacked_; }
  bool is_repacked(std::string_view canonical) const;
  uint64_t file_bytes() const;
  const std::vector<std::unique_ptr<file>>& files() const { return files_; }

  const std::string& source_name() const override { return name_; }
  const tensor_view* find_tensor(std::string_view name) const override;
  std::span<const tensor_view> all_tensors() const override { return views_; }

 private:
  enum class op : uint8_t { map, copy, half_to_f32, f8_to_bf16 };
  struct plan {
    op kind = op::map;
    const file* src_file = nullptr;
    const tensor_entry* src = nullptr;
    const tensor_entry* scale = nullptr;  // f8: weight_scale_inv, or nullptr
    uint32_t permute_heads = 0;
    uint64_t arena_offset = 0;
  };
  tensor_set() = default;
  void build(const binder& bind);
  void fill(const plan& p, uint8_t* dst) const;

  std::string name_;
  std::vector<std::unique_ptr<file>> files_;
  std::vector<tensor_view> views_;
  std::vector<plan> plans_;
  std::unordered_map<std::string_view, size_t> index_;
  std::vector<uint8_t> arena_;  // repacked tensors, each 64-byte aligned
  uint64_t mapped_bytes_ = 0, owned_bytes_ = 0;
  size_t n_repacked_ = 0;
  bool materialized_ = false;
};

}  // namespace dianoia::detail::safetensors
