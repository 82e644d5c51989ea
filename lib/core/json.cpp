#include "core/json.hpp"

#include <algorithm>
#include <charconv>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace dianoia::detail {

std::string_view json_type_name(json_type t) {
  switch (t) {
    case json_type::null: return "null";
    case json_type::boolean: return "boolean";
    case json_type::integer: return "integer";
    case json_type::real: return "number";
    case json_type::string: return "string";
    case json_type::array: return "array";
    case json_type::object: return "object";
  }
  return "?";
}

void json_value::type_error(json_type want) const {
  fail(errc::format, "json: expected {} at byte {}, got {}", json_type_name(want), offset_, json_type_name(type()));
}

bool json_value::as_bool() const {
  if (!is_bool()) type_error(json_type::boolean);
  return std::get<bool>(v_);
}

int64_t json_value::as_int() const {
  if (!is_int()) type_error(json_type::integer);
  return std::get<int64_t>(v_);
}

double json_value::as_double() const {
  if (is_int()) return static_cast<double>(std::get<int64_t>(v_));
  if (type() != json_type::real) type_error(json_type::real);
  return std::get<double>(v_);
}

const std::string& json_value::as_string() const {
  if (!is_string()) type_error(json_type::string);
  return std::get<std::string>(v_);
}

const json_value::array& json_value::as_array() const {
  if (!is_array()) type_error(json_type::array);
  return std::get<array>(v_);
}

const json_value::object& json_value::as_object() const {
  if (!is_object()) type_error(json_type::object);
  return std::get<object>(v_);
}

const json_value* json_value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& m : std::get<object>(v_))
    if (m.key == key) return &m.value;
  return nullptr;
}

