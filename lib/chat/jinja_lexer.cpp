#include "chat/jinja_lexer.hpp"

#include <optional>

#include "chat/jinja_text.hpp"
#include "core/error.hpp"
#include "core/utf8.hpp"

namespace dianoia::detail::jinja {
namespace {

constexpr size_t npos = std::string_view::npos;

// Whitespace as Python's \s sees it (tag interiors and the '-' markers use it).
size_t skip_space(std::string_view s, size_t p) {
  while (p < s.size()) {
    size_t q = p;
    const int32_t cp = utf8_decode(s, q);
    if (cp < 0 || !py_isspace(static_cast<uint32_t>(cp))) break;
    p = q;
  }
  return p;
}

bool all_space(std::string_view s) { return !s.empty() && skip_space(s, 0) == s.size(); }

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }
int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class lexer {
 public:
  explicit lexer(std::string_view src) : src_(src) {}

  std::vector<token> run() {
    size_t pos = 0;
    while (true) {
      const size_t t = next_tag(pos);
      std::string_view text = src_.substr(pos, (t == npos ? src_.size() : t) - pos);
      if (t != npos) {
        const char sign = sign_at(t + 2);
        text = strip_before_tag(text, pos, sign, src_[t + 1] != '{');
      }
      if (!text.empty()) out_.push_back({tok::text, static_cast<uint32_t>(pos), std::string(text)});
      if (t == npos) break;
      switch (src_[t + 1]) {
        case '#': pos = comment(t); break;
        case '{': pos = tag(t, false); break;
        default: pos = raw_block(t); if (pos == npos) pos = tag(t, true);
      }
    }
    out_.push_back({tok::eof, static_cast<uint32_t>(src_.size()), {}});
    return std::move(out_);
  }

 private:
  std::string_view src_;
  std::vector<token> out_;

  [[noreturn]] void fail(size_t pos, std::string_view msg) { fail_at(src_, static_cast<uint32_t>(pos), msg); }

  size_t next_tag(size_t from) const {
    for (size_t t = src_.find('{', from); t != npos && t + 1 < src_.size(); t = src_.find('{', t + 1)) {
      const char c = src_[t + 1];
      if (c == '{' || c == '%' || c == '#') return t;
    }
    return npos;
  }

  char sign_at(size_t p) const {
    return p < src_.size() && (src_[p] == '-' || src_[p] == '+') ? src_[p] : 0;
  }

  bool line_starting(size_t p) const { return p == 0 || src_[p - 1] == '\n'; }

  // The text before a tag: '-' strips all trailing whitespace; otherwise lstrip_blocks removes the
  // indentation before a block or comment tag when nothing else precedes it on its line.
  std::string_view strip_before_tag(std::string_view text, size_t text_pos, char sign, bool block_like) {
    if (sign == '-') return text.substr(0, py_strip(text, std::nullopt, false, true).size());
    if (sign == '+' || !block_like) return text;
    const size_t nl = text.rfind('\n');
    const size_t l = nl == npos ? 0 : nl + 1;
    if ((l > 0 || line_starting(text_pos)) && all_space(text.substr(l))) return text.substr(0, l);
    return text;
  }

  // After a closing marker: '-' eats all whitespace, '+' nothing, otherwise trim_blocks eats one
  // newline (block and comment tags only).
  size_t after_close(size_t p, char sign, bool block_like) const {
    if (sign == '-') return skip_space(src_, p);
    if (sign != '+' && block_like && p < src_.size() && src_[p] == '\n') return p + 1;
    return p;
  }

  size_t comment(size_t t) {
    const size_t body = t + 2 + (sign_at(t + 2) ? 1 : 0);
    const size_t e = src_.find("#}", body);
    if (e == npos) fail(t, "unterminated comment (missing '#}')");
    const char sign = e > body ? sign_at(e - 1) : 0;
    return after_close(e + 2, sign, true);
  }

  // Matches "{%[-+]? raw [-]?%}" / "endraw" at t; returns the end offset or npos.
  std::optional<std::pair<size_t, char>> match_word_tag(size_t t, std::string_view word) const {
    if (src_.compare(t, 2, "{%") != 0) return std::nullopt;
    size_t p = skip_space(src_, t + 2 + (sign_at(t + 2) ? 1 : 0));
    if (src_.compare(p, word.size(), word) != 0) return std::nullopt;
    p += word.size();
    if (p < src_.size() && ident_char(src_[p])) return std::nullopt;
    p = skip_space(src_, p);
    const char sign = sign_at(p);
    if (sign) ++p;
    if (src_.compare(p, 2, "%}") != 0) return std::nullopt;
    return std::make_pair(p + 2, sign);
  }

  size_t raw_block(size_t t) {
    const auto begin = match_word_tag(t, "raw");
    if (!begin) return npos;
    // The opening raw tag honours '-' but not trim_blocks (as jinja2's lexer does).
    const size_t body = begin->second == '-' ? skip_space(src_, begin->first) : begin->first;
    for (size_t e = src_.find("{%", body); e != npos; e = src_.find("{%", e + 1)) {
      const auto end = match_word_tag(e, "endraw");
      if (!end) continue;
      std::string_view text = strip_before_tag(src_.substr(body, e - body), body, sign_at(e + 2), true);
      if (!text.empty()) out_.push_back({tok::text, static_cast<uint32_t>(body), std::string(text)});
      return after_close(end->first, end->second, true);
    }
    fail(t, "unterminated raw block (missing '{% endraw %}')");
  }

  size_t tag(size_t t, bool block) {
    out_.push_back({block ? tok::block_begin : tok::var_begin, static_cast<uint32_t>(t), {}});
    size_t p = t + 2 + (sign_at(t + 2) ? 1 : 0);
    std::vector<char> closers;
    const char close = block ? '%' : '}';
    while (true) {
      p = skip_space(src_, p);
      if (p >= src_.size()) {
        fail(t, block ? "unterminated block tag (missing '%}')" : "unterminated expression tag (missing '}}')");
      }
      if (closers.empty()) {
        const char sign = sign_at(p);
        const size_t q = p + (sign ? 1 : 0);
        if (q + 1 < src_.size() && src_[q] == close && src_[q + 1] == '}' && (sign != '+' || block)) {
          out_.push_back({block ? tok::block_end : tok::var_end, static_cast<uint32_t>(p), {}});
          return after_close(q + 2, sign, block);
        }
      }
      p = expr_token(p, closers);
    }
  }

  size_t expr_token(size_t p, std::vector<char>& closers) {
    const char c = src_[p];
    const auto at = static_cast<uint32_t>(p);
    if (ident_start(c)) {
      size_t e = p;
      while (e < src_.size() && ident_char(src_[e])) ++e;
      out_.push_back({tok::name, at, std::string(src_.substr(p, e - p))});
      return e;
    }
    if (digit(c)) return number(p);
    if (c == '\'' || c == '"') return string_literal(p);
    static constexpr std::string_view two[] = {"//", "**", "==", "!=", "<=", ">="};
    for (auto op : two) {
      if (src_.compare(p, 2, op) == 0) {
        out_.push_back({tok::op, at, std::string(op)});
        return p + 2;
      }
    }
    if (std::string_view("+-*/%~()[]{},.:|=<>").find(c) == npos) {
      fail(p, fmt::format("unexpected character '{}'", c));
    }
    if (c == '(' || c == '[' || c == '{') closers.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    if (c == ')' || c == ']' || c == '}') {
      if (closers.empty()) fail(p, fmt::format("unexpected '{}'", c));
      if (closers.back() != c) fail(p, fmt::format("unexpected '{}', expected '{}'", c, closers.back()));
      closers.pop_back();
    }
    out_.push_back({tok::op, at, std::string(1, c)});
    return p + 1;
  }

  size_t digits(size_t p, std::string& out) const {
    while (p < src_.size() && (digit(src_[p]) || (src_[p] == '_' && p + 1 < src_.size() && digit(src_[p + 1])))) {
      if (src_[p] != '_') out += src_[p];
      ++p;
    }
    return p;
  }

  size_t number(size_t p) {
    std::string text;
    size_t e = digits(p, text);
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && digit(src_[e + 1])) {
      text += '.';
      e = digits(e + 1, text);
      is_float = true;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t q = e + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && digit(src_[q])) {
        text += 'e';
        text.append(src_.substr(e + 1, q - e - 1));
        e = digits(q, text);
        is_float = true;
      }
    }
    out_.push_back({is_float ? tok::floating : tok::integer, static_cast<uint32_t>(p), std::move(text)});
    return e;
  }

  // Python's unicode-escape rules, which jinja2 applies to string literals.
  size_t string_literal(size_t p) {
    const char q = src_[p];
    std::string v;
    size_t i = p + 1;
    while (true) {
      if (i >= src_.size()) fail(p, "unterminated string literal");
      const char c = src_[i];
      if (c == q) break;
      if (c != '\\') {
        v += c;
        ++i;
        continue;
      }
      if (i + 1 >= src_.size()) fail(p, "unterminated string literal");
      const char e = src_[i + 1];
      i += 2;
      switch (e) {
        case '\n': break;
        case '\\': v += '\\'; break;
        case '\'': v += '\''; break;
        case '"': v += '"'; break;
        case 'a': v += '\a'; break;
        case 'b': v += '\b'; break;
        case 'f': v += '\f'; break;
        case 'n': v += '\n'; break;
        case 'r': v += '\r'; break;
        case 't': v += '\t'; break;
        case 'v': v += '\v'; break;
        case 'x':
        case 'u':
        case 'U': {
          const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < n; ++k) {
            const int h = i + k < src_.size() ? hex_val(src_[i + k]) : -1;
            if (h < 0) fail(i - 2, fmt::format("truncated \\{} escape in string literal", e));
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail(i - 2, "invalid code point in string escape");
          i += static_cast<size_t>(n);
          utf8_append(v, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k, ++i) {
              cp = cp * 8 + static_cast<uint32_t>(src_[i] - '0');
            }
            utf8_append(v, cp);
          } else {
            v += '\\';  // unknown escapes are kept verbatim, as in Python
            v += e;
          }
      }
    }
    out_.push_back({tok::string, static_cast<uint32_t>(p), std::move(v)});
    return i + 1;
  }
};

}  // namespace

std::string normalize_source(std::string_view src) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      out += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      out += src[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::vector<token> lex(std::string_view src) { return lexer(src).run(); }

std::string location(std::string_view src, uint32_t pos) {
  pos = std::min<uint32_t>(pos, static_cast<uint32_t>(src.size()));
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < pos; ++i) {
    if (src[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return fmt::format("line {}, column {}", line, char_count(src.substr(line_start, pos - line_start)) + 1);
}

void fail_at(std::string_view src, uint32_t pos, std::string_view msg) {
  detail::fail(errc::format, "chat template: {}: {}", location(src, pos), msg);
}

}  // namespace dianoia::detail::jinja
