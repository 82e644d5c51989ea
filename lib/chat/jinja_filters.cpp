// jinja2's built-in filters and tests (the subset chat templates use), with HF's tojson.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "chat/jinja_builtins.hpp"
#include "chat/jinja_format.hpp"
#include "chat/jinja_interp.hpp"
#include "chat/jinja_text.hpp"

namespace dianoia::detail::jinja {
namespace {

bool arg_bool(const call_args& a, size_t i, std::string_view name, bool def) {
  const value* v = a.get(i, name);
  return v ? truthy(*v) : def;
}
int64_t arg_int(const call_args& a, size_t i, std::string_view name, int64_t def) {
  const value* v = a.get(i, name);
  if (!v || v->is_none()) return def;
  if (!v->is_int()) raise("argument '{}' must be an integer, not {}", name, type_name(*v));
  return v->as_int();
}
std::optional<std::string> arg_str(const call_args& a, size_t i, std::string_view name) {
  const value* v = a.get(i, name);
  if (!v || v->is_none() || v->is_undefined()) return std::nullopt;
  return to_str(*v);
}

// Attribute paths as jinja2's make_attrgetter takes them: "a.b" or "items.0".
value attr_path(interpreter& in, const value& v, const std::string& path) {
  value cur = v;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string part = path.substr(start, dot - start);
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (cur.is_dict()) {
      const value* x = cur.dict().find(part);
      cur = x ? *x : value::undefined(part);
    } else if (numeric && cur.is_sequence()) {
      const size_t k = std::strtoull(part.c_str(), nullptr, 10);
      cur = k < cur.items().size() ? cur.items()[k] : value::undefined(part);
    } else if (cur.is_object()) {
      cur = cur.obj().get_attr(part);
    } else {
      cur = value::undefined(part);
    }
    start = dot + 1;
  }
  return cur;
}

std::string str_arg_of(const value& v) { return v.is_undefined() ? std::string() : to_str(v); }

list_t as_items(interpreter& in, const value& v) {
  if (v.is_none() || v.is_number()) raise("'{}' object is not iterable", type_name(v));
  list_t items = iterate(v);
  in.charge(items.size());
  return items;
}

// Sorting key for sort/unique/dictsort/min/max: lower-cased strings unless case_sensitive.
value sort_key(const value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return value::string(py_lower(v.str()));
  return v;
}

value f_trim(interpreter&, const value& v, const call_args& a) {
  return value::string(py_strip(str_arg_of(v), arg_str(a, 0, "chars"), true, true));
}

value f_tojson(interpreter&, const value& v, const call_args& a) {
  json_options o;
  o.ensure_ascii = arg_bool(a, 0, "ensure_ascii", false);
  if (const value* ind = a.get(1, "indent"); ind && !ind->is_none()) {
    if (!ind->is_int()) raise("tojson indent must be an integer");
    o.indent = static_cast<int>(std::clamp<int64_t>(ind->as_int(), 0, 64));
  }
  o.item_sep = o.indent >= 0 ? "," : ", ";
  o.key_sep = ": ";
  if (const value* sep = a.get(2, "separators"); sep && !sep->is_none()) {
    if (!sep->is_sequence() || sep->items().size() != 2) raise("tojson separators must be a pair of strings");
    o.item_sep = to_str(sep->items()[0]);
    o.key_sep = to_str(sep->items()[1]);
  }
  o.sort_keys = arg_bool(a, 3, "sort_keys", false);
  return value::string(to_json(v, o));
}

value f_length(interpreter&, const value& v, const call_args&) { return value::integer(length(v)); }

value f_default(interpreter&, const value& v, const call_args& a) {
  const value* d = a.get(0, "default_value");
  const bool boolean = arg_bool(a, 1, "boolean", false);
  if (v.is_undefined() || (boolean && !truthy(v))) return d ? *d : value::string("");
  return v;
}

value f_join(interpreter& in, const value& v, const call_args& a) {
  const std::string sep = arg_str(a, 0, "d").value_or("");
  const auto attr = arg_str(a, 1, "attribute");
  std::string out;
  bool first = true;
  for (const auto& x : as_items(in, v)) {
    if (!first) out += sep;
    first = false;
    out += to_str(attr ? attr_path(in, x, *attr) : x);
    if (out.size() > max_string_bytes) raise("string result exceeds the size limit of {} bytes", max_string_bytes);
  }
  in.charge(out.size() / 16);
  return value::string(std::move(out));
}

value f_upper(interpreter&, const value& v, const call_args&) { return value::string(py_upper(str_arg_of(v))); }
value f_lower(interpreter&, const value& v, const call_args&) { return value::string(py_lower(str_arg_of(v))); }
value f_title(interpreter&, const value& v, const call_args&) { return value::string(jinja_title(str_arg_of(v))); }
value f_capitalize(interpreter&, const value& v, const call_args&) {
  return value::string(py_capitalize(str_arg_of(v)));
}

value f_replace(interpreter& in, const value& v, const call_args& a) {
  const value* from = a.get(0, "old");
  const value* to = a.get(1, "new");
  if (!from || !to) raise("replace() needs the old and new strings");
  const std::string s = str_arg_of(v);
  const std::string f = to_str(*from), t = to_str(*to);
  const int64_t count = arg_int(a, 2, "count", -1);
  if (t.size() > f.size()) {
    int64_t n = f.empty() ? static_cast<int64_t>(char_count(s)) + 1 : py_count(s, f);
    if (count >= 0) n = std::min(n, count);
    if (s.size() + static_cast<size_t>(n) * (t.size() - f.size()) > max_string_bytes) {
      raise("string result exceeds the size limit of {} bytes", max_string_bytes);
    }
  }
  std::string r = py_replace(s, f, t, count);
  in.charge(r.size() / 16);
  return value::string(std::move(r));
}

value f_first(interpreter& in, const value& v, const call_args&) {
  const list_t items = as_items(in, v);
  return items.empty() ? value::undefined("first") : items.front();
}
value f_last(interpreter& in, const value& v, const call_args&) {
  const list_t items = as_items(in, v);
  return items.empty() ? value::undefined("last") : items.back();
}
value f_list(interpreter& in, const value& v, const call_args&) { return value::list(as_items(in, v)); }

value f_map(interpreter& in, const value& v, const call_args& a) {
  list_t out;
  if (const value* attr = a.kwarg("attribute")) {
    const value* def = a.kwarg("default");
    for (const auto& x : as_items(in, v)) {
      value r = attr_path(in, x, to_str(*attr));
      out.push_back(r.is_undefined() && def ? *def : r);
    }
    return value::list(std::move(out));
  }
  if (a.pos.empty()) raise("map() needs a filter name or attribute=");
  const std::string name = to_str(a.pos[0]);
  call_args rest;
  rest.pos.assign(a.pos.begin() + 1, a.pos.end());
  rest.kw = a.kw;
  for (const auto& x : as_items(in, v)) out.push_back(in.apply_filter(name, x, rest));
  return value::list(std::move(out));
}

// select/reject/selectattr/rejectattr share this: keep items whose (attribute's) test result is `want`.
value select_impl(interpreter& in, const value& v, const call_args& a, bool by_attr, bool want) {
  size_t k = 0;
  std::string attr;
  if (by_attr) {
    if (a.pos.empty()) raise("selectattr/rejectattr need an attribute name");
    attr = to_str(a.pos[k++]);
  }
  std::optional<std::string> test;
  if (k < a.pos.size()) test = to_str(a.pos[k++]);
  call_args rest;
  rest.pos.assign(a.pos.begin() + static_cast<std::ptrdiff_t>(std::min(k, a.pos.size())), a.pos.end());
  rest.kw = a.kw;
  list_t out;
  for (const auto& x : as_items(in, v)) {
    const value subject = by_attr ? attr_path(in, x, attr) : x;
    const bool r = test ? in.apply_test(*test, subject, rest) : truthy(subject);
    if (r == want) out.push_back(x);
  }
  return value::list(std::move(out));
}
value f_select(interpreter& in, const value& v, const call_args& a) { return select_impl(in, v, a, false, true); }
value f_reject(interpreter& in, const value& v, const call_args& a) { return select_impl(in, v, a, false, false); }
value f_selectattr(interpreter& in, const value& v, const call_args& a) { return select_impl(in, v, a, true, true); }
value f_rejectattr(interpreter& in, const value& v, const call_args& a) { return select_impl(in, v, a, true, false); }

value f_items(interpreter& in, const value& v, const call_args&) {
  if (v.is_undefined()) return value::list({});
  if (!v.is_dict()) raise("can only get item pairs from a mapping, not {}", type_name(v));
  list_t out;
  for (const auto& [k, x] : v.dict().entries) out.push_back(value::tuple({k, x}));
  in.charge(out.size());
  return value::list(std::move(out));
}

value f_string(interpreter&, const value& v, const call_args&) { return value::string(to_str(v)); }

std::optional<int64_t> parse_int(std::string s, int base) {
  s = py_strip(s, std::nullopt, true, true);
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long r = std::strtoll(s.c_str(), &end, base);
  if (errno == ERANGE || *end != '\0') return std::nullopt;
  return r;
}
std::optional<double> parse_float(std::string s) {
  s = py_strip(s, std::nullopt, true, true);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return d;
}

value f_int(interpreter&, const value& v, const call_args& a) {
  const value* def = a.get(0, "default");
  const value fallback = def ? *def : value::integer(0);
  const int64_t base = arg_int(a, 1, "base", 10);
  if (v.is_int()) return value::integer(v.as_int());
  if (v.kind() == vkind::floating) {
    const double d = v.as_float();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return value::integer(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    if (auto i = parse_int(v.str(), static_cast<int>(base))) return value::integer(*i);
    if (auto d = parse_float(v.str()); d && std::isfinite(*d) && std::fabs(*d) < 9.2e18) {
      return value::integer(static_cast<int64_t>(*d));
    }
  }
  return fallback;
}

value f_float(interpreter&, const value& v, const call_args& a) {
  const value* def = a.get(0, "default");
  const value fallback = def ? *def : value::floating(0.0);
  if (v.is_number()) return value::floating(v.as_float());
  if (v.is_string()) {
    if (auto d = parse_float(v.str())) return value::floating(*d);
  }
  return fallback;
}

value f_round(interpreter&, const value& v, const call_args& a) {
  const int64_t precision = arg_int(a, 0, "precision", 0);
  const std::string method = arg_str(a, 1, "method").value_or("common");
  if (!v.is_number()) raise("round() needs a number, not {}", type_name(v));
  if (method == "common" && v.is_int()) {
    // Python's round(int, ndigits) stays an int; negative ndigits round half to even at 10**-ndigits.
    if (precision >= 0) return value::integer(v.as_int());
    if (precision < -18) return value::integer(0);
    int64_t unit = 1;
    for (int64_t k = 0; k < -precision; ++k) unit *= 10;
    const int64_t x = v.as_int();
    int64_t q = x / unit, r = x % unit;
    if (r < 0) r += unit, --q;
    if (2 * r > unit || (2 * r == unit && q % 2 != 0)) ++q;
    int64_t out = 0;
    if (__builtin_mul_overflow(q, unit, &out)) raise("integer overflow");
    return value::integer(out);
  }
  const double x = v.as_float();
  if (!std::isfinite(x)) return value::floating(x);
  if (method == "common") {
    if (precision >= 0 && precision <= 300) {
      // Python rounds the exact binary value to `precision` decimals, ties to even: so does printf.
      char buf[512];
      std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), x);
      return value::floating(std::strtod(buf, nullptr));
    }
    const double scale = std::pow(10.0, static_cast<double>(precision));
    return value::floating(std::nearbyint(x * scale) / scale);
  }
  if (method != "ceil" && method != "floor") raise("method must be common, ceil or floor");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double r = method == "ceil" ? std::ceil(x * scale) : std::floor(x * scale);
  return value::floating(r / scale);
}

