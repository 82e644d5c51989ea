#include "gguf/split.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace dianoia::detail::gguf {

namespace {
constexpr uint64_t k_max_splits = 9999;  // llama.cpp's naming has five digits; no model comes near

struct split_keys {
  uint64_t no = 0, count = 1;
  std::optional<uint64_t> tensors;
};
split_keys read_keys(const file& f) {
  split_keys k;
  if (auto c = f.get_uint("split.count")) k.count = *c;
  if (auto n = f.get_uint("split.no")) k.no = *n;
  k.tensors = f.get_uint("split.tensors.count");
  if (k.count == 0 || k.count > k_max_splits) fail(errc::format, "'{}': split.count {} is out of range", f.name(), k.count);
  if (k.no >= k.count) fail(errc::format, "'{}': split.no {} is not below split.count {}", f.name(), k.no, k.count);
  return k;
}
}  // namespace

std::optional<std::string> split_path(const std::string& first, uint32_t no, uint32_t count) {
  const std::string tail = fmt::format("-{:05d}-of-{:05d}.gguf", 1, count);
  if (first.size() <= tail.size() || first.compare(first.size() - tail.size(), tail.size(), tail) != 0)
    return std::nullopt;
  return first.substr(0, first.size() - tail.size()) + fmt::format("-{:05d}-of-{:05d}.gguf", no, count);
}

std::unique_ptr<split_set> split_set::open(const std::string& path, file_access access) {
  std::unique_ptr<split_set> s(new split_set());
  s->files_.push_back(file::open(path, access));
  const split_keys k0 = read_keys(*s->files_[0]);
  if (k0.no != 0)
    fail(errc::invalid_argument, "'{}' is split {} of {}: open the first split (…-00001-of-{:05d}.gguf)", path, k0.no + 1,
         k0.count, k0.count);
  for (uint32_t i = 1; i < k0.count; ++i) {
    auto p = split_path(path, i + 1, static_cast<uint32_t>(k0.count));
    if (!p)
      fail(errc::format, "'{}' declares {} splits but is not named like a first split (NAME-00001-of-{:05d}.gguf)", path,
           k0.count, k0.count);
    s->files_.push_back(file::open(*p, access));
    const split_keys k = read_keys(*s->files_.back());
    if (k.no != i || k.count != k0.count)
      fail(errc::format, "'{}' says it is split {} of {}, expected {} of {}", *p, k.no + 1, k.count, i + 1, k0.count);
  }
  for (const auto& f : s->files_)
    for (const auto& t : f->tensors()) s->views_.push_back(t);
  if (k0.count > 1 && k0.tensors && *k0.tensors != s->views_.size())
    fail(errc::format, "'{}': split.tensors.count is {} but the {} splits hold {} tensors", path, *k0.tensors, k0.count,
         s->views_.size());
  for (size_t i = 0; i < s->views_.size(); ++i)
    if (!s->index_.emplace(s->views_[i].name, i).second)
      fail(errc::format, "tensor '{}' appears in more than one split", s->views_[i].name);
  return s;
}

uint64_t split_set::file_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files_) n += f->file_size();
  return n;
}

const tensor_view* split_set::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &views_[it->second];
}

}  // namespace dianoia::detail::gguf
