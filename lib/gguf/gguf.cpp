#include "gguf/gguf.hpp"

#include <cstring>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace dianoia::detail::gguf {

namespace {

constexpr uint32_t k_magic = 0x46554747;  // "GGUF" little-endian
// Caps that no real model comes near; they bound work and memory on hostile input before any
// allocation is sized from a count.
constexpr uint64_t k_max_string = 1ull << 30;
constexpr uint64_t k_max_array_depth = 8;
constexpr uint64_t k_max_dims = 4;

size_t scalar_size(value_type t) {
  switch (t) {
    case value_type::u8: case value_type::i8: case value_type::boolean: return 1;
    case value_type::u16: case value_type::i16: return 2;
    case value_type::u32: case value_type::i32: case value_type::f32: return 4;
    case value_type::u64: case value_type::i64: case value_type::f64: return 8;
    default: return 0;
  }
}

// Bounds-checked cursor over the file image. Every read names what it was reading so that an error
// tells the user where the file is broken.
class reader {
 public:
  explicit reader(std::span<const uint8_t> b) : b_(b) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return b_.size() - pos_; }
  const uint8_t* here() const { return b_.data() + pos_; }

  void need(size_t n, const char* what) const {
    if (n > remaining())
      fail(errc::format, "truncated file: {} needs {} bytes at offset {}, only {} left", what, n, pos_, remaining());
  }
  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view read_string(const char* what) {
    const uint64_t n = read<uint64_t>(what);
    if (n > k_max_string) fail(errc::format, "{}: string length {} at offset {} is implausible", what, n, pos_ - 8);
    need(static_cast<size_t>(n), what);
    std::string_view s(reinterpret_cast<const char*>(b_.data() + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  void skip(size_t n, const char* what) {
    need(n, what);
    pos_ += n;
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

value_type check_type(uint32_t raw, const std::string& key) {
  if (raw > static_cast<uint32_t>(value_type::f64))
    fail(errc::format, "metadata '{}': unknown value type {}", key, raw);
  return static_cast<value_type>(raw);
}

void read_scalar(reader& r, value_type t, value& v, const std::string& key) {
  const char* what = "metadata value";
  switch (t) {
    case value_type::u8: v.num.u = r.read<uint8_t>(what); break;
    case value_type::i8: v.num.i = r.read<int8_t>(what); break;
    case value_type::u16: v.num.u = r.read<uint16_t>(what); break;
    case value_type::i16: v.num.i = r.read<int16_t>(what); break;
    case value_type::u32: v.num.u = r.read<uint32_t>(what); break;
    case value_type::i32: v.num.i = r.read<int32_t>(what); break;
    case value_type::u64: v.num.u = r.read<uint64_t>(what); break;
    case value_type::i64: v.num.i = r.read<int64_t>(what); break;
    case value_type::f32: v.num.f = r.read<float>(what); break;
    case value_type::f64: v.num.f = r.read<double>(what); break;
    case value_type::boolean: {
      const uint8_t b = r.read<uint8_t>(what);
      if (b > 1) fail(errc::format, "metadata '{}': boolean byte {} is neither 0 nor 1", key, b);
      v.num.b = b != 0;
      break;
    }
    default: fail(errc::internal, "read_scalar on non-scalar");
  }
}

void read_value(reader& r, value_type t, value& v, const std::string& key, uint64_t depth) {
  v.type = t;
  if (t == value_type::string) {
    v.str = r.read_string("metadata string");
    return;
  }
  if (t != value_type::array) {
    read_scalar(r, t, v, key);
    return;
  }
  if (depth >= k_max_array_depth) fail(errc::format, "metadata '{}': arrays nested deeper than {}", key, k_max_array_depth);
  v.elem_type = check_type(r.read<uint32_t>("array type"), key);
  v.count = r.read<uint64_t>("array length");
  v.elems = r.here();
  const size_t start = r.pos();
  if (v.elem_type == value_type::string) {
    // Each element needs at least its 8-byte length, so the count is bounded by the bytes left.
    if (v.count > r.remaining() / 8) fail(errc::format, "metadata '{}': array of {} strings exceeds the file", key, v.count);
    for (uint64_t i = 0; i < v.count; ++i) r.read_string("array string");
  } else if (v.elem_type == value_type::array) {
    if (v.count > r.remaining() / 12) fail(errc::format, "metadata '{}': array of {} arrays exceeds the file", key, v.count);
    v.nested.resize(static_cast<size_t>(v.count));
    for (auto& e : v.nested) read_value(r, value_type::array, e, key, depth + 1);
  } else {
    const size_t es = scalar_size(v.elem_type);
    if (v.count > r.remaining() / es) fail(errc::format, "metadata '{}': array of {} elements exceeds the file", key, v.count);
    r.skip(static_cast<size_t>(v.count) * es, "array data");
    if (v.elem_type == value_type::boolean) {
      for (uint64_t i = 0; i < v.count; ++i)
        if (v.elems[i] > 1) fail(errc::format, "metadata '{}': boolean array element {} is {}", key, i, v.elems[i]);
    }
  }
  v.elems_bytes = r.pos() - start;
}

}  // namespace

std::string_view type_name(value_type t) {
  static constexpr std::string_view names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                                "bool", "string", "array", "u64", "i64", "f64"};
  auto i = static_cast<uint32_t>(t);
  return i < std::size(names) ? names[i] : "?";
}

std::unique_ptr<file> file::open(const std::string& path, file_access access) {
  auto map = std::make_unique<mapped_file>(path, access);
  std::unique_ptr<file> f(new file());
  f->bytes_ = std::span<const uint8_t>(map->data(), map->size());
  f->name_ = path;
  f->map_ = std::move(map);
  f->parse_all();
  return f;
}

std::unique_ptr<file> file::parse(std::span<const uint8_t> bytes, std::string name) {
  std::unique_ptr<file> f(new file());
  f->bytes_ = bytes;
  f->name_ = std::move(name);
  f->parse_all();
  return f;
}

void file::parse_all() {
  reader r(bytes_);
  if (bytes_.size() < 4) fail(errc::format, "'{}' is not a GGUF file: only {} bytes", name_, bytes_.size());
  const uint32_t magic = r.read<uint32_t>("magic");
  if (magic != k_magic) fail(errc::format, "'{}' is not a GGUF file (bad magic)", name_);
  version_ = r.read<uint32_t>("version");
  if (version_ == 1) fail(errc::unsupported, "GGUF version 1 is not supported (re-convert the model)");
  if (version_ != 2 && version_ != 3) fail(errc::unsupported, "GGUF version {} is not supported", version_);
  const uint64_t n_tensors = r.read<uint64_t>("tensor count");
  const uint64_t n_kv = r.read<uint64_t>("metadata count");
  // A key/value takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor entry at least 8+4+4+8.
  if (n_kv > r.remaining() / 13) fail(errc::format, "metadata count {} exceeds the file size", n_kv);
  if (n_tensors > r.remaining() / 24) fail(errc::format, "tensor count {} exceeds the file size", n_tensors);

  kv_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key(r.read_string("metadata key"));
    if (!utf8_valid(key)) fail(errc::format, "metadata key #{} is not valid UTF-8", i);
    const value_type t = check_type(r.read<uint32_t>("metadata type"), key);
    value v;
    read_value(r, t, v, key, 0);
    kv_.emplace_back(std::move(key), std::move(v));
  }
  // Index only now: string_views into kv_ must not move afterwards.
  for (size_t i = 0; i < kv_.size(); ++i) {
    if (!kv_index_.emplace(kv_[i].first, i).second) fail(errc::format, "duplicate metadata key '{}'", kv_[i].first);
  }
  if (auto a = find("general.alignment")) {
    if (a->type != value_type::u32) fail(errc::format, "general.alignment must be u32, is {}", type_name(a->type));
    const uint64_t al = a->num.u;
    if (al == 0 || (al & (al - 1)) != 0 || al > (1u << 20))
      fail(errc::format, "general.alignment {} is not a power of two in [1, 2^20]", al);
    alignment_ = static_cast<uint32_t>(al);
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    tensor_info t;
    t.name = std::string(r.read_string("tensor name"));
    t.n_dims = r.read<uint32_t>("tensor dims");
    if (t.n_dims == 0 || t.n_dims > k_max_dims)
      fail(errc::format, "tensor '{}': {} dimensions (1..{} allowed)", t.name, t.n_dims, k_max_dims);
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      t.ne[d] = r.read<uint64_t>("tensor shape");
      if (t.ne[d] == 0 || t.ne[d] > (1ull << 40))
        fail(errc::format, "tensor '{}': dimension {} has implausible size {}", t.name, d, t.ne[d]);
    }
    const uint32_t raw_type = r.read<uint32_t>("tensor type");
    const auto tr = ggml_traits(raw_type);
    if (tr.block_bytes == 0) fail(errc::unsupported, "tensor '{}': unknown ggml type id {}", t.name, raw_type);
    t.type = static_cast<ggml_type>(raw_type);
    t.offset = r.read<uint64_t>("tensor offset");
    if (t.ne[0] % tr.block_elems != 0)
      fail(errc::format, "tensor '{}': row of {} elements is not a multiple of the {} block size {}", t.name, t.ne[0],
           tr.name, tr.block_elems);
    size_t n = 1;
    for (uint32_t d = 0; d < 4; ++d) n = checked_mul(n, static_cast<size_t>(t.ne[d]), "tensor element count");
    t.nbytes = checked_mul(n / tr.block_elems, tr.block_bytes, "tensor byte size");
    tensors_.push_back(std::move(t));
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (!tensor_index_.emplace(tensors_[i].name, i).second)
      fail(errc::format, "duplicate tensor name '{}'", tensors_[i].name);
  }

  // Data section: starts at the next multiple of the alignment after the header.
  const size_t header_end = r.pos();
  const size_t data_start = checked_add(header_end, (alignment_ - header_end % alignment_) % alignment_, "data offset");
  if (data_start > bytes_.size() && !tensors_.empty())
    fail(errc::format, "truncated file: tensor data section would start at {} but the file has {} bytes", data_start,
         bytes_.size());
  for (auto& t : tensors_) {
    if (t.offset % alignment_ != 0)
      fail(errc::format, "tensor '{}': offset {} is not aligned to {}", t.name, t.offset, alignment_);
    const size_t begin = checked_add(data_start, static_cast<size_t>(t.offset), "tensor offset");
    const size_t end = checked_add(begin, t.nbytes, "tensor end");
    if (end > bytes_.size())
      fail(errc::format, "tensor '{}': data [{}, {}) lies past the end of the file ({} bytes)", t.name, begin, end,
           bytes_.size());
    t.data = bytes_.data() + begin;
  }
}

const value* file::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const tensor_info* file::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
bool is_unsigned(value_type t) {
  return t == value_type::u8 || t == value_type::u16 || t == value_type::u32 || t == value_type::u64;
}
bool is_signed(value_type t) {
  return t == value_type::i8 || t == value_type::i16 || t == value_type::i32 || t == value_type::i64;
}
}  // namespace