// Recursive descent over the raw bytes. Every read checks p < end_ first, so a document cut at any byte
// ends in a clean "unexpected end" error.
class json_parser {
 public:
  json_parser(std::string_view text, const json_limits& lim)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), lim_(lim) {}

  json_value parse_document() {
    if (static_cast<size_t>(end_ - begin_) > lim_.max_bytes)
      fail_at(begin_ + lim_.max_bytes, fmt::format("document of {} bytes exceeds the limit of {} bytes",
                                                  end_ - begin_, lim_.max_bytes));
    if (end_ - p_ >= 3 && std::string_view(p_, 3) == "\xEF\xBB\xBF")
      fail_at(p_, "byte order mark (not allowed by RFC 8259)");
    json_value v;
    skip_ws();
    if (p_ == end_) fail_at(p_, "empty document");
    parse_value(v, 0);
    skip_ws();
    if (p_ != end_) fail_at(p_, fmt::format("unexpected {} after the JSON value", describe(p_)));
    return v;
  }

 private:
  [[noreturn]] void fail_at(const char* at, const std::string& what) const {
    const size_t off = static_cast<size_t>(at - begin_);
    // Line and column only when failing: counting newlines on the fast path would cost every parse.
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < off && begin_ + i < end_; ++i)
      if (begin_[i] == '\n') ++line, line_start = i + 1;
    fail(errc::format, "json: {} at byte {} (line {}, column {})", what, off, line, off - line_start + 1);
  }

  // Printable description of the byte at p, for "unexpected ..." messages.
  std::string describe(const char* p) const {
    if (p >= end_) return "end of input";
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x21 && c < 0x7F) return fmt::format("character '{}'", static_cast<char>(c));
    return fmt::format("byte 0x{:02X}", c);
  }

  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  void count_value(const char* at) {
    if (++n_values_ > lim_.max_values) fail_at(at, fmt::format("more than {} values", lim_.max_values));
  }

  void parse_value(json_value& out, size_t depth) {
    const char* at = p_;
    count_value(at);
    out.offset_ = static_cast<size_t>(at - begin_);
    if (p_ == end_) fail_at(p_, "unexpected end of input, expected a value");
    switch (*p_) {
      case '{':
        parse_object(out, depth + 1);
        return;
      case '[':
        parse_array(out, depth + 1);
        return;
      case '"': {
        std::string s;
        parse_string(s);
        out.v_ = std::move(s);
        return;
      }
      case 't':
        literal("true");
        out.v_ = true;
        return;
      case 'f':
        literal("false");
        out.v_ = false;
        return;
      case 'n':
        literal("null");
        out.v_ = std::monostate{};
        return;
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) {
          parse_number(out);
          return;
        }
        fail_at(p_, fmt::format("unexpected {}, expected a value", describe(p_)));
    }
  }

  void literal(std::string_view word) {
    for (size_t i = 0; i < word.size(); ++i)
      if (p_ + i == end_ || p_[i] != word[i])
        fail_at(p_ + i, fmt::format("invalid literal (expected '{}')", word));
    p_ += word.size();
  }

  void enter(size_t depth) const {
    if (depth > lim_.max_depth) fail_at(p_, fmt::format("nesting deeper than {} levels", lim_.max_depth));
  }

  void parse_array(json_value& out, size_t depth) {
    enter(depth);
    const char* open = p_++;
    json_value::array a;
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      out.v_ = std::move(a);
      return;
    }
    for (;;) {
      skip_ws();
      parse_value(a.emplace_back(), depth);
      skip_ws();
      if (p_ == end_) fail_at(p_, fmt::format("unterminated array (opened at byte {})", open - begin_));
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        break;
      }
      fail_at(p_, fmt::format("unexpected {} in array, expected ',' or ']'", describe(p_)));
    }
    out.v_ = std::move(a);
  }

  void parse_object(json_value& out, size_t depth) {
    enter(depth);
    const char* open = p_++;
    json_value::object o;
    skip_ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      out.v_ = std::move(o);
      return;
    }
    for (;;) {
      skip_ws();
      if (p_ == end_) fail_at(p_, fmt::format("unterminated object (opened at byte {})", open - begin_));
      if (*p_ != '"') fail_at(p_, fmt::format("unexpected {}, expected a string key", describe(p_)));
      json_member& m = o.emplace_back();
      parse_string(m.key);
      skip_ws();
      if (p_ == end_ || *p_ != ':') fail_at(p_, fmt::format("unexpected {}, expected ':'", describe(p_)));
      ++p_;
      skip_ws();
      parse_value(m.value, depth);
      skip_ws();
      if (p_ == end_) fail_at(p_, fmt::format("unterminated object (opened at byte {})", open - begin_));
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        break;
      }
      fail_at(p_, fmt::format("unexpected {} in object, expected ',' or '}}'", describe(p_)));
    }
    check_duplicates(o);
    out.v_ = std::move(o);
  }

  void check_duplicates(const json_value::object& o) const {
    auto report = [&](const json_member& a, const json_member& b) {
      const json_member& later = a.value.offset_ > b.value.offset_ ? a : b;
      fail_at(begin_ + later.value.offset_, fmt::format("duplicate object key '{}' (value here)", later.key));
    };
    if (o.size() <= 16) {
      for (size_t i = 1; i < o.size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if (o[i].key == o[j].key) report(o[j], o[i]);
      return;
    }
    // Large objects (vocabularies): sort views of the keys and compare neighbours, O(n log n).
    std::vector<const json_member*> v;
    v.reserve(o.size());
    for (const auto& m : o) v.push_back(&m);
    std::sort(v.begin(), v.end(), [](const json_member* a, const json_member* b) { return a->key < b->key; });
    for (size_t i = 1; i < v.size(); ++i)
      if (v[i]->key == v[i - 1]->key) report(*v[i - 1], *v[i]);
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // The 4 hex digits after "\u" at p_ (which points at the backslash).
  uint32_t read_u_escape() {
    if (end_ - p_ < 6) fail_at(p_, "truncated \\u escape");
    uint32_t v = 0;
    for (int k = 2; k < 6; ++k) {
      const int h = hex_value(p_[k]);
      if (h < 0) fail_at(p_ + k, fmt::format("invalid hex digit {} in \\u escape", describe(p_ + k)));
      v = v * 16 + static_cast<uint32_t>(h);
    }
    return v;
  }

  void parse_string(std::string& out) {
    const char* open = p_++;
    const char* run = p_;  // start of the bytes not yet copied to `out`
    for (;;) {
      if (p_ == end_) fail_at(p_, fmt::format("unterminated string (opened at byte {})", open - begin_));
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out.append(run, p_);
        ++p_;
        return;
      }
      if (c == '\\') {
        out.append(run, p_);
        parse_escape(out);
        run = p_;
        continue;
      }
      if (c < 0x20) fail_at(p_, fmt::format("unescaped control character 0x{:02X} in string", c));
      if (c < 0x80) {
        ++p_;
        continue;
      }
      size_t i = static_cast<size_t>(p_ - begin_);
      if (utf8_decode(std::string_view(begin_, static_cast<size_t>(end_ - begin_)), i) < 0)
        fail_at(p_, fmt::format("invalid UTF-8 (byte 0x{:02X}) in string", c));
      p_ = begin_ + i;
    }
  }

  void parse_escape(std::string& out) {
    if (end_ - p_ < 2) fail_at(p_, "truncated escape in string");
    switch (p_[1]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = read_u_escape();
        if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(p_, fmt::format("lone low surrogate \\u{:04X}", cp));
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // UTF-16 pair: the low half must follow at once as another \u escape.
          const char* hi = p_;
          p_ += 6;
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u')
            fail_at(hi, fmt::format("lone high surrogate \\u{:04X}", cp));
          const uint32_t lo = read_u_escape();
          if (lo < 0xDC00 || lo > 0xDFFF)
            fail_at(hi, fmt::format("high surrogate \\u{:04X} followed by \\u{:04X}, not a low surrogate", cp, lo));
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        utf8_append(out, cp);
        p_ += 6;
        return;
      }
      default:
        fail_at(p_ + 1, fmt::format("invalid escape \\{} in string", describe(p_ + 1)));
    }
    p_ += 2;
  }

  static bool digit(const char* p, const char* end) { return p < end && *p >= '0' && *p <= '9'; }

  void parse_number(json_value& out) {
    const char* s = p_;
    if (*p_ == '-') ++p_;
    if (!digit(p_, end_)) fail_at(p_, fmt::format("unexpected {} in number, expected a digit", describe(p_)));
    if (*p_ == '0') {
      ++p_;
      if (digit(p_, end_)) fail_at(p_, "leading zero in number");
    } else {
      while (digit(p_, end_)) ++p_;
    }
    bool integral = true;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digit(p_, end_)) fail_at(p_, fmt::format("unexpected {} after '.', expected a digit", describe(p_)));
      while (digit(p_, end_)) ++p_;
      integral = false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digit(p_, end_)) fail_at(p_, fmt::format("unexpected {} in exponent, expected a digit", describe(p_)));
      while (digit(p_, end_)) ++p_;
      integral = false;
    }
    if (integral) {
      int64_t i = 0;
      const auto r = std::from_chars(s, p_, i);
      if (r.ec == std::errc() && r.ptr == p_) {
        out.v_ = i;
        return;
      }
      // Too large for int64: kept as a double, like every other JSON reader that has no bignums.
    }
    double d = 0;
    const auto r = std::from_chars(s, p_, d);
    if (r.ec == std::errc::result_out_of_range) {
      if (decimal_magnitude(s, p_) > 0) fail_at(s, "number out of range (beyond double)");
      d = *s == '-' ? -0.0 : 0.0;  // underflow: the nearest double is zero
    } else if (r.ec != std::errc() || r.ptr != p_) {
      fail_at(s, "invalid number");
    }
    out.v_ = d;
  }

  // Power of ten of the first significant digit of a validated number (clamped), to tell overflow from
  // underflow when from_chars reports a value out of range.
  static int64_t decimal_magnitude(const char* s, const char* e) {
    if (*s == '-') ++s;
    int64_t int_digits = 0, lead_frac_zeros = 0;
    bool seen_nonzero = false;
    const char* p = s;
    for (; p < e && *p >= '0' && *p <= '9'; ++p)
      if (seen_nonzero || *p != '0') seen_nonzero = true, ++int_digits;
    if (p < e && *p == '.')
      for (++p; p < e && *p >= '0' && *p <= '9'; ++p)
        if (!seen_nonzero) {
          if (*p == '0') ++lead_frac_zeros;
          else seen_nonzero = true;
        }
    int64_t exp = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
      ++p;
      const bool neg = *p == '-';
      if (*p == '+' || *p == '-') ++p;
      for (; p < e; ++p) exp = std::min<int64_t>(exp * 10 + (*p - '0'), int64_t{1} << 40);
      if (neg) exp = -exp;
    }
    return (int_digits > 0 ? int_digits - 1 : -(lead_frac_zeros + 1)) + exp;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  json_limits lim_;
  size_t n_values_ = 0;
};

json_value json_parse(std::string_view text, const json_limits& limits) {
  return json_parser(text, limits).parse_document();
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace dianoia::detail
