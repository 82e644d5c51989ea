#include "chat/jinja_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "core/utf8.hpp"

namespace dianoia::detail::jinja {
namespace {

// One character at s[i]: its code point (or the raw byte for an invalid one) and its byte length.
struct ch {
  uint32_t cp;
  size_t len;
  bool valid;
};
ch char_at(std::string_view s, size_t i) {
  size_t j = i;
  const int32_t cp = utf8_decode(s, j);
  if (cp < 0) return {static_cast<uint8_t>(s[i]), 1, false};
  return {static_cast<uint32_t>(cp), j - i, true};
}

// Simple case mapping for the scripts chat text commonly uses in case-changing filters (Latin, Greek,
// Cyrillic); other code points have no case here.
uint32_t to_upper_cp(uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0x80) return c;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 0x20;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
    const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper ? (c % 2 == 0) : (c % 2 == 1)) return c - 1;
    return c;
  }
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 0x20;
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x430 && c <= 0x44F) return c - 0x20;
  if (c >= 0x450 && c <= 0x45F) return c - 0x50;
  return c;
}
uint32_t to_lower_cp(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
    const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  return c;
}
bool is_cased(uint32_t c) { return to_upper_cp(c) != c || to_lower_cp(c) != c || c == 0xDF; }

template <class F>
std::string map_chars(std::string_view s, F&& f) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const ch c = char_at(s, i);
    if (c.valid) {
      utf8_append(out, f(c.cp, i));
    } else {
      out += s[i];
    }
    i += c.len;
  }
  return out;
}

bool is_line_break(uint32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

}  // namespace

std::vector<size_t> char_offsets(std::string_view s) {
  std::vector<size_t> v;
  v.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size();) {
    v.push_back(i);
    i += char_at(s, i).len;
  }
  v.push_back(s.size());
  return v;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<uint8_t>(c) < 0x80; });
}

size_t char_count(std::string_view s) {
  if (is_ascii(s)) return s.size();
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += char_at(s, i).len) ++n;
  return n;
}

bool py_isspace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  std::vector<uint32_t> set;
  if (chars) {
    for (size_t i = 0; i < chars->size();) {
      const ch c = char_at(*chars, i);
      set.push_back(c.cp);
      i += c.len;
    }
  }
  auto strippable = [&](const ch& c) {
    if (!chars) return c.valid && py_isspace(c.cp);
    return std::find(set.begin(), set.end(), c.cp) != set.end();
  };
  const auto off = char_offsets(s);
  size_t b = 0, e = off.size() - 1;
  if (left) {
    while (b < e && strippable(char_at(s, off[b]))) ++b;
  }
  if (right) {
    while (e > b && strippable(char_at(s, off[e - 1]))) --e;
  }
  return std::string(s.substr(off[b], off[e] - off[b]));
}

std::string py_upper(std::string_view s) {
  std::string out = map_chars(s, [](uint32_t c, size_t) { return to_upper_cp(c); });
  // ß has no single-letter capital: Python upper-cases it to "SS".
  if (out.find("\xc3\x9f") != std::string::npos) out = py_replace(out, "\xc3\x9f", "SS", -1);
  return out;
}
std::string py_lower(std::string_view s) {
  if (s.find("\xce\xa3") == std::string_view::npos) {
    return map_chars(s, [](uint32_t c, size_t) { return to_lower_cp(c); });
  }
  // Capital sigma becomes final sigma at the end of a word (after a cased letter, before none), as in
  // Python (Unicode's Final_Sigma, without its case-ignorable skipping).
  const auto off = char_offsets(s);
  auto cased_at = [&](size_t k) {
    if (k + 1 >= off.size()) return false;
    const ch c = char_at(s, off[k]);
    return c.valid && is_cased(c.cp);
  };
  return map_chars(s, [&](uint32_t c, size_t i) {
    if (c != 0x3A3) return to_lower_cp(c);
    const size_t k = static_cast<size_t>(std::lower_bound(off.begin(), off.end(), i) - off.begin());
    return k > 0 && cased_at(k - 1) && !cased_at(k + 1) ? uint32_t{0x3C2} : uint32_t{0x3C3};
  });
}