std::optional<uint64_t> file::get_uint(std::string_view key) const {
  const value* v = find(key);
  if (!v) return std::nullopt;
  if (is_unsigned(v->type)) return v->num.u;
  if (is_signed(v->type) && v->num.i >= 0) return static_cast<uint64_t>(v->num.i);
  fail(errc::format, "metadata '{}' should be a non-negative integer, is {}", key, type_name(v->type));
}

std::optional<int64_t> file::get_int(std::string_view key) const {
  const value* v = find(key);
  if (!v) return std::nullopt;
  if (is_signed(v->type)) return v->num.i;
  if (is_unsigned(v->type) && v->num.u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v->num.u);
  fail(errc::format, "metadata '{}' should be an integer, is {}", key, type_name(v->type));
}

std::optional<double> file::get_float(std::string_view key) const {
  const value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type == value_type::f32 || v->type == value_type::f64) return v->num.f;
  if (is_unsigned(v->type)) return static_cast<double>(v->num.u);
  if (is_signed(v->type)) return static_cast<double>(v->num.i);
  fail(errc::format, "metadata '{}' should be a number, is {}", key, type_name(v->type));
}

std::optional<bool> file::get_bool(std::string_view key) const {
  const value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != value_type::boolean) fail(errc::format, "metadata '{}' should be a bool, is {}", key, type_name(v->type));
  return v->num.b;
}