value f_abs(interpreter&, const value& v, const call_args&) {
  if (v.is_int()) return v.as_int() < 0 ? op_neg(v) : value::integer(v.as_int());
  if (v.is_number()) return value::floating(std::fabs(v.as_float()));
  raise("bad operand type for abs(): '{}'", type_name(v));
}

value f_unique(interpreter& in, const value& v, const call_args& a) {
  const bool cs = arg_bool(a, 0, "case_sensitive", false);
  const auto attr = arg_str(a, 1, "attribute");
  list_t out;
  std::vector<std::string> seen;
  for (const auto& x : as_items(in, v)) {
    const std::string key = hash_key(sort_key(attr ? attr_path(in, x, *attr) : x, cs));
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    in.charge(seen.size());
    seen.push_back(key);
    out.push_back(x);
  }
  return value::list(std::move(out));
}

value f_reverse(interpreter& in, const value& v, const call_args&) {
  if (v.is_string()) {
    const auto off = char_offsets(v.str());
    std::string r;
    for (size_t k = off.size() - 1; k > 0; --k) r.append(v.str(), off[k - 1], off[k] - off[k - 1]);
    return value::string(std::move(r));
  }
  list_t items = as_items(in, v);
  std::reverse(items.begin(), items.end());
  return value::list(std::move(items));
}

