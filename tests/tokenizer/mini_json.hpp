// A minimal JSON reader for the test fixtures (no JSON library in the tree): objects, arrays, strings
// with \u escapes (surrogate pairs included), numbers, booleans, null. Throws std::runtime_error.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dianoia::test::json {

struct value {
  enum kind_t { null, boolean, number, string, array, object } kind = null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<value> items;
  std::vector<std::pair<std::string, value>> members;

  const value* get(std::string_view key) const {
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
  const value& at(std::string_view key) const {
    if (const value* v = get(key)) return *v;
    throw std::runtime_error("json: no key " + std::string(key));
  }
  std::vector<int32_t> ints() const {
    std::vector<int32_t> r;
    for (const auto& v : items) r.push_back(static_cast<int32_t>(v.num));
    return r;
  }
};

class parser {
 public:
  explicit parser(std::string_view s) : s_(s) {}
  value parse() {
    value v = parse_value();
    ws();
    if (i_ != s_.size()) err("trailing data");
    return v;
  }

 private:
  [[noreturn]] void err(const char* what) { throw std::runtime_error("json: " + std::string(what) + " at " + std::to_string(i_)); }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) err("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) err("unexpected character");
    ++i_;
  }
  bool literal(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  static void put_utf8(std::string& o, uint32_t cp) {
    if (cp < 0x80) {
      o += char(cp);
    } else if (cp < 0x800) {
      o += char(0xC0 | (cp >> 6));
      o += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      o += char(0xE0 | (cp >> 12));
      o += char(0x80 | ((cp >> 6) & 0x3F));
      o += char(0x80 | (cp & 0x3F));
    } else {
      o += char(0xF0 | (cp >> 18));
      o += char(0x80 | ((cp >> 12) & 0x3F));
      o += char(0x80 | ((cp >> 6) & 0x3F));
      o += char(0x80 | (cp & 0x3F));
    }
  }
  uint32_t hex4() {
    if (i_ + 4 > s_.size()) err("short \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else err("bad hex digit");
    }
    return v;
  }
  std::string parse_string() {
    expect('"');
    std::string o;
    while (true) {
      if (i_ >= s_.size()) err("unterminated string");
      char c = s_[i_++];
      if (c == '"') return o;
      if (c != '\\') {
        o += c;
        continue;
      }
      if (i_ >= s_.size()) err("bad escape");
      char e = s_[i_++];
      switch (e) {
        case '"': o += '"'; break;
        case '\\': o += '\\'; break;
        case '/': o += '/'; break;
        case 'b': o += '\b'; break;
        case 'f': o += '\f'; break;
        case 'n': o += '\n'; break;
        case 'r': o += '\r'; break;
        case 't': o += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && literal("\\u")) {
            uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(o, cp);
          break;
        }
        default: err("bad escape");
      }
    }
  }
  value parse_value() {
    value v;
    char c = peek();
    if (c == '{') {
      v.kind = value::object;
      ++i_;
      if (peek() == '}') return ++i_, v;
      while (true) {
        std::string k = parse_string();
        expect(':');
        v.members.emplace_back(std::move(k), parse_value());
        if (peek() == ',') { ++i_; continue; }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = value::array;
      ++i_;
      if (peek() == ']') return ++i_, v;
      while (true) {
        v.items.push_back(parse_value());
        if (peek() == ',') { ++i_; continue; }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = value::string;
      v.str = parse_string();
      return v;
    }
    if (literal("true")) { v.kind = value::boolean; v.b = true; return v; }
    if (literal("false")) { v.kind = value::boolean; return v; }
    if (literal("null")) return v;
    size_t start = i_;
    while (i_ < s_.size() && (std::string_view("+-.eE0123456789").find(s_[i_]) != std::string_view::npos)) ++i_;
    if (start == i_) err("unexpected character");
    v.kind = value::number;
    v.num = std::stod(std::string(s_.substr(start, i_ - start)));
    return v;
  }

  std::string_view s_;
  size_t i_ = 0;
};

inline value parse(std::string_view s) { return parser(s).parse(); }

}  // namespace dianoia::test::json
