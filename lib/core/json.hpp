// Strict JSON (RFC 8259) for untrusted files: tokenizer.json today, safetensors headers and config.json
// later. Nothing outside the RFC is accepted (no comments, trailing commas, NaN/Infinity, single quotes,
// byte order mark), strings must be valid UTF-8 with well-formed \u escapes (a lone surrogate is an
// error), and an object may not repeat a key: two readers of the same file could otherwise disagree
// about its content. Input size, nesting depth and value count are capped so that a hostile document
// costs bounded time and memory. Every failure is error(format) naming the byte offset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dianoia::detail {

enum class json_type : uint8_t { null, boolean, integer, real, string, array, object };

// "null", "boolean", ... for messages.
std::string_view json_type_name(json_type t);

struct json_member;

// One parsed value. Strings are owned (unescaped, UTF-8); objects keep their members in document order,
// so that 150k-entry vocabularies are read by iterating, not by key lookups.
class json_value {
 public:
  using array = std::vector<json_value>;
  using object = std::vector<json_member>;

  json_value() = default;

  json_type type() const { return static_cast<json_type>(v_.index()); }
  // Where the value starts in the parsed text, so that callers checking its meaning can point at it.
  size_t offset() const { return offset_; }

  bool is_null() const { return type() == json_type::null; }
  bool is_bool() const { return type() == json_type::boolean; }
  bool is_int() const { return type() == json_type::integer; }
  bool is_number() const { return is_int() || type() == json_type::real; }
  bool is_string() const { return type() == json_type::string; }
  bool is_array() const { return type() == json_type::array; }
  bool is_object() const { return type() == json_type::object; }

  // Typed access; error(format) "expected X at byte N, got Y" for a value of another type.
  bool as_bool() const;
  int64_t as_int() const;     // integers only (a number with a fraction or exponent is a real)
  double as_double() const;   // integers or reals
  const std::string& as_string() const;
  const array& as_array() const;
  const object& as_object() const;

  // Member of an object by key (linear scan: meant for the small objects of config files); nullptr if
  // absent or if this is not an object.
  const json_value* find(std::string_view key) const;

 private:
  friend class json_parser;
  [[noreturn]] void type_error(json_type want) const;

  std::variant<std::monostate, bool, int64_t, double, std::string, array, object> v_;
  size_t offset_ = 0;
};

struct json_member {
  std::string key;
  json_value value;
};

struct json_limits {
  size_t max_bytes = size_t{256} << 20;
  // The parser recurses once per level: keep this modest.
  size_t max_depth = 128;
  // Values of any kind (each array element, member value and container counts one). Bounds memory, since
  // a 2-byte value ("0,") costs ~48 bytes in the tree: 4M values is ~200 MB. The largest tokenizer.json
  // files (250k-token vocabularies with merges) hold under 1M.
  size_t max_values = size_t{1} << 22;
};

// Parses one JSON text (whitespace around the value allowed, nothing else). Numbers without fraction or
// exponent that fit in int64 are integers, every other number a double (an integer too large for int64
// becomes a double; magnitudes beyond double's range are an error, values too small for it become 0).
// error(format) "json: <what> at byte N (line L, column C)" for anything malformed or over a limit.
json_value json_parse(std::string_view text, const json_limits& limits = {});

// A JSON string literal for UTF-8 text: quotes, backslash and control characters escaped, everything
// else passed through.
std::string json_quote(std::string_view s);

}  // namespace dianoia::detail