// The sort key of one item: the item, one attribute, or (jinja2's make_multi_attrgetter) a tuple of
// the comma-separated attributes.
value item_key(interpreter& in, const value& x, const std::optional<std::string>& attr, bool cs) {
  if (!attr) return sort_key(x, cs);
  if (attr->find(',') == std::string::npos) return sort_key(attr_path(in, x, *attr), cs);
  list_t parts;
  for (const auto& name : py_split(*attr, std::string(","), -1, false)) parts.push_back(sort_key(attr_path(in, x, name), cs));
  return value::tuple(std::move(parts));
}

void sort_values(interpreter& in, list_t& items, bool reverse, bool cs, const std::optional<std::string>& attr) {
  std::vector<std::pair<value, value>> keyed;
  for (auto& x : items) keyed.emplace_back(item_key(in, x, attr, cs), std::move(x));
  in.charge(keyed.size() * 8);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& p, const auto& q) {
    return reverse ? compare(q.first, p.first) < 0 : compare(p.first, q.first) < 0;
  });
  items.clear();
  for (auto& [k, x] : keyed) items.push_back(std::move(x));
}

value f_sort(interpreter& in, const value& v, const call_args& a) {
  list_t items = as_items(in, v);
  sort_values(in, items, arg_bool(a, 0, "reverse", false), arg_bool(a, 1, "case_sensitive", false),
              arg_str(a, 2, "attribute"));
  return value::list(std::move(items));
}

