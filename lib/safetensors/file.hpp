// One safetensors file, memory-mapped, its header validated. Tensor bytes are views into the mapping.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "core/mapped_file.hpp"
#include "safetensors/header.hpp"

namespace dianoia::detail::safetensors {

class file {
 public:
  // error(io) if the file cannot be mapped; parse_header's errors otherwise, prefixed with the path.
  static std::unique_ptr<file> open(const std::string& path, file_access access = file_access::map);
  // An in-memory image (tests, fuzzing); `bytes` must outlive the object.
  static std::unique_ptr<file> parse(std::span<const uint8_t> bytes, std::string name = "<memory>");

  const std::string& name() const { return name_; }
  size_t file_size() const { return bytes_.size(); }
  const header& hdr() const { return hdr_; }
  const std::vector<tensor_entry>& tensors() const { return hdr_.tensors; }
  const tensor_entry* find(std::string_view name) const;
  std::span<const uint8_t> data(const tensor_entry& t) const {
    return bytes_.subspan(static_cast<size_t>(hdr_.data_offset + t.begin), static_cast<size_t>(t.end - t.begin));
  }

 private:
  file() = default;
  void init();

  std::unique_ptr<mapped_file> map_;
  std::span<const uint8_t> bytes_;
  std::string name_;
  header hdr_;
  std::unordered_map<std::string_view, size_t> index_;
};

}  // namespace dianoia::detail::safetensors