std::string py_title(std::string_view s) {
  bool prev_cased = false;
  return map_chars(s, [&](uint32_t c, size_t) {
    const uint32_t r = prev_cased ? to_lower_cp(c) : to_upper_cp(c);
    prev_cased = is_cased(c);
    return r;
  });
}

std::string py_capitalize(std::string_view s) {
  return map_chars(s, [](uint32_t c, size_t i) { return i == 0 ? to_upper_cp(c) : to_lower_cp(c); });
}

std::string jinja_title(std::string_view s) {
  // The filter upper-cases the first character of every piece between separator runs of [-\s({[<]
  // (the separator runs themselves are pieces too, unaffected by case mapping).
  auto is_sep = [](const ch& c) {
    return c.valid && (c.cp == '-' || c.cp == '(' || c.cp == '{' || c.cp == '[' || c.cp == '<' || py_isspace(c.cp));
  };
  bool piece_start = true, prev_sep = false;
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const ch c = char_at(s, i);
    const bool sep = is_sep(c);
    if (i > 0 && sep != prev_sep) piece_start = true;
    if (!c.valid) {
      out += s[i];
    } else {
      utf8_append(out, piece_start ? to_upper_cp(c.cp) : to_lower_cp(c.cp));
    }
    piece_start = false;
    prev_sep = sep;
    i += c.len;
  }
  return out;
}

std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit,
                                  bool from_right) {
  std::vector<std::string> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (sep) {
    if (!from_right) {
      size_t start = 0;
      while (static_cast<int64_t>(out.size()) < maxsplit) {
        const size_t p = s.find(*sep, start);
        if (p == std::string_view::npos) break;
        out.emplace_back(s.substr(start, p - start));
        start = p + sep->size();
      }
      out.emplace_back(s.substr(start));
    } else {
      size_t end = s.size();
      while (static_cast<int64_t>(out.size()) < maxsplit && end >= sep->size()) {
        const size_t p = s.substr(0, end).rfind(*sep);
        if (p == std::string_view::npos) break;
        out.emplace_back(s.substr(p + sep->size(), end - p - sep->size()));
        end = p;
      }
      out.emplace_back(s.substr(0, end));
      std::reverse(out.begin(), out.end());
    }
    return out;
  }
  // Whitespace splitting: runs of whitespace separate, leading/trailing whitespace yields nothing.
  const auto off = char_offsets(s);
  const size_t n = off.size() - 1;
  auto space = [&](size_t k) {
    const ch c = char_at(s, off[k]);
    return c.valid && py_isspace(c.cp);
  };
  if (!from_right) {
    size_t k = 0;
    while (true) {
      while (k < n && space(k)) ++k;
      if (k == n) break;
      if (static_cast<int64_t>(out.size()) == maxsplit) {
        out.emplace_back(s.substr(off[k]));  // the remainder keeps its trailing whitespace
        break;
      }
      size_t b = k;
      while (k < n && !space(k)) ++k;
      out.emplace_back(s.substr(off[b], off[k] - off[b]));
    }
  } else {
    size_t k = n;
    while (true) {
      while (k > 0 && space(k - 1)) --k;
      if (k == 0) break;
      if (static_cast<int64_t>(out.size()) == maxsplit) {
        out.emplace_back(s.substr(0, off[k]));  // the remainder keeps its leading whitespace
        break;
      }
      size_t e = k;
      while (k > 0 && !space(k - 1)) --k;
      out.emplace_back(s.substr(off[k], off[e] - off[k]));
    }
    std::reverse(out.begin(), out.end());
  }
  return out;
}

std::vector<std::string> py_splitlines(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    const ch c = char_at(s, i);
    if (c.valid && is_line_break(c.cp)) {
      out.emplace_back(s.substr(start, i - start));
      i += c.len;
      if (c.cp == '\r' && i < s.size() && s[i] == '\n') ++i;
      start = i;
    } else {
      i += c.len;
    }
  }
  if (start < s.size()) out.emplace_back(s.substr(start));
  return out;
}