value f_dictsort(interpreter& in, const value& v, const call_args& a) {
  if (!v.is_dict()) raise("dictsort needs a mapping, not {}", type_name(v));
  const bool cs = arg_bool(a, 0, "case_sensitive", false);
  const std::string by = arg_str(a, 1, "by").value_or("key");
  const bool reverse = arg_bool(a, 2, "reverse", false);
  if (by != "key" && by != "value") raise("You can only sort by either 'key' or 'value'");
  list_t pairs;
  for (const auto& [k, x] : v.dict().entries) pairs.push_back(value::tuple({k, x}));
  sort_values(in, pairs, reverse, cs, std::string(by == "key" ? "0" : "1"));
  return value::list(std::move(pairs));
}

value f_indent(interpreter& in, const value& v, const call_args& a) {
  std::string ind;
  if (const value* w = a.get(0, "width"); w && w->is_string()) {
    ind = w->str();
  } else {
    ind.assign(static_cast<size_t>(std::clamp<int64_t>(arg_int(a, 0, "width", 4), 0, 1024)), ' ');
  }
  const bool first = arg_bool(a, 1, "first", false), blank = arg_bool(a, 2, "blank", false);
  // jinja2 appends a newline before splitting, so a trailing newline is not followed by indentation.
  const auto lines = py_splitlines(str_arg_of(v) + "\n");
  std::string out;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (k) out += '\n';
    if ((k > 0 || first) && (blank || !lines[k].empty())) out += ind;
    out += lines[k];
    if (out.size() > max_string_bytes) raise("string result exceeds the size limit of {} bytes", max_string_bytes);
  }
  in.charge(out.size() / 16);
  return value::string(std::move(out));
}

