// GGUF (v2, v3) reader over a memory-mapped file. Parsing validates every count, length and offset
// against the file size before use: a hostile file yields error(format), never a crash or a huge
// allocation. Metadata values and tensor data are views into the mapping (valid while the file lives).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ggml_types.hpp"
#include "core/mapped_file.hpp"
#include "core/tensor.hpp"

namespace dianoia::detail::gguf {

enum class value_type : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8, array = 9,
  u64 = 10, i64 = 11, f64 = 12,
};
std::string_view type_name(value_type t);

// One metadata value. Scalars are decoded; strings and arrays point into the mapping.
struct value {
  value_type type{};
  union {
    uint64_t u;
    int64_t i;
    double f;
    bool b;
  } num{};
  std::string_view str;            // type == string
  value_type elem_type{};          // type == array
  uint64_t count = 0;              // type == array: number of elements
  const uint8_t* elems = nullptr;  // type == array: first element (packed as in the file)
  size_t elems_bytes = 0;          // type == array: bytes spanned by the elements
  std::vector<value> nested;       // type == array of arrays: the decoded inner arrays
};

using tensor_info = tensor_view;

class file final : public tensor_source {
 public:
  // Maps and parses `path`. Throws error(io) for a missing/unreadable file, error(format) for any
  // malformed content (message names the section and the value), error(unsupported) for a tensor type
  // that is known but retired, or an unknown version.
  // file_access::read: the file is read into memory and no longer needed afterwards (see mapped_file.hpp).
  static std::unique_ptr<file> open(const std::string& path, file_access access = file_access::map);
  // Parses an in-memory image (for fuzzing and tests); `bytes` must outlive the file object.
  static std::unique_ptr<file> parse(std::span<const uint8_t> bytes, std::string name = "<memory>");

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  size_t file_size() const { return bytes_.size(); }
  const std::string& name() const { return name_; }

  // Metadata, in file order.
  const std::vector<std::pair<std::string, value>>& metadata() const { return kv_; }
  const value* find(std::string_view key) const;

  // Typed getters: nullopt if the key is absent; error(format) if present with an incompatible type.
  // Integer getters accept any integer type whose value fits; get_f32 accepts f32/f64.
  std::optional<uint64_t> get_uint(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::string_view> get_string(std::string_view key) const;
  // Arrays: nullopt if absent; error(format) if not an array of the requested element type.
  std::optional<std::vector<std::string_view>> get_string_array(std::string_view key) const;
  std::optional<std::vector<float>> get_f32_array(std::string_view key) const;
  std::optional<std::vector<int32_t>> get_i32_array(std::string_view key) const;

  const std::vector<tensor_info>& tensors() const { return tensors_; }
  const tensor_info* find_tensor(std::string_view name) const override;
  const std::string& source_name() const override { return name_; }
  std::span<const tensor_view> all_tensors() const override { return tensors_; }

 private:
  file() = default;
  void parse_all();

  std::unique_ptr<mapped_file> map_;
  std::span<const uint8_t> bytes_;
  std::string name_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, value>> kv_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::vector<tensor_info> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace dianoia::detail::gguf