std::string py_replace(std::string_view s, std::string_view from, std::string_view to, int64_t count) {
  if (count < 0) count = INT64_MAX;
  std::string out;
  if (from.empty()) {
    // Python inserts the replacement before every character and at the end.
    const auto off = char_offsets(s);
    for (size_t k = 0; k + 1 < off.size(); ++k) {
      if (count > 0) {
        out += to;
        --count;
      }
      out += s.substr(off[k], off[k + 1] - off[k]);
    }
    if (count > 0) out += to;
    return out;
  }
  size_t start = 0;
  while (count > 0) {
    const size_t p = s.find(from, start);
    if (p == std::string_view::npos) break;
    out += s.substr(start, p - start);
    out += to;
    start = p + from.size();
    --count;
  }
  out += s.substr(start);
  return out;
}

int64_t py_find(std::string_view s, std::string_view sub, bool from_right) {
  const size_t p = from_right ? s.rfind(sub) : s.find(sub);
  if (p == std::string_view::npos) return -1;
  return static_cast<int64_t>(char_count(s.substr(0, p)));
}

int64_t py_count(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(char_count(s)) + 1;
  int64_t n = 0;
  for (size_t p = s.find(sub); p != std::string_view::npos; p = s.find(sub, p + sub.size())) ++n;
  return n;
}

std::vector<int64_t> slice_indices(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   std::optional<int64_t> step) {
  const int64_t st = step.value_or(1);
  std::vector<int64_t> out;
  auto clamp_idx = [n](int64_t v, int64_t lo, int64_t hi) {
    if (v < 0) v += n;
    return std::clamp(v, lo, hi);
  };
  if (st > 0) {
    const int64_t b = start ? clamp_idx(*start, 0, n) : 0;
    const int64_t e = stop ? clamp_idx(*stop, 0, n) : n;
    for (int64_t i = b; i < e; i += st) out.push_back(i);
  } else {
    const int64_t b = start ? clamp_idx(*start, -1, n - 1) : n - 1;
    const int64_t e = stop ? clamp_idx(*stop, -1, n - 1) : -1;
    for (int64_t i = b; i > e; i += st) out.push_back(i);
  }
  return out;
}

std::string py_repr_str(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (size_t i = 0; i < s.size();) {
    const ch c = char_at(s, i);
    if (!c.valid) {
      out += fmt::format("\\x{:02x}", c.cp);
    } else if (c.cp == static_cast<uint32_t>(q) || c.cp == '\\') {
      out += '\\';
      out += static_cast<char>(c.cp);
    } else if (c.cp == '\n') {
      out += "\\n";
    } else if (c.cp == '\r') {
      out += "\\r";
    } else if (c.cp == '\t') {
      out += "\\t";
    } else if (c.cp < 0x20 || c.cp == 0x7F || (c.cp >= 0x80 && c.cp < 0xA0)) {
      out += fmt::format("\\x{:02x}", c.cp);
    } else {
      out += s.substr(i, c.len);
    }
    i += c.len;
  }
  out += q;
  return out;
}

std::string py_repr_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  // Shortest round-trip digits in scientific form "d.ddde±XX", then laid out the way Python's repr does.
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  const size_t epos = sci.find('e');
  std::string_view mant = sci.substr(0, epos);
  const int exp = std::atoi(std::string(sci.substr(epos + 1)).c_str());
  std::string sign;
  if (!mant.empty() && mant[0] == '-') {
    sign = "-";
    mant.remove_prefix(1);
  }
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  if (exp >= -4 && exp < 16) {
    std::string out = sign;
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
      out += digits;
      out.append(static_cast<size_t>(exp) + 1 - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exp) + 1);
      out += '.';
      out += digits.substr(static_cast<size_t>(exp) + 1);
    }
    return out;
  }
  std::string out = sign + digits.substr(0, 1);
  if (digits.size() > 1) {
    out += '.';
    out.append(digits, 1, std::string::npos);
  }
  out += fmt::format("e{}{:02d}", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return out;
}

}  // namespace dianoia::detail::jinja