value f_safe(interpreter&, const value& v, const call_args&) { return value::string(to_str(v)); }

value f_escape(interpreter&, const value& v, const call_args&) {
  std::string out;
  for (char c : to_str(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return value::string(std::move(out));
}

value f_wordcount(interpreter&, const value& v, const call_args&) {
  // Words as Python's \w+ sees them: runs of letters, digits and underscores (non-ASCII counts as letter).
  int64_t n = 0;
  bool in_word = false;
  for (char c : to_str(v)) {
    const auto u = static_cast<uint8_t>(c);
    const bool w = u >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (w && !in_word) ++n;
    in_word = w;
  }
  return value::integer(n);
}

value f_sum(interpreter& in, const value& v, const call_args& a) {
  const auto attr = arg_str(a, 0, "attribute");
  const value* start = a.get(1, "start");
  value total = start ? *start : value::integer(0);
  for (const auto& x : as_items(in, v)) total = op_add(total, attr ? attr_path(in, x, *attr) : x);
  return total;
}

value min_max(interpreter& in, const value& v, const call_args& a, bool want_max) {
  const bool cs = arg_bool(a, 0, "case_sensitive", false);
  const auto attr = arg_str(a, 1, "attribute");
  const list_t items = as_items(in, v);
  if (items.empty()) return value::undefined(want_max ? "max" : "min");
  size_t best = 0;
  for (size_t k = 1; k < items.size(); ++k) {
    const int c = compare(sort_key(attr ? attr_path(in, items[k], *attr) : items[k], cs),
                          sort_key(attr ? attr_path(in, items[best], *attr) : items[best], cs));
    if (want_max ? c > 0 : c < 0) best = k;
  }
  return items[best];
}
value f_min(interpreter& in, const value& v, const call_args& a) { return min_max(in, v, a, false); }
value f_max(interpreter& in, const value& v, const call_args& a) { return min_max(in, v, a, true); }

value f_attr(interpreter& in, const value& v, const call_args& a) {
  const value* name = a.get(0, "name");
  if (!name) raise("attr() needs an attribute name");
  if (v.is_object()) return v.obj().get_attr(to_str(*name));
  value m = find_method(v, to_str(*name));
  return m.is_undefined() ? value::undefined(to_str(*name)) : m;
}

value f_pprint(interpreter&, const value& v, const call_args&) { return value::string(repr(v)); }

value f_format(interpreter& in, const value& v, const call_args& a) {
  if (!a.pos.empty() && !a.kw.empty()) raise("can't handle positional and keyword arguments at the same time");
  value args;
  if (!a.kw.empty()) {
    dict_t d;
    for (const auto& [k, x] : a.kw) d.set(value::string(k), x);
    args = value::dict(std::move(d));
  } else {
    args = value::tuple(a.pos);
  }
  std::string r = py_percent_format(str_arg_of(v), args);
  in.charge(r.size() / 16);
  return value::string(std::move(r));
}

value f_batch(interpreter& in, const value& v, const call_args& a) {
  const int64_t n = arg_int(a, 0, "linecount", 0);
  if (n <= 0) raise("batch() needs a positive line count");
  const value* fill = a.get(1, "fill_with");
  list_t out, cur;
  for (auto& x : as_items(in, v)) {
    if (static_cast<int64_t>(cur.size()) == n) out.push_back(value::list(std::exchange(cur, {})));
    cur.push_back(std::move(x));
  }
  if (!cur.empty()) {
    if (fill && !fill->is_none()) {
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*fill);
    }
    out.push_back(value::list(std::move(cur)));
  }
  return value::list(std::move(out));
}

value f_slice(interpreter& in, const value& v, const call_args& a) {
  const int64_t slices = arg_int(a, 0, "slices", 0);
  if (slices <= 0) raise("slice() needs a positive number of slices");
  if (slices > static_cast<int64_t>(max_list_items)) raise("list exceeds {} items", max_list_items);
  const value* fill = a.get(1, "fill_with");
  const list_t seq = as_items(in, v);
  const auto n = static_cast<int64_t>(seq.size());
  const int64_t per = n / slices, extra = n % slices;
  in.charge(static_cast<uint64_t>(slices));
  list_t out;
  int64_t offset = 0;
  for (int64_t k = 0; k < slices; ++k) {
    const int64_t start = offset + k * per;
    if (k < extra) ++offset;
    const int64_t end = offset + (k + 1) * per;
    list_t part(seq.begin() + start, seq.begin() + end);
    if (fill && !fill->is_none() && k >= extra) part.push_back(*fill);
    out.push_back(value::list(std::move(part)));
  }
  return value::list(std::move(out));
}

value f_center(interpreter&, const value& v, const call_args& a) {
  const std::string s = str_arg_of(v);
  const int64_t width = arg_int(a, 0, "width", 80);
  if (width > static_cast<int64_t>(max_string_bytes)) raise("string result exceeds the size limit of {} bytes", max_string_bytes);
  const auto len = static_cast<int64_t>(char_count(s));
  if (width <= len) return value::string(s);
  const auto marg = static_cast<size_t>(width - len);
  const size_t left = marg / 2 + (marg & static_cast<size_t>(width) & 1);
  return value::string(std::string(left, ' ') + s + std::string(marg - left, ' '));
}

value f_truncate(interpreter&, const value& v, const call_args& a) {
  const std::string s = str_arg_of(v);
  const int64_t length = arg_int(a, 0, "length", 255);
  const bool killwords = arg_bool(a, 1, "killwords", false);
  const std::string end = arg_str(a, 2, "end").value_or("...");
  const int64_t leeway = arg_int(a, 3, "leeway", 5);  // jinja2's default truncate.leeway policy
  const auto end_len = static_cast<int64_t>(char_count(end));
  if (length < end_len) raise("expected length >= {}, got {}", end_len, length);
  if (leeway < 0) raise("expected leeway >= 0, got {}", leeway);
  const auto off = char_offsets(s);
  const auto n = static_cast<int64_t>(off.size() - 1);
  if (n <= length + leeway) return value::string(s);
  std::string head = s.substr(0, off[static_cast<size_t>(length - end_len)]);
  if (!killwords) head = py_split(head, std::string(" "), 1, true).front();
  return value::string(head + end);
}

// groupby's result items: a (grouper, list) tuple with those two names as attributes.
class group_tuple final : public object {
 public:
  group_tuple(value grouper, value items) : items_{std::move(grouper), std::move(items)} {}
  std::string_view type_name() const override { return "_GroupTuple"; }
  value get_attr(std::string_view name) const override {
    if (name == "grouper") return items_[0];
    if (name == "list") return items_[1];
    return value::undefined(std::string(name));
  }
  const list_t* sequence() const override { return &items_; }
  std::string to_str() const override { return repr(value::tuple(items_)); }

 private:
  list_t items_;
};

value f_groupby(interpreter& in, const value& v, const call_args& a) {
  const value* attr_v = a.get(0, "attribute");
  if (!attr_v) raise("groupby() needs an attribute");
  const std::string attr = to_str(*attr_v);
  const value* def = a.get(1, "default");
  const bool cs = arg_bool(a, 2, "case_sensitive", false);
  auto key_of = [&](const value& x) {
    value k = attr_path(in, x, attr);
    if (k.is_undefined() && def) k = *def;
    return k;
  };
  list_t items = as_items(in, v);
  std::vector<std::pair<value, value>> keyed;
  for (auto& x : items) keyed.emplace_back(sort_key(key_of(x), cs), std::move(x));
  in.charge(keyed.size() * 8);
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& p, const auto& q) { return compare(p.first, q.first) < 0; });
  list_t out;
  for (size_t k = 0; k < keyed.size();) {
    size_t e = k;
    list_t members;
    while (e < keyed.size() && equals(keyed[e].first, keyed[k].first)) members.push_back(keyed[e++].second);
    // Case-insensitive groups are named by their first member's own key, not the folded one.
    value grouper = cs ? keyed[k].first : key_of(members.front());
    out.push_back(value::object(std::make_shared<group_tuple>(std::move(grouper), value::list(std::move(members)))));
    k = e;
  }
  return value::list(std::move(out));
}

