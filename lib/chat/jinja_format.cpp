#include "chat/jinja_format.hpp"

#include <cmath>
#include <cstdio>
#include <optional>

#include "chat/jinja_text.hpp"
#include "core/utf8.hpp"

namespace dianoia::detail::jinja {
namespace {

// Width and precision come from the template: bound them so one field cannot allocate without limit.
constexpr int64_t max_field = 1 << 20;

struct spec_t {
  std::string fill = " ";
  char align = 0, sign = '-', grouping = 0, type = 0;
  bool alt = false, zero = false;
  int64_t width = -1, precision = -1;
};

int64_t read_number(std::string_view s, size_t& i) {
  int64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    n = n * 10 + (s[i++] - '0');
    if (n > max_field) raise("format width or precision too big");
  }
  return n;
}

spec_t parse_spec(std::string_view s) {
  spec_t sp;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '=' || c == '^'; };
  size_t first_len = 0;
  if (!s.empty()) {
    size_t j = 0;
    first_len = utf8_decode(s, j) < 0 ? 1 : j;
  }
  if (s.size() > first_len && is_align(s[first_len])) {
    sp.fill = std::string(s.substr(0, first_len));
    sp.align = s[first_len];
    i = first_len + 1;
  } else if (!s.empty() && is_align(s[0])) {
    sp.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) sp.sign = s[i++];
  if (i < s.size() && s[i] == '#') sp.alt = true, ++i;
  if (i < s.size() && s[i] == '0') sp.zero = true, ++i;
  if (i < s.size() && s[i] >= '0' && s[i] <= '9') sp.width = read_number(s, i);
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) sp.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || s[i] < '0' || s[i] > '9') raise("Format specifier missing precision");
    sp.precision = read_number(s, i);
  }
  if (i < s.size()) sp.type = s[i++];
  if (i != s.size()) raise("Invalid format specifier '{}'", s);
  if (sp.zero && !sp.align) {
    sp.fill.assign(1, '0');  // (assign, not = "0": GCC 12 -Wrestrict false positive)
    sp.align = '=';
  }
  return sp;
}

// Pads `body` (with its sign or prefix `lead` kept in front for '=' alignment) to the spec's width.
std::string pad(const spec_t& sp, std::string lead, std::string body, char default_align) {
  const int64_t len = static_cast<int64_t>(char_count(lead) + char_count(body));
  const char align = sp.align ? sp.align : default_align;
  if (sp.width <= len) return lead + body;
  const auto n = static_cast<size_t>(sp.width - len);
  auto fill = [&](size_t k) {
    std::string f;
    for (size_t j = 0; j < k; ++j) f += sp.fill;
    return f;
  };
  switch (align) {
    case '<': return lead + body + fill(n);
    case '^': return fill(n / 2) + lead + body + fill(n - n / 2);
    case '=': return lead + fill(n) + body;
    default: return fill(n) + lead + body;
  }
}

std::string group_digits(const std::string& digits, char sep, size_t every) {
  std::string out;
  const size_t n = digits.size();
  for (size_t k = 0; k < n; ++k) {
    if (k && (n - k) % every == 0) out += sep;
    out += digits[k];
  }
  return out;
}

std::string sign_of(bool negative, char sign) {
  if (negative) return "-";
  if (sign == '+') return "+";
  if (sign == ' ') return " ";
  return "";
}

std::string format_float(double x, const spec_t& sp) {
  char type = sp.type;
  const bool negative = std::signbit(x);
  const double a = std::fabs(x);
  std::string body;
  if (std::isnan(x) || std::isinf(x)) {
    body = std::isnan(x) ? "nan" : "inf";
    if (type == 'E' || type == 'F' || type == 'G') body = std::isnan(x) ? "NAN" : "INF";
    if (type == '%') body += '%';
  } else if (!type && sp.precision < 0) {
    body = py_repr_float(a);
  } else {
    const int prec = static_cast<int>(sp.precision < 0 ? 6 : sp.precision);
    double v = a;
    char conv = type ? type : 'g';
    if (type == '%') {
      v *= 100;
      conv = 'f';
    }
    if (conv == 'n') conv = 'g';
    const std::string f = std::string("%") + (sp.alt ? "#" : "") + ".*" + conv;
    const int n = std::snprintf(nullptr, 0, f.c_str(), prec, v);
    body.resize(static_cast<size_t>(n) + 1);
    std::snprintf(body.data(), body.size(), f.c_str(), prec, v);
    body.resize(static_cast<size_t>(n));
    // Without a type Python keeps at least one digit after the point ("3.0", not "3").
    if (!type && body.find_first_of(".e") == std::string::npos) body += ".0";
    if (type == '%') body += '%';
  }
  if (sp.grouping && !std::isnan(x) && !std::isinf(x)) {
    const size_t end = body.find_first_not_of("0123456789");
    body = group_digits(body.substr(0, end), sp.grouping, 3) + (end == std::string::npos ? "" : body.substr(end));
  }
  return pad(sp, sign_of(negative, sp.sign), body, '>');
}

