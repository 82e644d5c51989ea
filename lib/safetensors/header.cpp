#include "safetensors/header.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/json.hpp"

namespace dianoia::detail::safetensors {

namespace {

struct dtype_info {
  std::string_view name;
  dtype type;
  size_t size;
};
constexpr dtype_info k_dtypes[] = {
    {"BOOL", dtype::boolean, 1}, {"U8", dtype::u8, 1},     {"I8", dtype::i8, 1},   {"F8_E5M2", dtype::f8_e5m2, 1},
    {"F8_E4M3", dtype::f8_e4m3, 1}, {"I16", dtype::i16, 2}, {"U16", dtype::u16, 2}, {"F16", dtype::f16, 2},
    {"BF16", dtype::bf16, 2},    {"I32", dtype::i32, 4},   {"U32", dtype::u32, 4}, {"F32", dtype::f32, 4},
    {"F64", dtype::f64, 8},      {"I64", dtype::i64, 8},   {"U64", dtype::u64, 8},
};

// A non-negative integer from the header (shapes and offsets).
uint64_t read_count(const json_value& v, const std::string& tensor, const char* what) {
  if (!v.is_int()) fail(errc::format, "safetensors: tensor '{}': {} must be an integer, got {}", tensor, what,
                        json_type_name(v.type()));
  const int64_t x = v.as_int();
  if (x < 0) fail(errc::format, "safetensors: tensor '{}': {} is negative ({})", tensor, what, x);
  return static_cast<uint64_t>(x);
}

tensor_entry read_entry(const std::string& name, const json_value& v) {
  if (!v.is_object()) fail(errc::format, "safetensors: tensor '{}' must be an object, got {}", name, json_type_name(v.type()));
  tensor_entry e;
  e.name = name;
  const json_value *dt = nullptr, *shape = nullptr, *offsets = nullptr;
  for (const auto& m : v.as_object()) {
    if (m.key == "dtype") dt = &m.value;
    else if (m.key == "shape") shape = &m.value;
    else if (m.key == "data_offsets") offsets = &m.value;
    else fail(errc::format, "safetensors: tensor '{}' has an unknown field '{}'", name, m.key);
  }
  if (!dt || !shape || !offsets)
    fail(errc::format, "safetensors: tensor '{}' lacks {}", name, !dt ? "dtype" : !shape ? "shape" : "data_offsets");
  if (!dt->is_string()) fail(errc::format, "safetensors: tensor '{}': dtype must be a string", name);
  const auto* info = std::find_if(std::begin(k_dtypes), std::end(k_dtypes),
                                  [&](const dtype_info& d) { return d.name == dt->as_string(); });
  if (info == std::end(k_dtypes))
    fail(errc::unsupported, "safetensors: tensor '{}' has dtype '{}', which dianoia does not know", name, dt->as_string());
  e.type = info->type;

  if (!shape->is_array()) fail(errc::format, "safetensors: tensor '{}': shape must be an array", name);
  const auto& dims = shape->as_array();
  if (dims.size() > k_max_rank) fail(errc::format, "safetensors: tensor '{}' has {} dimensions (at most {})", name, dims.size(), k_max_rank);
  size_t n = 1;
  for (const auto& d : dims) {
    e.shape.push_back(read_count(d, name, "a dimension"));
    n = checked_mul(n, static_cast<size_t>(e.shape.back()), "safetensors: tensor element count");
  }
  const size_t nbytes = checked_mul(n, info->size, "safetensors: tensor byte size");

  if (!offsets->is_array() || offsets->as_array().size() != 2)
    fail(errc::format, "safetensors: tensor '{}': data_offsets must be [begin, end]", name);
  e.begin = read_count(offsets->as_array()[0], name, "data_offsets[0]");
  e.end = read_count(offsets->as_array()[1], name, "data_offsets[1]");
  if (e.end < e.begin) fail(errc::format, "safetensors: tensor '{}': data range [{}, {}) is reversed", name, e.begin, e.end);
  if (e.end - e.begin != nbytes)
    fail(errc::format, "safetensors: tensor '{}': {} {} elements need {} bytes but its data range [{}, {}) holds {}", name,
         n, info->name, nbytes, e.begin, e.end, e.end - e.begin);
  return e;
}

}  // namespace

std::string_view dtype_name(dtype t) {
  for (const auto& d : k_dtypes)
    if (d.type == t) return d.name;
  return "?";
}

size_t dtype_size(dtype t) {
  for (const auto& d : k_dtypes)
    if (d.type == t) return d.size;
  return 0;
}

uint64_t tensor_entry::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;  // validated not to overflow by parse_header
  return n;
}

