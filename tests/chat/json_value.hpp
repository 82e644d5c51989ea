// Minimal JSON reader for the chat fixtures, producing template values (objects keep key order).
#pragma once
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "chat/jinja_value.hpp"
#include "core/utf8.hpp"

namespace dianoia::test {

class json_reader {
 public:
  explicit json_reader(std::string_view s) : s_(s) {}

  detail::jinja::value parse() {
    auto v = any();
    ws();
    if (i_ != s_.size()) bad("trailing data");
    return v;
  }

 private:
  using value = detail::jinja::value;
  std::string_view s_;
  size_t i_ = 0;

  [[noreturn]] void bad(const char* what) const {
    throw std::runtime_error(std::string("json: ") + what + " at " + std::to_string(i_));
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  unsigned hex4() {
    if (i_ + 4 > s_.size()) bad("short \\u escape");
    const unsigned v = static_cast<unsigned>(std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16));
    i_ += 4;
    return v;
  }
  std::string str() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= s_.size()) bad("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      const char e = s_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && lit("\\u")) cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4() - 0xDC00);
          detail::utf8_append(out, cp);
          break;
        }
        default: out += e;
      }
    }
  }
  value any() {
    ws();
    if (i_ >= s_.size()) bad("unexpected end");
    const char c = s_[i_];
    if (c == '"') return value::string(str());
    if (lit("true")) return value::boolean(true);
    if (lit("false")) return value::boolean(false);
    if (lit("null")) return value::none();
    if (c == '[') {
      ++i_;
      detail::jinja::list_t items;
      ws();
      if (lit("]")) return value::list(std::move(items));
      while (true) {
        items.push_back(any());
        ws();
        if (lit("]")) return value::list(std::move(items));
        if (!lit(",")) bad("expected , or ]");
      }
    }
    if (c == '{') {
      ++i_;
      detail::jinja::dict_t d;
      ws();
      if (lit("}")) return value::dict(std::move(d));
      while (true) {
        ws();
        if (i_ >= s_.size() || s_[i_] != '"') bad("expected key");
        value k = value::string(str());
        ws();
        if (!lit(":")) bad("expected :");
        d.set(k, any());
        ws();
        if (lit("}")) return value::dict(std::move(d));
        if (!lit(",")) bad("expected , or }");
      }
    }
    const size_t b = i_;
    while (i_ < s_.size() && std::string_view("+-0123456789.eE").find(s_[i_]) != std::string_view::npos) ++i_;
    if (b == i_) bad("unexpected character");
    const std::string num(s_.substr(b, i_ - b));
    if (num.find_first_of(".eE") != std::string::npos) return value::floating(std::strtod(num.c_str(), nullptr));
    return value::integer(std::strtoll(num.c_str(), nullptr, 10));
  }
};

inline detail::jinja::value parse_json(std::string_view s) { return json_reader(s).parse(); }

}  // namespace dianoia::test