struct filter_entry {
  std::string_view name;
  filter_fn fn;
};
constexpr filter_entry filters[] = {
    {"abs", f_abs},           {"attr", f_attr},           {"batch", f_batch},           {"capitalize", f_capitalize},
    {"center", f_center},     {"count", f_length},        {"format", f_format},         {"groupby", f_groupby},
    {"slice", f_slice},       {"truncate", f_truncate},
    {"d", f_default},         {"default", f_default},     {"dictsort", f_dictsort},     {"e", f_escape},
    {"escape", f_escape},     {"first", f_first},         {"float", f_float},           {"forceescape", f_escape},
    {"indent", f_indent},     {"int", f_int},             {"items", f_items},           {"join", f_join},
    {"last", f_last},         {"length", f_length},       {"list", f_list},             {"lower", f_lower},
    {"map", f_map},           {"max", f_max},             {"min", f_min},               {"pprint", f_pprint},
    {"reject", f_reject},     {"rejectattr", f_rejectattr}, {"replace", f_replace},     {"reverse", f_reverse},
    {"round", f_round},       {"safe", f_safe},           {"select", f_select},         {"selectattr", f_selectattr},
    {"sort", f_sort},         {"string", f_string},       {"sum", f_sum},               {"title", f_title},
    {"tojson", f_tojson},     {"trim", f_trim},           {"unique", f_unique},         {"upper", f_upper},
    {"wordcount", f_wordcount},
};