std::optional<std::string_view> file::get_string(std::string_view key) const {
  const value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != value_type::string) fail(errc::format, "metadata '{}' should be a string, is {}", key, type_name(v->type));
  return v->str;
}

namespace {
const value* array_of(const file& f, std::string_view key, value_type elem) {
  const value* v = f.find(key);
  if (!v) return nullptr;
  if (v->type != value_type::array || v->elem_type != elem)
    fail(errc::format, "metadata '{}' should be an array of {}", key, type_name(elem));
  return v;
}
}  // namespace

std::optional<std::vector<std::string_view>> file::get_string_array(std::string_view key) const {
  const value* v = array_of(*this, key, value_type::string);
  if (!v) return std::nullopt;
  std::vector<std::string_view> out;
  out.reserve(static_cast<size_t>(v->count));
  reader r(std::span<const uint8_t>(v->elems, v->elems_bytes));
  for (uint64_t i = 0; i < v->count; ++i) out.push_back(r.read_string("array string"));
  return out;
}

std::optional<std::vector<float>> file::get_f32_array(std::string_view key) const {
  const value* v = array_of(*this, key, value_type::f32);
  if (!v) return std::nullopt;
  std::vector<float> out(static_cast<size_t>(v->count));
  if (!out.empty()) std::memcpy(out.data(), v->elems, out.size() * sizeof(float));
  return out;
}

std::optional<std::vector<int32_t>> file::get_i32_array(std::string_view key) const {
  const value* v = array_of(*this, key, value_type::i32);
  if (!v) return std::nullopt;
  std::vector<int32_t> out(static_cast<size_t>(v->count));
  if (!out.empty()) std::memcpy(out.data(), v->elems, out.size() * sizeof(int32_t));
  return out;
}

}  // namespace dianoia::detail::gguf
