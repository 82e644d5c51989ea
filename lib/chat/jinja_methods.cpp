// Python methods of str, dict and list that templates call (message.content.split(...), d.items()),
// and the global functions of HF's chat-template environment.
#include <algorithm>
#include <ctime>

#include "chat/jinja_builtins.hpp"
#include "chat/jinja_format.hpp"
#include "chat/jinja_interp.hpp"
#include "chat/jinja_text.hpp"

namespace dianoia::detail::jinja {
namespace {

std::optional<std::string> opt_str(const call_args& a, size_t i, std::string_view name) {
  const value* v = a.get(i, name);
  if (!v || v->is_none()) return std::nullopt;
  if (!v->is_string()) raise("argument '{}' must be str or None, not {}", name, type_name(*v));
  return v->str();
}
const std::string& req_str(const call_args& a, size_t i, std::string_view name) {
  const value* v = a.get(i, name);
  if (!v) raise("missing required argument '{}'", name);
  if (!v->is_string()) raise("argument '{}' must be str, not {}", name, type_name(*v));
  return v->str();
}
int64_t opt_int(const call_args& a, size_t i, std::string_view name, int64_t def) {
  const value* v = a.get(i, name);
  if (!v || v->is_none()) return def;
  if (!v->is_int()) raise("argument '{}' must be an integer, not {}", name, type_name(*v));
  return v->as_int();
}

value str_list(std::vector<std::string> parts) {
  list_t out;
  out.reserve(parts.size());
  for (auto& p : parts) out.push_back(value::string(std::move(p)));
  return value::list(std::move(out));
}

value m_strip(interpreter&, const value& s, const call_args& a) {
  return value::string(py_strip(s.str(), opt_str(a, 0, "chars"), true, true));
}
value m_lstrip(interpreter&, const value& s, const call_args& a) {
  return value::string(py_strip(s.str(), opt_str(a, 0, "chars"), true, false));
}
value m_rstrip(interpreter&, const value& s, const call_args& a) {
  return value::string(py_strip(s.str(), opt_str(a, 0, "chars"), false, true));
}
value split_impl(interpreter& in, const value& s, const call_args& a, bool from_right) {
  const auto sep = opt_str(a, 0, "sep");
  if (sep && sep->empty()) raise("empty separator");
  auto parts = py_split(s.str(), sep, opt_int(a, 1, "maxsplit", -1), from_right);
  in.charge(parts.size() + s.str().size() / 16);
  return str_list(std::move(parts));
}
value m_split(interpreter& in, const value& s, const call_args& a) { return split_impl(in, s, a, false); }
value m_rsplit(interpreter& in, const value& s, const call_args& a) { return split_impl(in, s, a, true); }
value m_splitlines(interpreter& in, const value& s, const call_args&) {
  in.charge(s.str().size() / 16);
  return str_list(py_splitlines(s.str()));
}

// startswith/endswith take a str or a tuple of str.
bool affix_match(const value& s, const call_args& a, bool prefix) {
  const value* p = a.get(0, prefix ? "prefix" : "suffix");
  if (!p) raise("{}() takes at least 1 argument", prefix ? "startswith" : "endswith");
  auto one = [&](const value& x) {
    if (!x.is_string()) raise("{}() argument must be str or a tuple of str", prefix ? "startswith" : "endswith");
    const std::string& h = s.str();
    const std::string& n = x.str();
    if (n.size() > h.size()) return false;
    return prefix ? h.compare(0, n.size(), n) == 0 : h.compare(h.size() - n.size(), n.size(), n) == 0;
  };
  if (p->kind() == vkind::tuple) return std::any_of(p->items().begin(), p->items().end(), one);
  return one(*p);
}
value m_startswith(interpreter&, const value& s, const call_args& a) { return value::boolean(affix_match(s, a, true)); }
value m_endswith(interpreter&, const value& s, const call_args& a) { return value::boolean(affix_match(s, a, false)); }

value m_upper(interpreter&, const value& s, const call_args&) { return value::string(py_upper(s.str())); }
value m_lower(interpreter&, const value& s, const call_args&) { return value::string(py_lower(s.str())); }
value m_title(interpreter&, const value& s, const call_args&) { return value::string(py_title(s.str())); }
value m_capitalize(interpreter&, const value& s, const call_args&) { return value::string(py_capitalize(s.str())); }

value m_replace(interpreter& in, const value& s, const call_args& a) {
  const std::string& from = req_str(a, 0, "old");
  const std::string& to = req_str(a, 1, "new");
  const int64_t count = opt_int(a, 2, "count", -1);
  if (to.size() > from.size()) {
    int64_t n = from.empty() ? static_cast<int64_t>(char_count(s.str())) + 1 : py_count(s.str(), from);
    if (count >= 0) n = std::min(n, count);
    if (s.str().size() + static_cast<size_t>(n) * (to.size() - from.size()) > max_string_bytes) {
      raise("string result exceeds the size limit of {} bytes", max_string_bytes);
    }
  }
  std::string r = py_replace(s.str(), from, to, count);
  in.charge(r.size() / 16);
  return value::string(std::move(r));
}

// The byte range of s[start:end] (character indices, Python slice rules) and its first character index.
struct char_range {
  size_t begin, end;
  int64_t first_char;
};
char_range range_of(const std::string& s, const call_args& a, size_t first_arg) {
  const auto off = char_offsets(s);
  const auto n = static_cast<int64_t>(off.size() - 1);
  auto bound = [&](size_t i, std::string_view name, int64_t def) {
    int64_t v = opt_int(a, i, name, def);
    if (v < 0) v += n;
    return std::clamp<int64_t>(v, 0, n);
  };
  const int64_t b = bound(first_arg, "start", 0);
  const int64_t e = std::max(b, bound(first_arg + 1, "end", n));
  return {off[static_cast<size_t>(b)], off[static_cast<size_t>(e)], b};
}

int64_t find_in(const value& s, const call_args& a, bool from_right) {
  const std::string& sub = req_str(a, 0, "sub");
  const char_range r = range_of(s.str(), a, 1);
  const int64_t i = py_find(std::string_view(s.str()).substr(r.begin, r.end - r.begin), sub, from_right);
  return i < 0 ? -1 : i + r.first_char;
}
value m_find(interpreter&, const value& s, const call_args& a) { return value::integer(find_in(s, a, false)); }
value m_rfind(interpreter&, const value& s, const call_args& a) { return value::integer(find_in(s, a, true)); }
value m_str_index(interpreter&, const value& s, const call_args& a) {
  const int64_t i = find_in(s, a, false);
  if (i < 0) raise("substring not found");
  return value::integer(i);
}
value m_str_rindex(interpreter&, const value& s, const call_args& a) {
  const int64_t i = find_in(s, a, true);
  if (i < 0) raise("substring not found");
  return value::integer(i);
}
value m_str_count(interpreter&, const value& s, const call_args& a) {
  const char_range r = range_of(s.str(), a, 1);
  return value::integer(py_count(std::string_view(s.str()).substr(r.begin, r.end - r.begin), req_str(a, 0, "sub")));
}

value m_format(interpreter& in, const value& s, const call_args& a) {
  std::string r = py_str_format(s.str(), a);
  in.charge(r.size() / 16);
  return value::string(std::move(r));
}

value partition_impl(const value& s, const call_args& a, bool from_right) {
  const std::string& sep = req_str(a, 0, "sep");
  if (sep.empty()) raise("empty separator");
  const std::string& t = s.str();
  const size_t p = from_right ? t.rfind(sep) : t.find(sep);
  if (p == std::string::npos) {
    return from_right ? value::tuple({value::string(""), value::string(""), s})
                      : value::tuple({s, value::string(""), value::string("")});
  }
  return value::tuple({value::string(t.substr(0, p)), value::string(sep), value::string(t.substr(p + sep.size()))});
}
value m_partition(interpreter&, const value& s, const call_args& a) { return partition_impl(s, a, false); }
value m_rpartition(interpreter&, const value& s, const call_args& a) { return partition_impl(s, a, true); }

// Width arguments of the padding methods, bounded like every string result.
size_t pad_width(const call_args& a) {
  const int64_t w = opt_int(a, 0, "width", 0);
  if (w > static_cast<int64_t>(max_string_bytes)) raise("string result exceeds the size limit of {} bytes", max_string_bytes);
  return static_cast<size_t>(std::max<int64_t>(w, 0));
}
std::string fill_char(const call_args& a) {
  const auto f = opt_str(a, 1, "fillchar");
  if (!f) return " ";
  if (char_count(*f) != 1) raise("The fill character must be exactly one character long");
  return *f;
}
std::string repeat(const std::string& f, size_t n) {
  std::string out;
  for (size_t k = 0; k < n; ++k) out += f;
  return out;
}
value justify(const value& s, const call_args& a, char how) {
  const size_t width = pad_width(a);
  const std::string fill = fill_char(a);
  const size_t len = char_count(s.str());
  if (width <= len) return s;
  const size_t marg = width - len;
  if (how == '<') return value::string(s.str() + repeat(fill, marg));
  if (how == '>') return value::string(repeat(fill, marg) + s.str());
  // CPython's centring rule: the odd column goes left only when both margin and width are odd.
  const size_t left = marg / 2 + (marg & width & 1);
  return value::string(repeat(fill, left) + s.str() + repeat(fill, marg - left));
}
value m_ljust(interpreter&, const value& s, const call_args& a) { return justify(s, a, '<'); }
value m_rjust(interpreter&, const value& s, const call_args& a) { return justify(s, a, '>'); }
value m_center(interpreter&, const value& s, const call_args& a) { return justify(s, a, '^'); }
value m_zfill(interpreter&, const value& s, const call_args& a) {
  const size_t width = pad_width(a);
  const std::string& t = s.str();
  const size_t len = char_count(t);
  if (width <= len) return s;
  const size_t sign = !t.empty() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
  return value::string(t.substr(0, sign) + std::string(width - len, '0') + t.substr(sign));
}

value m_swapcase(interpreter&, const value& s, const call_args&) {
  const std::string& t = s.str();
  const auto off = char_offsets(t);
  std::string out;
  for (size_t k = 0; k + 1 < off.size(); ++k) {
    const std::string c = t.substr(off[k], off[k + 1] - off[k]);
    const std::string u = py_upper(c);
    out += u != c ? u : py_lower(c);
  }
  return value::string(std::move(out));
}
value m_casefold(interpreter&, const value& s, const call_args&) {
  return value::string(py_replace(py_lower(s.str()), "\xc3\x9f", "ss", -1));  // ß folds to "ss"
}
value m_removeprefix(interpreter&, const value& s, const call_args& a) {
  const std::string& p = req_str(a, 0, "prefix");
  return s.str().compare(0, p.size(), p) == 0 ? value::string(s.str().substr(p.size())) : s;
}
value m_removesuffix(interpreter&, const value& s, const call_args& a) {
  const std::string& p = req_str(a, 0, "suffix");
  const std::string& t = s.str();
  if (p.empty() || p.size() > t.size() || t.compare(t.size() - p.size(), p.size(), p) != 0) return s;
  return value::string(t.substr(0, t.size() - p.size()));
}
value m_istitle(interpreter&, const value& s, const call_args&) {
  const std::string& t = s.str();
  const auto off = char_offsets(t);
  bool prev_cased = false, any = false;
  for (size_t k = 0; k + 1 < off.size(); ++k) {
    const std::string c = t.substr(off[k], off[k + 1] - off[k]);
    const bool upper = py_lower(c) != c, lower = py_upper(c) != c;
    if (upper) {
      if (prev_cased) return value::boolean(false);
      prev_cased = any = true;
    } else if (lower) {
      if (!prev_cased) return value::boolean(false);
      prev_cased = any = true;
    } else {
      prev_cased = false;
    }
  }
  return value::boolean(any);
}
value m_expandtabs(interpreter&, const value& s, const call_args& a) {
  const int64_t size = std::clamp<int64_t>(opt_int(a, 0, "tabsize", 8), 0, 1024);
  const std::string& t = s.str();
  const auto off = char_offsets(t);
  std::string out;
  int64_t col = 0;
  for (size_t k = 0; k + 1 < off.size(); ++k) {
    const char c = t[off[k]];
    if (c == '\t') {
      const int64_t n = size ? size - col % size : 0;
      out.append(static_cast<size_t>(n), ' ');
      col += n;
    } else {
      out.append(t, off[k], off[k + 1] - off[k]);
      col = c == '\n' || c == '\r' ? 0 : col + 1;
    }
    if (out.size() > max_string_bytes) raise("string result exceeds the size limit of {} bytes", max_string_bytes);
  }
  return value::string(std::move(out));
}

value m_join(interpreter& in, const value& s, const call_args& a) {
  if (a.pos.empty()) raise("join() takes exactly one argument");
  std::string out;
  bool first = true;
  for (const auto& x : iterate(a.pos[0])) {
    if (!x.is_string()) raise("sequence item: expected str instance, {} found", type_name(x));
    if (!first) out += s.str();
    first = false;
    out += x.str();
    if (out.size() > max_string_bytes) raise("string result exceeds the size limit of {} bytes", max_string_bytes);
  }
  in.charge(out.size() / 16);
  return value::string(std::move(out));
}

template <bool (*Pred)(char)>
value char_class(interpreter&, const value& s, const call_args&) {
  const std::string& t = s.str();
  return value::boolean(!t.empty() && std::all_of(t.begin(), t.end(), Pred));
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<uint8_t>(c) >= 0x80; }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

value m_isupper(interpreter&, const value& s, const call_args&) {
  return value::boolean(py_upper(s.str()) == s.str() && py_lower(s.str()) != s.str());
}
value m_islower(interpreter&, const value& s, const call_args&) {
  return value::boolean(py_lower(s.str()) == s.str() && py_upper(s.str()) != s.str());
}

value m_get(interpreter&, const value& d, const call_args& a) {
  if (a.pos.empty()) raise("get expected at least 1 argument");
  const value* v = d.dict().find(a.pos[0]);
  if (v) return *v;
  return a.pos.size() > 1 ? a.pos[1] : value::none();
}
value m_items(interpreter& in, const value& d, const call_args&) {
  list_t out;
  for (const auto& [k, v] : d.dict().entries) out.push_back(value::tuple({k, v}));
  in.charge(out.size());
  return value::list(std::move(out));
}
value m_copy(interpreter& in, const value& d, const call_args&) {
  in.charge(d.dict().size());
  return value::dict(d.dict());
}
value m_keys(interpreter& in, const value& d, const call_args&) {
  list_t out;
  for (const auto& [k, v] : d.dict().entries) out.push_back(k);
  in.charge(out.size());
  return value::list(std::move(out));
}
value m_values(interpreter& in, const value& d, const call_args&) {
  list_t out;
  for (const auto& [k, v] : d.dict().entries) out.push_back(v);
  in.charge(out.size());
  return value::list(std::move(out));
}

// HF's sandbox forbids mutating lists; append is allowed here anyway because templates written for
// other engines use it with namespaces, and allowing it cannot change what a valid HF template renders.
value m_append(interpreter& in, const value& l, const call_args& a) {
  if (a.pos.size() != 1) raise("append() takes exactly one argument");
  if (l.kind() != vkind::list) raise("'tuple' object has no attribute 'append'");
  if (l.items().size() >= max_list_items) raise("list exceeds {} items", max_list_items);
  in.charge(1);
  in.note_mutated(l);
  l.items().push_back(a.pos[0]);
  l.note_growth();
  return value::none();
}
value m_list_index(interpreter&, const value& l, const call_args& a) {
  if (a.pos.empty()) raise("index() takes at least 1 argument");
  const auto& items = l.items();
  for (size_t k = 0; k < items.size(); ++k) {
    if (equals(items[k], a.pos[0])) return value::integer(static_cast<int64_t>(k));
  }
  raise("{} is not in list", repr(a.pos[0]));
}
value m_list_count(interpreter&, const value& l, const call_args& a) {
  if (a.pos.empty()) raise("count() takes exactly one argument");
  const auto& items = l.items();
  return value::integer(std::count_if(items.begin(), items.end(), [&](const value& x) { return equals(x, a.pos[0]); }));
}

struct method_entry {
  std::string_view name;
  native_function::fn_t fn;
};
constexpr method_entry str_methods[] = {
    {"strip", m_strip},           {"lstrip", m_lstrip},         {"rstrip", m_rstrip},
    {"split", m_split},           {"rsplit", m_rsplit},         {"splitlines", m_splitlines},
    {"startswith", m_startswith}, {"endswith", m_endswith},     {"upper", m_upper},
    {"lower", m_lower},           {"title", m_title},           {"capitalize", m_capitalize},
    {"replace", m_replace},       {"find", m_find},             {"rfind", m_rfind},
    {"index", m_str_index},       {"count", m_str_count},       {"join", m_join},
    {"isdigit", char_class<is_digit>}, {"isalpha", char_class<is_alpha>}, {"isalnum", char_class<is_alnum>},
    {"isspace", char_class<is_space>}, {"isupper", m_isupper},  {"islower", m_islower},
    {"isnumeric", char_class<is_digit>}, {"isdecimal", char_class<is_digit>}, {"istitle", m_istitle},
    {"format", m_format},         {"partition", m_partition},   {"rpartition", m_rpartition},
    {"ljust", m_ljust},           {"rjust", m_rjust},           {"center", m_center},
    {"zfill", m_zfill},           {"swapcase", m_swapcase},     {"casefold", m_casefold},
    {"removeprefix", m_removeprefix}, {"removesuffix", m_removesuffix}, {"rindex", m_str_rindex},
    {"expandtabs", m_expandtabs},
};
constexpr method_entry dict_methods[] = {
    {"get", m_get}, {"items", m_items}, {"keys", m_keys}, {"values", m_values}, {"copy", m_copy},
};
constexpr method_entry list_methods[] = {
    {"append", m_append}, {"index", m_list_index}, {"count", m_list_count},
};

template <size_t N>
value bind(const method_entry (&table)[N], const value& self, std::string_view name) {
  for (const auto& m : table) {
    if (m.name == name) return value::object(std::make_shared<native_function>(std::string(name), m.fn, self));
  }
  return {};
}

// ---- globals ----

value g_range(interpreter& in, const value&, const call_args& a) {
  int64_t start = 0, stop = 0, step = 1;
  auto num = [](const value& v) {
    if (!v.is_int()) raise("range() arguments must be integers, not {}", type_name(v));
    return v.as_int();
  };
  if (a.pos.size() == 1) {
    stop = num(a.pos[0]);
  } else if (a.pos.size() == 2 || a.pos.size() == 3) {
    start = num(a.pos[0]);
    stop = num(a.pos[1]);
    if (a.pos.size() == 3) step = num(a.pos[2]);
  } else {
    raise("range expected 1 to 3 arguments, got {}", a.pos.size());
  }
  if (step == 0) raise("range() arg 3 must not be zero");
  // Same cap as jinja2's sandbox (MAX_RANGE).
  constexpr int64_t max_range = 100000;
  const long double n = step > 0 ? (static_cast<long double>(stop) - start) / step : (static_cast<long double>(start) - stop) / -step;
  if (n > max_range) raise("range too big (more than {} items)", max_range);
  list_t out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(value::integer(i));
  in.charge(out.size());
  return value::list(std::move(out));
}

void merge_kwargs(dict_t& d, const call_args& a, const char* fn) {
  if (a.pos.size() > 1) raise("{}() takes at most one positional argument", fn);
  if (!a.pos.empty()) {
    const value& init = a.pos[0];
    if (init.is_dict()) {
      for (const auto& [k, v] : init.dict().entries) d.set(k, v);
    } else {
      for (const auto& pair : iterate(init)) {
        if (!pair.is_sequence() || pair.items().size() != 2) raise("{}() sequence elements must be pairs", fn);
        d.set(pair.items()[0], pair.items()[1]);
      }
    }
  }
  for (const auto& [k, v] : a.kw) d.set(value::string(k), v);
}

value g_namespace(interpreter&, const value&, const call_args& a) {
  auto ns = std::make_shared<namespace_object>();
  dict_t init;
  merge_kwargs(init, a, "namespace");
  for (const auto& [k, v] : init.entries) ns->set_attr(to_str(k), v);
  return value::object(std::move(ns));
}

value g_dict(interpreter&, const value&, const call_args& a) {
  dict_t d;
  merge_kwargs(d, a, "dict");
  return value::dict(std::move(d));
}

value g_fromkeys(interpreter& in, const value&, const call_args& a) {
  if (a.pos.empty() || a.pos.size() > 2) raise("fromkeys expected 1 or 2 arguments, got {}", a.pos.size());
  dict_t d;
  const value fill = a.pos.size() > 1 ? a.pos[1] : value::none();
  for (const auto& k : iterate(a.pos[0])) d.set(k, fill);
  in.charge(d.size());
  return value::dict(std::move(d));
}

// HF's TemplateDict: callable as dict(...) and offering dict.fromkeys, nothing else.
class dict_global final : public object {
 public:
  std::string_view type_name() const override { return "TemplateDict"; }
  bool is_callable() const override { return true; }
  value call(interpreter& in, const call_args& args) override { return g_dict(in, value(), args); }
  value get_attr(std::string_view name) const override {
    if (name == "fromkeys") return value::object(std::make_shared<native_function>("fromkeys", g_fromkeys));
    return value::undefined(std::string(name));
  }
};

value g_raise_exception(interpreter&, const value&, const call_args& a) {
  throw eval_error(a.pos.empty() ? std::string("raise_exception() called") : to_str(a.pos[0]));
}

value format_time(const std::tm& tm, const call_args& a) {
  if (a.pos.empty() || !a.pos[0].is_string()) raise("strftime_now() needs a format string");
  const std::string& f = a.pos[0].str();
  if (f.empty()) return value::string("");
  std::string buf(f.size() * 8 + 64, '\0');
  const size_t n = std::strftime(buf.data(), buf.size(), f.c_str(), &tm);
  if (n == 0) raise("strftime_now(): format result too long");
  buf.resize(n);
  return value::string(std::move(buf));
}

value g_strftime_now(interpreter&, const value&, const call_args& a) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return format_time(tm, a);
}

// The fixed clock travels as the bound receiver: a tuple of the std::tm fields.
value g_strftime_fixed(interpreter&, const value& self, const call_args& a) {
  const auto& f = self.items();
  std::tm tm{};
  int* fields[] = {&tm.tm_sec, &tm.tm_min, &tm.tm_hour, &tm.tm_mday, &tm.tm_mon, &tm.tm_year, &tm.tm_wday, &tm.tm_yday, &tm.tm_isdst};
  for (size_t k = 0; k < std::size(fields); ++k) *fields[k] = static_cast<int>(f[k].as_int());
  return format_time(tm, a);
}

}  // namespace