// ---- tests ----

const value& test_arg(const call_args& a) {
  if (a.pos.empty()) raise("this test needs an argument");
  return a.pos[0];
}

bool t_defined(interpreter&, const value& v, const call_args&) { return !v.is_undefined(); }
bool t_undefined(interpreter&, const value& v, const call_args&) { return v.is_undefined(); }
bool t_none(interpreter&, const value& v, const call_args&) { return v.is_none(); }
bool t_boolean(interpreter&, const value& v, const call_args&) { return v.is_bool(); }
bool t_true(interpreter&, const value& v, const call_args&) { return v.is_bool() && v.as_bool(); }
bool t_false(interpreter&, const value& v, const call_args&) { return v.is_bool() && !v.as_bool(); }
bool t_integer(interpreter&, const value& v, const call_args&) { return v.kind() == vkind::integer; }
bool t_float(interpreter&, const value& v, const call_args&) { return v.kind() == vkind::floating; }
bool t_number(interpreter&, const value& v, const call_args&) { return v.is_number(); }
bool t_string(interpreter&, const value& v, const call_args&) { return v.is_string(); }
bool t_mapping(interpreter&, const value& v, const call_args&) { return v.is_dict(); }
bool t_iterable(interpreter&, const value& v, const call_args&) {
  return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
}
bool t_sequence(interpreter&, const value& v, const call_args&) {
  return v.is_string() || v.is_sequence() || v.is_dict();
}
bool t_callable(interpreter&, const value& v, const call_args&) { return v.is_object() && v.obj().is_callable(); }
bool t_even(interpreter&, const value& v, const call_args&) {
  if (!v.is_int()) raise("even test needs an integer");
  return v.as_int() % 2 == 0;
}
bool t_odd(interpreter&, const value& v, const call_args&) {
  if (!v.is_int()) raise("odd test needs an integer");
  return v.as_int() % 2 != 0;
}
bool t_divisibleby(interpreter&, const value& v, const call_args& a) {
  return truthy(op_mod(v, test_arg(a))) == false;
}
bool t_eq(interpreter&, const value& v, const call_args& a) { return equals(v, test_arg(a)); }
bool t_ne(interpreter&, const value& v, const call_args& a) { return !equals(v, test_arg(a)); }
bool t_lt(interpreter&, const value& v, const call_args& a) { return compare(v, test_arg(a)) < 0; }
bool t_le(interpreter&, const value& v, const call_args& a) { return compare(v, test_arg(a)) <= 0; }
bool t_gt(interpreter&, const value& v, const call_args& a) { return compare(v, test_arg(a)) > 0; }
bool t_ge(interpreter&, const value& v, const call_args& a) { return compare(v, test_arg(a)) >= 0; }
bool t_in(interpreter&, const value& v, const call_args& a) { return op_in(v, test_arg(a)); }
bool t_sameas(interpreter&, const value& v, const call_args& a) {
  const value& o = test_arg(a);
  if (v.kind() != o.kind()) return false;
  if (v.is_none() || v.is_undefined()) return true;
  if (v.is_number()) return equals(v, o);
  return v.identity() == o.identity();
}
bool t_lower(interpreter&, const value& v, const call_args&) {
  const std::string s = to_str(v);
  return py_lower(s) == s && py_upper(s) != s;
}
bool t_upper(interpreter&, const value& v, const call_args&) {
  const std::string s = to_str(v);
  return py_upper(s) == s && py_lower(s) != s;
}
bool t_escaped(interpreter&, const value&, const call_args&) { return false; }
bool t_filter(interpreter&, const value& v, const call_args&) { return v.is_string() && find_filter(v.str()); }
bool t_test(interpreter&, const value& v, const call_args&) { return v.is_string() && find_test(v.str()); }

