#include "safetensors/file.hpp"

#include "core/error.hpp"

namespace dianoia::detail::safetensors {

std::unique_ptr<file> file::open(const std::string& path, file_access access) {
  auto map = std::make_unique<mapped_file>(path, access);
  std::unique_ptr<file> f(new file());
  f->bytes_ = std::span<const uint8_t>(map->data(), map->size());
  f->name_ = path;
  f->map_ = std::move(map);
  f->init();
  return f;
}

std::unique_ptr<file> file::parse(std::span<const uint8_t> bytes, std::string name) {
  std::unique_ptr<file> f(new file());
  f->bytes_ = bytes;
  f->name_ = std::move(name);
  f->init();
  return f;
}

void file::init() {
  try {
    hdr_ = parse_header(bytes_);
  } catch (const error& e) {
    throw error(e.code(), "'" + name_ + "': " + e.what());
  }
  // Keys of a JSON object are unique (the parser rejects repeats), so this cannot collide.
  for (size_t i = 0; i < hdr_.tensors.size(); ++i) index_.emplace(hdr_.tensors[i].name, i);
}

const tensor_entry* file::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &hdr_.tensors[it->second];
}

}  // namespace dianoia::detail::safetensors