header parse_header(std::span<const uint8_t> file) {
  header h;
  if (file.size() < 8) fail(errc::format, "safetensors: truncated file: {} bytes, the header length alone needs 8", file.size());
  std::memcpy(&h.json_bytes, file.data(), 8);  // little-endian, as is every platform dianoia builds for
  if (h.json_bytes > k_max_header_bytes)
    fail(errc::format, "safetensors: header length {} exceeds the {} MB cap", h.json_bytes, k_max_header_bytes >> 20);
  if (h.json_bytes > file.size() - 8)
    fail(errc::format, "safetensors: truncated file: header of {} bytes but only {} follow the length", h.json_bytes,
         file.size() - 8);
  if (h.json_bytes < 2 || file[8] != '{') fail(errc::format, "safetensors: the header is not a JSON object");
  h.data_offset = 8 + h.json_bytes;
  h.data_bytes = file.size() - h.data_offset;

  json_limits lim;
  lim.max_bytes = k_max_header_bytes;
  lim.max_depth = 8;  // {name: {shape: [..]}} is 3 deep; metadata is 2
  const json_value root =
      json_parse(std::string_view(reinterpret_cast<const char*>(file.data() + 8), static_cast<size_t>(h.json_bytes)), lim);
  for (const auto& m : root.as_object()) {
    if (m.key == "__metadata__") {
      if (!m.value.is_object()) fail(errc::format, "safetensors: __metadata__ must be an object of strings");
      for (const auto& kv : m.value.as_object()) {
        if (!kv.value.is_string()) fail(errc::format, "safetensors: __metadata__ '{}' must be a string", kv.key);
        h.metadata.emplace_back(kv.key, kv.value.as_string());
      }
      continue;
    }
    if (m.key.empty()) fail(errc::format, "safetensors: a tensor has an empty name");
    h.tensors.push_back(read_entry(m.key, m.value));
  }

  // The ranges must tile the data section exactly: sorted by start, each begins where the previous ended.
  std::vector<const tensor_entry*> order;
  order.reserve(h.tensors.size());
  for (const auto& t : h.tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const tensor_entry* a, const tensor_entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t at = 0;
  const tensor_entry* prev = nullptr;
  for (const tensor_entry* t : order) {
    if (t->begin < at)
      fail(errc::format, "safetensors: tensor '{}' data [{}, {}) overlaps tensor '{}' [{}, {})", t->name, t->begin, t->end,
           prev->name, prev->begin, prev->end);
    if (t->begin > at)
      fail(errc::format, "safetensors: {} unused bytes before tensor '{}' at data offset {}", t->begin - at, t->name, at);
    if (t->end > h.data_bytes)
      fail(errc::format, "safetensors: tensor '{}' data [{}, {}) lies past the end of the file ({} data bytes)", t->name,
           t->begin, t->end, h.data_bytes);
    at = t->end;
    prev = t;
  }
  if (at != h.data_bytes)
    fail(errc::format, "safetensors: the tensors cover {} data bytes but the file holds {}", at, h.data_bytes);
  return h;
}

}  // namespace dianoia::detail::safetensors