struct test_entry {
  std::string_view name;
  test_fn fn;
};
constexpr test_entry tests[] = {
    {"!=", t_ne},          {"<", t_lt},           {"<=", t_le},         {"==", t_eq},
    {">", t_gt},           {">=", t_ge},          {"boolean", t_boolean}, {"callable", t_callable},
    {"defined", t_defined}, {"divisibleby", t_divisibleby}, {"eq", t_eq}, {"equalto", t_eq},
    {"escaped", t_escaped}, {"even", t_even},     {"false", t_false},   {"filter", t_filter},
    {"float", t_float},    {"ge", t_ge},          {"greaterthan", t_gt}, {"gt", t_gt},
    {"in", t_in},          {"integer", t_integer}, {"iterable", t_iterable}, {"le", t_le},
    {"lessthan", t_lt},    {"lower", t_lower},    {"lt", t_lt},         {"mapping", t_mapping},
    {"ne", t_ne},          {"none", t_none},      {"number", t_number}, {"odd", t_odd},
    {"sameas", t_sameas},  {"sequence", t_sequence}, {"string", t_string}, {"test", t_test},
    {"true", t_true},      {"undefined", t_undefined}, {"upper", t_upper},
};

}  // namespace

filter_fn find_filter(std::string_view name) {
  for (const auto& f : filters) {
    if (f.name == name) return f.fn;
  }
  return nullptr;
}

test_fn find_test(std::string_view name) {
  for (const auto& t : tests) {
    if (t.name == name) return t.fn;
  }
  return nullptr;
}

}  // namespace dianoia::detail::jinja