std::string format_int(int64_t i, const spec_t& sp) {
  const char type = sp.type;
  if (type == 'e' || type == 'E' || type == 'f' || type == 'F' || type == 'g' || type == 'G' || type == '%') {
    return format_float(static_cast<double>(i), sp);
  }
  if (sp.precision >= 0) raise("Precision not allowed in integer format specifier");
  if (type == 'c') {
    if (i < 0 || i > 0x10FFFF) raise("%c arg not in range(0x110000)");
    std::string s;
    utf8_append(s, static_cast<uint32_t>(i));
    return pad(sp, "", s, '<');
  }
  const bool negative = i < 0;
  const uint64_t u = negative ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
  std::string digits, prefix;
  auto in_base = [&](unsigned base, const char* alphabet) {
    std::string d;
    uint64_t v = u;
    do {
      d.insert(d.begin(), alphabet[v % base]);
      v /= base;
    } while (v);
    return d;
  };
  switch (type) {
    case 0: case 'd': case 'n': digits = std::to_string(u); break;
    case 'x': digits = in_base(16, "0123456789abcdef"); prefix = "0x"; break;
    case 'X': digits = in_base(16, "0123456789ABCDEF"); prefix = "0X"; break;
    case 'o': digits = in_base(8, "01234567"); prefix = "0o"; break;
    case 'b': digits = in_base(2, "01"); prefix = "0b"; break;
    default: raise("Unknown format code '{}' for object of type 'int'", type);
  }
  if (sp.grouping) digits = group_digits(digits, sp.grouping, type == 0 || type == 'd' || type == 'n' ? 3 : 4);
  return pad(sp, sign_of(negative, sp.sign) + (sp.alt ? prefix : ""), digits, '>');
}

// A replacement field's argument: "0", "name", then ".attr" / "[key]" steps.
value field_value(std::string_view name, const call_args& args, size_t& auto_index, bool& used_auto, bool& used_manual) {
  size_t end = name.find_first_of(".[");
  std::string_view head = name.substr(0, end);
  value v;
  if (head.empty()) {
    if (used_manual) raise("cannot switch from manual field specification to automatic field numbering");
    used_auto = true;
    if (auto_index >= args.pos.size()) raise("Replacement index {} out of range for positional args tuple", auto_index);
    v = args.pos[auto_index++];
  } else if (head.find_first_not_of("0123456789") == std::string_view::npos) {
    if (used_auto) raise("cannot switch from automatic field numbering to manual field specification");
    used_manual = true;
    const size_t k = std::stoul(std::string(head));
    if (k >= args.pos.size()) raise("Replacement index {} out of range for positional args tuple", k);
    v = args.pos[k];
  } else {
    const value* kw = args.kwarg(head);
    if (!kw) raise("KeyError: '{}'", head);
    v = *kw;
  }
  while (end != std::string_view::npos && end < name.size()) {
    if (name[end] == '.') {
      const size_t next = name.find_first_of(".[", end + 1);
      const std::string attr(name.substr(end + 1, next - end - 1));
      if (!attr.empty() && attr[0] == '_') raise("access to attribute '{}' is unsafe", attr);
      const value* x = v.is_dict() ? v.dict().find(attr) : nullptr;
      if (!x) raise("'{}' object has no attribute '{}'", type_name(v), attr);
      v = *x;
      end = next;
    } else {
      const size_t close = name.find(']', end);
      if (close == std::string_view::npos) raise("Missing ']' in format string");
      const std::string key(name.substr(end + 1, close - end - 1));
      const bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
      if (v.is_sequence() && numeric) {
        const size_t k = std::stoul(key);
        if (k >= v.items().size()) raise("list index out of range");
        v = v.items()[k];
      } else if (v.is_dict()) {
        const value* x = numeric ? v.dict().find(value::integer(std::stoll(key))) : v.dict().find(key);
        if (!x && numeric) x = v.dict().find(key);
        if (!x) raise("KeyError: '{}'", key);
        v = *x;
      } else {
        raise("'{}' object is not subscriptable", type_name(v));
      }
      end = close + 1;
    }
  }
  return v;
}

