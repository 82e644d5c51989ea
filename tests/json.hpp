// A small JSON reader for test fixtures (reference outputs made by tools/ scripts). Not for untrusted
// input: the library itself parses no JSON yet.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dianoia::test {

struct json {
  enum kind_t { null, boolean, number, string, array, object } kind = null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<json> arr;
  std::vector<std::pair<std::string, json>> obj;

  // The member named key, or nullptr.
  const json* find(std::string_view key) const {
    for (const auto& [k, v] : obj)
      if (k == key) return &v;
    return nullptr;
  }
  const json& operator[](std::string_view key) const {
    if (const json* v = find(key)) return *v;
    throw std::runtime_error("json: no key '" + std::string(key) + "'");
  }
  const json& operator[](size_t i) const { return arr.at(i); }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  size_t size() const { return kind == array ? arr.size() : obj.size(); }
  int64_t as_int() const { return static_cast<int64_t>(num); }
  template <class T = int32_t>
  std::vector<T> as_vector() const {
    std::vector<T> v;
    for (const auto& e : arr) v.push_back(static_cast<T>(e.num));
    return v;
  }

  static json parse(std::string_view s) {
    size_t i = 0;
    json j = parse_value(s, i);
    skip_ws(s, i);
    if (i != s.size()) throw std::runtime_error("json: trailing characters");
    return j;
  }

 private:
  static void skip_ws(std::string_view s, size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  static std::string parse_string(std::string_view s, size_t& i) {
    if (s[i] != '"') throw std::runtime_error("json: expected string");
    ++i;
    std::string out;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = s.at(i++);
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          uint32_t cp = std::stoul(std::string(s.substr(i, 4)), nullptr, 16);
          i += 4;
          if (cp >= 0xD800 && cp < 0xDC00 && s.substr(i, 2) == "\\u") {
            uint32_t lo = std::stoul(std::string(s.substr(i + 2, 4)), nullptr, 16);
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              i += 6;
            }
          }
          append_utf8(out, cp);
          break;
        }
        default: out += e;
      }
    }
    ++i;
    return out;
  }
  static json parse_value(std::string_view s, size_t& i) {
    skip_ws(s, i);
    if (i >= s.size()) throw std::runtime_error("json: unexpected end");
    json j;
    char c = s[i];
    if (c == '{') {
      j.kind = object;
      ++i;
      skip_ws(s, i);
      if (s[i] == '}') {
        ++i;
        return j;
      }
      for (;;) {
        skip_ws(s, i);
        std::string k = parse_string(s, i);
        skip_ws(s, i);
        if (s[i++] != ':') throw std::runtime_error("json: expected ':'");
        j.obj.emplace_back(std::move(k), parse_value(s, i));
        skip_ws(s, i);
        if (s[i] == ',') { ++i; continue; }
        if (s[i] == '}') { ++i; return j; }
        throw std::runtime_error("json: expected ',' or '}'");
      }
    }
    if (c == '[') {
      j.kind = array;
      ++i;
      skip_ws(s, i);
      if (s[i] == ']') {
        ++i;
        return j;
      }
      for (;;) {
        j.arr.push_back(parse_value(s, i));
        skip_ws(s, i);
        if (s[i] == ',') { ++i; continue; }
        if (s[i] == ']') { ++i; return j; }
        throw std::runtime_error("json: expected ',' or ']'");
      }
    }
    if (c == '"') {
      j.kind = string;
      j.str = parse_string(s, i);
      return j;
    }
    if (s.substr(i, 4) == "true") { i += 4; j.kind = boolean; j.b = true; return j; }
    if (s.substr(i, 5) == "false") { i += 5; j.kind = boolean; return j; }
    if (s.substr(i, 4) == "null") { i += 4; return j; }
    if (s.substr(i, 3) == "NaN") { i += 3; j.kind = number; j.num = std::numeric_limits<double>::quiet_NaN(); return j; }
    j.kind = number;
    const std::string rest(s.substr(i, std::min<size_t>(64, s.size() - i)));
    char* end = nullptr;
    j.num = std::strtod(rest.c_str(), &end);
    if (end == rest.c_str()) throw std::runtime_error("json: bad value");
    i += static_cast<size_t>(end - rest.c_str());
    return j;
  }
};

}  // namespace dianoia::test
