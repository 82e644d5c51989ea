// The safetensors container: an 8-byte little-endian header length N, N bytes of JSON describing each
// tensor (dtype, shape, [begin, end) in the data that follows) plus optional string metadata, then the
// data. parse_header() checks the whole description against the file image before anything is used:
// a header that lies is error(format) naming the tensor and the numbers, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dianoia::detail::safetensors {

// Every dtype the format defines (safetensors 0.4+). Sizes in bytes per element.
enum class dtype : uint8_t { boolean, u8, i8, f8_e5m2, f8_e4m3, i16, u16, f16, bf16, i32, u32, f32, f64, i64, u64 };
std::string_view dtype_name(dtype t);
size_t dtype_size(dtype t);

struct tensor_entry {
  std::string name;
  dtype type{};
  std::vector<uint64_t> shape;  // row-major, outermost first (the reverse of ggml's ne)
  uint64_t begin = 0;           // [begin, end) relative to the data section
  uint64_t end = 0;
  uint64_t n_elements() const;  // 1 for a scalar (shape [])
};

struct header {
  uint64_t json_bytes = 0;   // N
  uint64_t data_offset = 0;  // 8 + N: where the data section starts in the file
  uint64_t data_bytes = 0;   // file size - data_offset
  std::vector<tensor_entry> tensors;                         // in the header's order
  std::vector<std::pair<std::string, std::string>> metadata;  // "__metadata__", in the header's order
};

// Caps: the official reader refuses headers over 100 MB; a real header is a few MB at most.
constexpr uint64_t k_max_header_bytes = 100ull << 20;
constexpr size_t k_max_rank = 8;

// Parses and validates the header of a whole safetensors file image (header + data). Rejected with
// error(format): a length prefix past the file or over the cap, JSON that is not strict RFC 8259 or
// repeats a key, unknown fields, a dtype the format does not define (error(unsupported)), a shape whose
// byte size overflows or differs from its data range, ranges that overlap, leave holes, or run past the
// end of the file (the data section must be exactly covered, as the reference implementation demands).
header parse_header(std::span<const uint8_t> file);

}  // namespace dianoia::detail::safetensors