void check_size(const std::string& s) {
  if (s.size() > max_string_bytes) raise("string result exceeds the size limit of {} bytes", max_string_bytes);
}

}  // namespace

std::string py_format_value(const value& v, std::string_view spec) {
  const spec_t sp = parse_spec(spec);
  switch (v.kind()) {
    case vkind::boolean:
      if (!sp.type) return pad(sp, "", to_str(v), '<');
      return format_int(v.as_int(), sp);
    case vkind::integer:
      return format_int(v.as_int(), sp);
    case vkind::floating:
      if (sp.type && std::string_view("eEfFgGn%").find(sp.type) == std::string_view::npos) {
        raise("Unknown format code '{}' for object of type 'float'", sp.type);
      }
      return format_float(v.as_float(), sp);
    case vkind::string: {
      if (sp.type && sp.type != 's') raise("Unknown format code '{}' for object of type 'str'", sp.type);
      if (sp.sign != '-') raise("Sign not allowed in string format specifier");
      if (sp.align == '=') raise("'=' alignment not allowed in string format specifier");
      std::string s = v.str();
      if (sp.precision >= 0 && static_cast<size_t>(sp.precision) < char_count(s)) {
        s = s.substr(0, char_offsets(s)[static_cast<size_t>(sp.precision)]);
      }
      return pad(sp, "", s, '<');
    }
    default:
      if (!spec.empty()) raise("unsupported format string passed to {}.__format__", type_name(v));
      return to_str(v);
  }
}

std::string py_str_format(std::string_view fmt, const call_args& args) {
  std::string out;
  size_t auto_index = 0;
  bool used_auto = false, used_manual = false;
  for (size_t i = 0; i < fmt.size();) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        i += 2;
        continue;
      }
      raise("Single '}}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      i += 2;
      continue;
    }
    // Find the matching '}', allowing one level of nested fields in the spec.
    size_t depth = 1, j = i + 1;
    for (; j < fmt.size() && depth; ++j) {
      if (fmt[j] == '{') ++depth;
      if (fmt[j] == '}') --depth;
    }
    if (depth) raise("expected '}}' before end of string");
    const std::string_view field = fmt.substr(i + 1, j - i - 2);
    i = j;
    size_t colon = std::string_view::npos, bang = std::string_view::npos;
    for (size_t k = 0, brackets = 0; k < field.size(); ++k) {
      if (field[k] == '[') ++brackets;
      if (field[k] == ']' && brackets) --brackets;
      if (brackets) continue;
      if (field[k] == '!' && bang == std::string_view::npos) bang = k;
      if (field[k] == ':') {
        colon = k;
        break;
      }
    }
    const std::string_view name = field.substr(0, std::min(bang, colon));
    std::string spec(colon == std::string_view::npos ? std::string_view() : field.substr(colon + 1));
    if (spec.find('{') != std::string::npos) spec = py_str_format(spec, args);  // nested fields
    value v = field_value(name, args, auto_index, used_auto, used_manual);
    if (bang != std::string_view::npos) {
      const std::string_view conv = field.substr(bang + 1, std::min(colon, field.size()) - bang - 1);
      if (conv == "r" || conv == "a") {
        v = value::string(repr(v));
      } else if (conv == "s") {
        v = value::string(to_str(v));
      } else {
        raise("Unknown conversion specifier {}", conv);
      }
    }
    out += py_format_value(v, spec);
    check_size(out);
  }
  return out;
}