value strftime_now_function(const std::tm* fixed) {
  if (!fixed) return value::object(std::make_shared<native_function>("strftime_now", g_strftime_now));
  // timegm normalises the fields and fills in the weekday and day of the year, as Python derives them
  // from the date.
  std::tm t = *fixed;
  timegm(&t);
  t.tm_isdst = fixed->tm_isdst;
  fixed = &t;
  list_t f;
  for (int x : {fixed->tm_sec, fixed->tm_min, fixed->tm_hour, fixed->tm_mday, fixed->tm_mon, fixed->tm_year,
                fixed->tm_wday, fixed->tm_yday, fixed->tm_isdst}) {
    f.push_back(value::integer(x));
  }
  return value::object(std::make_shared<native_function>("strftime_now", g_strftime_fixed, value::tuple(std::move(f))));
}

value find_method(const value& self, std::string_view name) {
  switch (self.kind()) {
    case vkind::string: return bind(str_methods, self, name);
    case vkind::dict: return bind(dict_methods, self, name);
    case vkind::list:
    case vkind::tuple: return bind(list_methods, self, name);
    default: return {};
  }
}

std::vector<std::pair<std::string, value>> builtin_globals() {
  std::vector<std::pair<std::string, value>> g;
  auto add = [&](const char* name, native_function::fn_t fn) {
    g.emplace_back(name, value::object(std::make_shared<native_function>(name, fn)));
  };
  add("range", g_range);
  add("namespace", g_namespace);
  g.emplace_back("dict", value::object(std::make_shared<dict_global>()));
  add("raise_exception", g_raise_exception);
  add("strftime_now", g_strftime_now);
  return g;
}

}  // namespace dianoia::detail::jinja
