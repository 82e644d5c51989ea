#include "safetensors/tensor_set.hpp"

#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"
#include "safetensors/convert.hpp"

namespace dianoia::detail::safetensors {

namespace {

constexpr uint64_t k_f8_block = 128;  // DeepSeek-V3's weight_scale_inv blocks are 128 x 128
constexpr uint64_t k_arena_align = 64;

std::optional<ggml_type> ggml_equivalent(dtype t) {
  switch (t) {
    case dtype::f32: return ggml_type::f32;
    case dtype::f16: return ggml_type::f16;
    case dtype::bf16: return ggml_type::bf16;
    case dtype::i8: return ggml_type::i8;
    case dtype::i16: return ggml_type::i16;
    case dtype::i32: return ggml_type::i32;
    case dtype::i64: return ggml_type::i64;
    case dtype::f64: return ggml_type::f64;
    default: return std::nullopt;
  }
}

// Outermost dimension as "rows" (what q/k permutation and fp8 blocks index), the rest as columns.
uint64_t rows_of(const tensor_entry& e) { return e.shape.empty() ? 1 : e.shape[0]; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::unique_ptr<tensor_set> tensor_set::open(const std::vector<std::string>& shard_paths, const binder& bind,
                                             const std::string& name, file_access access) {
  std::vector<std::unique_ptr<file>> files;
  files.reserve(shard_paths.size());
  for (const auto& p : shard_paths) files.push_back(file::open(p, access));
  return from_files(std::move(files), bind, name);
}

std::unique_ptr<tensor_set> tensor_set::from_files(std::vector<std::unique_ptr<file>> files, const binder& bind,
                                                   const std::string& name) {
  std::unique_ptr<tensor_set> s(new tensor_set());
  s->name_ = name;
  s->files_ = std::move(files);
  s->build(bind);
  return s;
}

void tensor_set::build(const binder& bind) {
  // Every file tensor by name, across shards: names must be unique in the whole checkpoint.
  std::unordered_map<std::string_view, std::pair<const file*, const tensor_entry*>> all;
  for (const auto& f : files_)
    for (const auto& t : f->tensors())
      if (!all.emplace(t.name, std::pair{f.get(), &t}).second)
        fail(errc::format, "tensor '{}' appears in more than one shard (again in '{}')", t.name, f->name());

  auto scale_of = [&](const tensor_entry& t) -> const tensor_entry* {
    auto it = all.find(t.name + "_scale_inv");
    return it == all.end() ? nullptr : it->second.second;
  };

  for (const auto& f : files_) {
    for (const auto& t : f->tensors()) {
      // A scale consumed by its fp8 weight is not a tensor of its own.
      if (ends_with(t.name, "_scale_inv")) {
        auto w = all.find(std::string_view(t.name).substr(0, t.name.size() - 10));
        if (w != all.end() && w->second.second->type == dtype::f8_e4m3) continue;
      }
      std::optional<binding> b = bind(t);
      if (!b) {
        log(log_level::debug, "safetensors: ignoring tensor '{}'", t.name);
        continue;
      }
      if (t.shape.size() > 4)
        fail(errc::unsupported, "tensor '{}' has {} dimensions; at most 4 are supported", t.name, t.shape.size());
      plan p;
      p.src_file = f.get();
      p.src = &t;
      p.permute_heads = b->permute_heads;
      tensor_view v;
      v.name = std::move(b->canonical);
      v.n_dims = t.shape.empty() ? 1 : static_cast<uint32_t>(t.shape.size());
      for (size_t d = 0; d < t.shape.size(); ++d) v.ne[d] = t.shape[t.shape.size() - 1 - d];
      const size_t esize = dtype_size(t.type);

      if (t.type == dtype::f8_e4m3) {
        p.kind = op::f8_to_bf16;
        v.type = ggml_type::bf16;
        p.scale = scale_of(t);
        if (p.scale) {
          if (t.shape.size() != 2) fail(errc::format, "fp8 tensor '{}' with block scales must be 2-D", t.name);
          const uint64_t br = (t.shape[0] + k_f8_block - 1) / k_f8_block, bc = (t.shape[1] + k_f8_block - 1) / k_f8_block;
          if (p.scale->type != dtype::f32 || p.scale->shape.size() != 2 || p.scale->shape[0] != br || p.scale->shape[1] != bc)
            fail(errc::format, "'{}' must be F32 [{}, {}] (128x128 blocks of '{}' [{}, {}])", p.scale->name, br, bc, t.name,
                 t.shape[0], t.shape[1]);
        }
      } else if (auto g = ggml_equivalent(t.type)) {
        v.type = *g;
        const bool half = t.type == dtype::f16 || t.type == dtype::bf16;
        if (half && t.shape.size() <= 1) {
          p.kind = op::half_to_f32;
          v.type = ggml_type::f32;
        } else if (p.permute_heads || (f->hdr().data_offset + t.begin) % esize != 0) {
          p.kind = op::copy;
        }
      } else {
        fail(errc::unsupported, "tensor '{}' has dtype {}, which no model weight can use", t.name, dtype_name(t.type));
      }
      if (p.permute_heads) {
        const uint64_t rows = rows_of(t);
        if (rows % (2ull * p.permute_heads) != 0)
          fail(errc::format, "tensor '{}': {} rows cannot be split into {} RoPE heads", t.name, rows, p.permute_heads);
      }
      v.nbytes = static_cast<size_t>(t.n_elements() * ggml_traits(v.type).block_bytes);
      if (p.kind == op::map) {
        v.data = f->data(t).data();
        mapped_bytes_ += v.nbytes;
      } else {
        p.arena_offset = owned_bytes_;
        owned_bytes_ += (v.nbytes + k_arena_align - 1) / k_arena_align * k_arena_align;
        ++n_repacked_;
      }
      plans_.push_back(p);
      views_.push_back(std::move(v));
    }
  }
  for (size_t i = 0; i < views_.size(); ++i)
    if (!index_.emplace(views_[i].name, i).second)
      fail(errc::format, "two tensors map to '{}' (the second is '{}')", views_[i].name, plans_[i].src->name);
}

void tensor_set::fill(const plan& p, uint8_t* dst) const {
  const tensor_entry& t = *p.src;
  const uint8_t* src = p.src_file->data(t).data();
  const uint64_t rows = rows_of(t), cols = rows == 0 ? 0 : t.n_elements() / rows;
  const size_t in_es = dtype_size(t.type);
  const uint64_t hd = p.permute_heads ? rows / p.permute_heads : 0;
  const uint8_t* scales = p.scale ? p.src_file->data(*p.scale).data() : nullptr;
  const uint64_t scale_cols = p.scale ? p.scale->shape[1] : 0;
  for (uint64_t r = 0; r < rows; ++r) {
    // Output row r holds source row `sr`: within a head, GGUF's adjacent pair (2j, 2j+1) is HF's (j, j + hd/2).
    uint64_t sr = r;
    if (hd) {
      const uint64_t h = r / hd, i = r % hd;
      sr = h * hd + (i % 2) * (hd / 2) + i / 2;
    }
    const uint8_t* in = src + sr * cols * in_es;
    switch (p.kind) {
      case op::map:
      case op::copy: std::memcpy(dst + r * cols * in_es, in, cols * in_es); break;
      case op::half_to_f32: {
        float* out = reinterpret_cast<float*>(dst) + r * cols;
        for (uint64_t c = 0; c < cols; ++c) {
          uint16_t h;
          std::memcpy(&h, in + c * 2, 2);
          out[c] = t.type == dtype::f16 ? f16_to_f32(h) : bf16_to_f32(h);
        }
        break;
      }
      case op::f8_to_bf16: {
        uint16_t* out = reinterpret_cast<uint16_t*>(dst) + r * cols;
        // The scale tensor may be unaligned in the file: read its values bytewise.
        const uint8_t* srow = scales ? scales + (sr / k_f8_block) * scale_cols * 4 : nullptr;
        for (uint64_t c = 0; c < cols; ++c) {
          float s = 1.0f;
          if (srow) std::memcpy(&s, srow + (c / k_f8_block) * 4, 4);
          out[c] = f32_to_bf16(f8_e4m3_to_f32(in[c]) * s);
        }
        break;
      }
    }
  }
}

void tensor_set::materialize() {
  if (materialized_) return;
  uint8_t* base = nullptr;
  if (owned_bytes_) {
    arena_.resize(static_cast<size_t>(owned_bytes_ + k_arena_align));
    base = arena_.data() + (k_arena_align - reinterpret_cast<uintptr_t>(arena_.data()) % k_arena_align) % k_arena_align;
  }
  for (size_t i = 0; i < plans_.size(); ++i) {
    if (plans_[i].kind == op::map) continue;
    uint8_t* dst = base + plans_[i].arena_offset;
    fill(plans_[i], dst);
    views_[i].data = dst;
  }
  materialized_ = true;
}

bool tensor_set::is_repacked(std::string_view canonical) const {
  auto it = index_.find(canonical);
  return it != index_.end() && plans_[it->second].kind != op::map;
}

uint64_t tensor_set::file_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files_) n += f->file_size();
  return n;
}

const tensor_view* tensor_set::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &views_[it->second];
}

}  // namespace dianoia::detail::safetensors