std::string py_percent_format(std::string_view fmt, const value& args) {
  const bool mapping = args.is_dict();
  const list_t single{args};
  const list_t& items = args.kind() == vkind::tuple ? args.items() : single;
  size_t next = 0;
  std::string out;
  auto take = [&]() -> const value& {
    if (mapping) return args;
    if (next >= items.size()) raise("not enough arguments for format string");
    return items[next++];
  };
  for (size_t i = 0; i < fmt.size();) {
    if (fmt[i] != '%') {
      out += fmt[i++];
      continue;
    }
    ++i;
    if (i >= fmt.size()) raise("incomplete format");
    if (fmt[i] == '%') {
      out += '%';
      ++i;
      continue;
    }
    std::optional<value> keyed;
    if (fmt[i] == '(') {
      const size_t close = fmt.find(')', i);
      if (close == std::string_view::npos) raise("incomplete format key");
      if (!mapping) raise("format requires a mapping");
      const value* x = args.dict().find(fmt.substr(i + 1, close - i - 1));
      if (!x) raise("KeyError: '{}'", fmt.substr(i + 1, close - i - 1));
      keyed = *x;
      i = close + 1;
    }
    spec_t sp;
    bool left = false;
    for (; i < fmt.size() && std::string_view("-+ 0#").find(fmt[i]) != std::string_view::npos; ++i) {
      if (fmt[i] == '-') left = true;
      if (fmt[i] == '+') sp.sign = '+';
      if (fmt[i] == ' ' && sp.sign != '+') sp.sign = ' ';
      if (fmt[i] == '0') sp.zero = true;
      if (fmt[i] == '#') sp.alt = true;
    }
    auto star_or_number = [&]() -> int64_t {
      if (i < fmt.size() && fmt[i] == '*') {
        ++i;
        const value& w = take();
        if (!w.is_int()) raise("* wants int");
        return std::min<int64_t>(w.as_int(), max_field);
      }
      return read_number(fmt, i);
    };
    if (i < fmt.size() && (fmt[i] == '*' || (fmt[i] >= '0' && fmt[i] <= '9'))) sp.width = star_or_number();
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      sp.precision = star_or_number();
    }
    while (i < fmt.size() && (fmt[i] == 'l' || fmt[i] == 'h' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) raise("incomplete format");
    const char conv = fmt[i++];
    const value v = keyed ? *keyed : take();
    if (left) {
      sp.align = '<';
    } else if (sp.zero && conv != 's' && conv != 'r' && conv != 'a' && conv != 'c') {
      sp.fill.assign(1, '0');  // (assign, not = "0": GCC 12 -Wrestrict false positive)
      sp.align = '=';
    } else {
      sp.align = '>';
    }
    std::string piece;
    switch (conv) {
      case 's': case 'r': case 'a': {
        std::string s = conv == 's' ? to_str(v) : repr(v);
        if (sp.precision >= 0 && static_cast<size_t>(sp.precision) < char_count(s)) {
          s = s.substr(0, char_offsets(s)[static_cast<size_t>(sp.precision)]);
        }
        piece = pad(sp, "", s, '>');
        break;
      }
      case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': {
        if (!v.is_number()) raise("%{} format: a real number is required, not {}", conv, type_name(v));
        int64_t n = v.is_int() ? v.as_int() : 0;
        if (!v.is_int()) {
          const double d = std::trunc(v.as_float());
          if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) raise("cannot convert float to integer");
          n = static_cast<int64_t>(d);
        }
        spec_t isp = sp;
        isp.precision = -1;
        isp.type = conv == 'i' || conv == 'u' ? 'd' : conv;
        piece = format_int(n, isp);
        if (sp.precision > 0) {
          // %.Nd pads the digits with zeros to N.
          const size_t lead = piece.find_first_of("0123456789");
          const size_t digits = piece.size() - lead;
          if (static_cast<size_t>(sp.precision) > digits) {
            piece.insert(lead, static_cast<size_t>(sp.precision) - digits, '0');
          }
        }
        break;
      }
      case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': {
        if (!v.is_number()) raise("must be real number, not {}", type_name(v));
        spec_t fsp = sp;
        fsp.type = conv;
        if (fsp.precision < 0) fsp.precision = 6;
        piece = format_float(v.as_float(), fsp);
        break;
      }
      case 'c':
        if (v.is_int()) {
          spec_t csp = sp;
          csp.type = 'c';
          piece = format_int(v.as_int(), csp);
        } else if (v.is_string() && char_count(v.str()) == 1) {
          piece = pad(sp, "", v.str(), '>');
        } else {
          raise("%c requires an int or a unicode character");
        }
        break;
      default:
        raise("unsupported format character '{}'", conv);
    }
    out += piece;
    check_size(out);
  }
  if (!mapping && next < items.size()) raise("not all arguments converted during string formatting");
  return out;
}

}  // namespace dianoia::detail::jinja
