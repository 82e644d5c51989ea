#include "chat/jinja_value.hpp"

#include <algorithm>
#include <cmath>

#include "chat/jinja_format.hpp"
#include "chat/jinja_text.hpp"
#include "core/utf8.hpp"

namespace dianoia::detail::jinja {
namespace {

// Containers can hold themselves (a list appended to itself); printing, comparing or serialising one
// stops at this depth instead of recursing without end.
constexpr int max_nesting = 128;

void check_depth(int depth) {
  if (depth > max_nesting) raise("value nesting deeper than {} levels", max_nesting);
}

[[noreturn]] void fail_undefined(const value& v) {
  if (v.undefined_name().empty()) raise("undefined value used in an expression");
  raise("'{}' is undefined", v.undefined_name());
}

[[noreturn]] void fail_operands(const char* op, const value& a, const value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  raise("unsupported operand type(s) for {}: '{}' and '{}'", op, type_name(a), type_name(b));
}

std::string check_string(std::string s) {
  if (s.size() > max_string_bytes) raise("string result exceeds the size limit of {} bytes", max_string_bytes);
  return s;
}

std::string repr_at(const value& v, int depth);

std::string join_repr(const list_t& items, int depth) {
  std::string out;
  for (size_t k = 0; k < items.size(); ++k) {
    if (k) out += ", ";
    out += repr_at(items[k], depth + 1);
  }
  return out;
}

std::string repr_at(const value& v, int depth) {
  check_depth(depth);
  switch (v.kind()) {
    case vkind::string:
      return py_repr_str(v.str());
    case vkind::undefined:
      return "Undefined";
    case vkind::list:
      return "[" + join_repr(v.items(), depth) + "]";
    case vkind::tuple:
      return "(" + join_repr(v.items(), depth) + (v.items().size() == 1 ? ",)" : ")");
    case vkind::dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : v.dict().entries) {
        if (!first) out += ", ";
        first = false;
        out += repr_at(k, depth + 1) + ": " + repr_at(x, depth + 1);
      }
      return out + "}";
    }
    default:
      return to_str(v);
  }
}

bool equals_at(const value& a, const value& b, int depth) {
  check_depth(depth);
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_float() == b.as_float();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case vkind::undefined:
    case vkind::none:
      return true;
    case vkind::string:
      return a.str() == b.str();
    case vkind::list:
    case vkind::tuple: {
      const auto &x = a.items(), &y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t k = 0; k < x.size(); ++k) {
        if (!equals_at(x[k], y[k], depth + 1)) return false;
      }
      return true;
    }
    case vkind::dict: {
      const auto &x = a.dict(), &y = b.dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.entries) {
        const value* o = y.find(k);
        if (!o || !equals_at(v, *o, depth + 1)) return false;
      }
      return true;
    }
    default:
      return a.identity() == b.identity();
  }
}

int compare_at(const value& a, const value& b, int depth) {
  check_depth(depth);
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    const double x = a.as_float(), y = b.as_float();
    return x < y ? -1 : x > y;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.str().compare(b.str());  // byte order of UTF-8 is code point order
    return c < 0 ? -1 : c > 0;
  }
  if (a.is_sequence() && a.kind() == b.kind()) {
    const auto &x = a.items(), &y = b.items();
    for (size_t k = 0; k < x.size() && k < y.size(); ++k) {
      if (!equals_at(x[k], y[k], depth + 1)) return compare_at(x[k], y[k], depth + 1);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size();
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  raise("'<' not supported between instances of '{}' and '{}'", type_name(a), type_name(b));
}

void json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (ensure_ascii && static_cast<uint8_t>(c) >= 0x80) {
      size_t j = i;
      const int32_t cp = utf8_decode(s, j);
      if (cp < 0) {
        out += c;  // not text; passed through as Python would never see it
        continue;
      }
      if (cp >= 0x10000) {
        const uint32_t v = static_cast<uint32_t>(cp) - 0x10000;
        out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      } else {
        out += fmt::format("\\u{:04x}", cp);
      }
      i = j - 1;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        // Python's ensure_ascii escapes everything outside ' '..'~', DEL included.
        if (static_cast<uint8_t>(c) < 0x20 || (ensure_ascii && c == 0x7f)) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string json_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  return py_repr_float(d);
}

std::string json_key(const value& k) {
  switch (k.kind()) {
    case vkind::string: return k.str();
    case vkind::boolean: return k.as_bool() ? "true" : "false";
    case vkind::integer: return std::to_string(k.as_int());
    case vkind::floating: return json_float(k.as_float());
    case vkind::none: return "null";
    default: raise("keys must be str, int, float, bool or None, not {}", type_name(k));
  }
}

void json_at(std::string& out, const value& v, const json_options& opt, int depth) {
  check_depth(depth);
  if (out.size() > max_string_bytes) raise("tojson result exceeds the size limit of {} bytes", max_string_bytes);
  auto newline = [&](int level) {
    if (opt.indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(opt.indent) * static_cast<size_t>(level), ' ');
  };
  switch (v.kind()) {
    case vkind::none: out += "null"; return;
    case vkind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case vkind::integer: out += std::to_string(v.as_int()); return;
    case vkind::floating: out += json_float(v.as_float()); return;
    case vkind::string: json_string(out, v.str(), opt.ensure_ascii); return;
    case vkind::object:
      // Tuple-like objects (groupby's groups, namedtuples in Python) serialise as arrays.
      if (const list_t* items = v.obj().sequence()) {
        json_at(out, value::tuple(*items), opt, depth);
        return;
      }
      raise("Object of type {} is not JSON serializable", type_name(v));
    case vkind::list:
    case vkind::tuple: {
      const auto& items = v.items();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += opt.item_sep;
        newline(depth + 1);
        json_at(out, items[k], opt, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case vkind::dict: {
      const auto& d = v.dict();
      if (d.size() == 0) {
        out += "{}";
        return;
      }
      std::vector<std::pair<std::string, const value*>> kv;
      for (const auto& [k, x] : d.entries) kv.emplace_back(json_key(k), &x);
      if (opt.sort_keys) {
        std::stable_sort(kv.begin(), kv.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      out += '{';
      for (size_t k = 0; k < kv.size(); ++k) {
        if (k) out += opt.item_sep;
        newline(depth + 1);
        json_string(out, kv[k].first, opt.ensure_ascii);
        out += opt.key_sep;
        json_at(out, *kv[k].second, opt, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    default:
      raise("Object of type {} is not JSON serializable", type_name(v));
  }
}

void check_overflow(bool overflow) {
  if (overflow) raise("integer overflow");
}

// Python's floor division and modulo for ints (rounding toward negative infinity).
int64_t floor_div(int64_t a, int64_t b) {
  if (a == INT64_MIN && b == -1) raise("integer overflow");
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

void render_memory::acquire(size_t n) {
  if (n > max_live_ - std::min(live_, max_live_))
    raise("template exceeds the memory limit: its values would hold more than {} MiB at once", max_live_ >> 20);
  if (n > max_total_ - std::min(total_, max_total_))
    raise("template exceeds the work limit: it would allocate more than {} MiB in all", max_total_ >> 20);
  live_ += n;
  total_ += n;
  peak_ = std::max(peak_, live_);
}

namespace {
thread_local std::shared_ptr<render_memory> t_current_memory;

// Bytes a payload holds: its own block plus what its containers point to (dict: entries and index nodes).
// A string counts its length, not its capacity: the slack that growth by appending leaves is address
// space more than memory, and counting it would make the limit depend on how a result was built.
size_t held_bytes(const std::string& s) { return sizeof(accounted<std::string>) + (s.size() > 15 ? s.size() + 1 : 0); }
size_t held_bytes(const list_t& l) { return sizeof(accounted<list_t>) + l.capacity() * sizeof(value); }
size_t held_bytes(const dict_t& d) {
  size_t n = sizeof(accounted<dict_t>) + d.entries.capacity() * sizeof(d.entries[0]);
  for (const auto& [k, i] : d.index) n += 64 + k.size();
  return n;
}

template <class T>
std::shared_ptr<accounted<T>> make_accounted(T x) {
  auto p = std::make_shared<accounted<T>>(std::move(x));
  p->resize(held_bytes(p->v));
  return p;
}
}  // namespace

const std::shared_ptr<render_memory>& render_memory::current() { return t_current_memory; }

render_memory_scope::render_memory_scope(std::shared_ptr<render_memory> m) : saved_(std::move(t_current_memory)) {
  t_current_memory = std::move(m);
}
render_memory_scope::~render_memory_scope() { t_current_memory = std::move(saved_); }

void accounted_base::resize(size_t n) {
  if (!mem) {
    mem = t_current_memory;  // made outside a render, grown by one: counted from now on
    if (!mem) return;
    bytes = 0;
  }
  if (n > bytes) mem->acquire(n - bytes);
  else mem->release(bytes - n);
  bytes = n;
}

void value::note_growth() const {
  if (kind_ == vkind::list || kind_ == vkind::tuple) {
    auto* p = static_cast<accounted<list_t>*>(ptr_.get());
    p->resize(held_bytes(p->v));
  }
}

value value::undefined(std::string name) {
  value v;
  if (!name.empty()) v.ptr_ = make_accounted(std::move(name));
  return v;
}
value value::none() {
  value v;
  v.kind_ = vkind::none;
  return v;
}
value value::boolean(bool b) {
  value v;
  v.kind_ = vkind::boolean;
  v.b_ = b;
  return v;
}
value value::integer(int64_t i) {
  value v;
  v.kind_ = vkind::integer;
  v.i_ = i;
  return v;
}
value value::floating(double d) {
  value v;
  v.kind_ = vkind::floating;
  v.f_ = d;
  return v;
}
value value::string(std::string s) {
  value v;
  v.kind_ = vkind::string;
  v.ptr_ = make_accounted(std::move(s));
  return v;
}
value value::list(list_t items) {
  value v;
  v.kind_ = vkind::list;
  v.ptr_ = make_accounted(std::move(items));
  return v;
}
value value::tuple(list_t items) {
  value v = list(std::move(items));
  v.kind_ = vkind::tuple;
  return v;
}
value value::dict(dict_t d) {
  value v;
  v.kind_ = vkind::dict;
  v.ptr_ = make_accounted(std::move(d));
  return v;
}
value value::object(std::shared_ptr<jinja::object> o) {
  value v;
  v.kind_ = vkind::object;
  v.ptr_ = std::move(o);
  return v;
}

const value* dict_t::find(const value& key) const {
  const auto it = index.find(hash_key(key));
  return it == index.end() ? nullptr : &entries[it->second].second;
}
const value* dict_t::find(std::string_view key) const {
  std::string k = "s";
  k += key;
  const auto it = index.find(k);
  return it == index.end() ? nullptr : &entries[it->second].second;
}
void dict_t::set(const value& key, value v) {
  auto [it, fresh] = index.emplace(hash_key(key), entries.size());
  if (fresh) {
    entries.emplace_back(key, std::move(v));
  } else {
    entries[it->second].second = std::move(v);
  }
}

const value* call_args::kwarg(std::string_view name) const {
  for (const auto& [k, v] : kw) {
    if (k == name) return &v;
  }
  return nullptr;
}
const value* call_args::get(size_t i, std::string_view name) const {
  if (i < pos.size()) return &pos[i];
  return kwarg(name);
}

value object::get_attr(std::string_view) const { return {}; }
void object::set_attr(std::string_view name, value) {
  raise("cannot assign attribute '{}' on a '{}' object", name, type_name());
}
value object::call(interpreter&, const call_args&) { raise("'{}' object is not callable", type_name()); }
std::string object::to_str() const { return fmt::format("<{} object>", type_name()); }

value namespace_object::get_attr(std::string_view name) const {
  const value* v = attrs.find(name);
  return v ? *v : value::undefined(std::string(name));
}
void namespace_object::set_attr(std::string_view name, value v) {
  // HF's sandboxed namespace refuses underscore names, which could otherwise reach Python internals.
  if (!name.empty() && name[0] == '_') raise("cannot store underscore-prefixed attribute '{}' on a namespace", name);
  attrs.set(value::string(std::string(name)), std::move(v));
}
std::string namespace_object::to_str() const {
  std::string out = "<Namespace {";
  bool first = true;
  for (const auto& [k, v] : attrs.entries) {
    if (!first) out += ", ";
    first = false;
    out += repr(k) + ": " + repr(v);
  }
  return out + "}>";
}

bool truthy(const value& v) {
  switch (v.kind()) {
    case vkind::undefined:
    case vkind::none: return false;
    case vkind::boolean: return v.as_bool();
    case vkind::integer: return v.as_int() != 0;
    case vkind::floating: return v.as_float() != 0.0;
    case vkind::string: return !v.str().empty();
    case vkind::list:
    case vkind::tuple: return !v.items().empty();
    case vkind::dict: return v.dict().size() != 0;
    case vkind::object: return true;
  }
  return false;
}

std::string type_name(const value& v) {
  switch (v.kind()) {
    case vkind::undefined: return "Undefined";
    case vkind::none: return "NoneType";
    case vkind::boolean: return "bool";
    case vkind::integer: return "int";
    case vkind::floating: return "float";
    case vkind::string: return "str";
    case vkind::list: return "list";
    case vkind::tuple: return "tuple";
    case vkind::dict: return "dict";
    case vkind::object: return std::string(v.obj().type_name());
  }
  return "object";
}

std::string to_str(const value& v) {
  switch (v.kind()) {
    case vkind::undefined: return "";
    case vkind::none: return "None";
    case vkind::boolean: return v.as_bool() ? "True" : "False";
    case vkind::integer: return std::to_string(v.as_int());
    case vkind::floating: return py_repr_float(v.as_float());
    case vkind::string: return v.str();
    case vkind::object: return v.obj().to_str();
    default: return repr_at(v, 0);
  }
}

std::string repr(const value& v) { return repr_at(v, 0); }
bool equals(const value& a, const value& b) { return equals_at(a, b, 0); }
int compare(const value& a, const value& b) { return compare_at(a, b, 0); }

std::string hash_key(const value& v) {
  switch (v.kind()) {
    case vkind::string: return "s" + v.str();
    case vkind::boolean:
    case vkind::integer: return "n" + std::to_string(v.as_int());
    case vkind::floating: {
      // 1.0 and 1 are the same key in Python.
      const double d = v.as_float();
      if (std::floor(d) == d && std::fabs(d) < 9.2e18) return "n" + std::to_string(static_cast<int64_t>(d));
      return "f" + py_repr_float(d);
    }
    case vkind::none: return "N";
    case vkind::undefined: return "U";
    case vkind::tuple: {
      std::string k = "t";
      for (const auto& x : v.items()) {
        const std::string sub = hash_key(x);
        k += std::to_string(sub.size()) + ":" + sub;
      }
      return k;
    }
    case vkind::object: return fmt::format("o{}", v.identity());
    default: raise("unhashable type: '{}'", type_name(v));
  }
}

int64_t length(const value& v) {
  switch (v.kind()) {
    case vkind::undefined: return 0;
    case vkind::string: return static_cast<int64_t>(char_count(v.str()));
    case vkind::list:
    case vkind::tuple: return static_cast<int64_t>(v.items().size());
    case vkind::dict: return static_cast<int64_t>(v.dict().size());
    case vkind::object:
      if (const list_t* items = v.obj().sequence()) return static_cast<int64_t>(items->size());
      raise("object of type '{}' has no len()", type_name(v));
    default: raise("object of type '{}' has no len()", type_name(v));
  }
}

std::string to_json(const value& v, const json_options& opt) {
  std::string out;
  json_at(out, v, opt, 0);
  return out;
}

value op_add(const value& a, const value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) {
      int64_t r = 0;
      check_overflow(__builtin_add_overflow(a.as_int(), b.as_int(), &r));
      return value::integer(r);
    }
    return value::floating(a.as_float() + b.as_float());
  }
  if (a.is_string() && b.is_string()) return value::string(check_string(a.str() + b.str()));
  if (a.is_sequence() && a.kind() == b.kind()) {
    if (a.items().size() + b.items().size() > max_list_items) raise("list exceeds {} items", max_list_items);
    list_t r = a.items();
    r.insert(r.end(), b.items().begin(), b.items().end());
    return a.kind() == vkind::list ? value::list(std::move(r)) : value::tuple(std::move(r));
  }
  fail_operands("+", a, b);
}

value op_sub(const value& a, const value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) {
      int64_t r = 0;
      check_overflow(__builtin_sub_overflow(a.as_int(), b.as_int(), &r));
      return value::integer(r);
    }
    return value::floating(a.as_float() - b.as_float());
  }
  fail_operands("-", a, b);
}

value op_mul(const value& a, const value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) {
      int64_t r = 0;
      check_overflow(__builtin_mul_overflow(a.as_int(), b.as_int(), &r));
      return value::integer(r);
    }
    return value::floating(a.as_float() * b.as_float());
  }
  // Sequence repetition, either way round.
  const value* seq = a.is_int() ? &b : &a;
  const value* n = a.is_int() ? &a : &b;
  if (n->is_int() && (seq->is_string() || seq->is_sequence())) {
    const int64_t times = std::max<int64_t>(0, n->as_int());
    if (seq->is_string()) {
      const size_t unit = seq->str().size();
      if (unit && static_cast<uint64_t>(times) > max_string_bytes / unit) {
        raise("string result exceeds the size limit of {} bytes", max_string_bytes);
      }
      std::string r;
      r.reserve(unit * static_cast<size_t>(times));
      for (int64_t k = 0; k < times; ++k) r += seq->str();
      return value::string(std::move(r));
    }
    const size_t unit = seq->items().size();
    if (unit && static_cast<uint64_t>(times) > max_list_items / unit) raise("list exceeds {} items", max_list_items);
    list_t r;
    for (int64_t k = 0; k < times; ++k) r.insert(r.end(), seq->items().begin(), seq->items().end());
    return seq->kind() == vkind::list ? value::list(std::move(r)) : value::tuple(std::move(r));
  }
  fail_operands("*", a, b);
}

value op_div(const value& a, const value& b) {
  if (!a.is_number() || !b.is_number()) fail_operands("/", a, b);
  if (b.as_float() == 0.0) raise("division by zero");
  return value::floating(a.as_float() / b.as_float());
}

value op_floordiv(const value& a, const value& b) {
  if (!a.is_number() || !b.is_number()) fail_operands("//", a, b);
  if (a.is_int() && b.is_int()) {
    if (b.as_int() == 0) raise("integer division or modulo by zero");
    return value::integer(floor_div(a.as_int(), b.as_int()));
  }
  if (b.as_float() == 0.0) raise("float floor division by zero");
  return value::floating(std::floor(a.as_float() / b.as_float()));
}

value op_mod(const value& a, const value& b) {
  if (a.is_string()) return value::string(py_percent_format(a.str(), b));  // printf-style formatting
  if (!a.is_number() || !b.is_number()) fail_operands("%", a, b);
  if (a.is_int() && b.is_int()) {
    if (b.as_int() == 0) raise("integer division or modulo by zero");
    if (b.as_int() == -1) return value::integer(0);
    int64_t r = a.as_int() % b.as_int();
    if (r != 0 && ((r < 0) != (b.as_int() < 0))) r += b.as_int();
    return value::integer(r);
  }
  const double y = b.as_float();
  if (y == 0.0) raise("float modulo");
  double r = std::fmod(a.as_float(), y);
  if (r != 0.0 && ((r < 0) != (y < 0))) r += y;
  return value::floating(r);
}

value op_pow(const value& a, const value& b) {
  if (!a.is_number() || !b.is_number()) fail_operands("**", a, b);
  if (a.is_int() && b.is_int() && b.as_int() >= 0) {
    int64_t base = a.as_int(), e = b.as_int(), r = 1;
    while (e > 0) {
      if (e & 1) check_overflow(__builtin_mul_overflow(r, base, &r));
      e >>= 1;
      if (e) check_overflow(__builtin_mul_overflow(base, base, &base));
    }
    return value::integer(r);
  }
  if (a.as_float() == 0.0 && b.as_float() < 0) raise("0.0 cannot be raised to a negative power");
  return value::floating(std::pow(a.as_float(), b.as_float()));
}

value op_neg(const value& a) {
  if (a.is_int()) {
    if (a.as_int() == INT64_MIN) raise("integer overflow");
    return value::integer(-a.as_int());
  }
  if (a.kind() == vkind::floating) return value::floating(-a.as_float());
  if (a.is_undefined()) fail_undefined(a);
  raise("bad operand type for unary -: '{}'", type_name(a));
}

bool op_in(const value& needle, const value& hay) {
  switch (hay.kind()) {
    case vkind::string:
      if (!needle.is_string()) raise("'in <string>' requires string as left operand, not {}", type_name(needle));
      return hay.str().find(needle.str()) != std::string::npos;
    case vkind::list:
    case vkind::tuple:
      return std::any_of(hay.items().begin(), hay.items().end(), [&](const value& x) { return equals(needle, x); });
    case vkind::dict:
      return hay.dict().find(needle) != nullptr;
    case vkind::undefined:
      return false;
    default:
      raise("argument of type '{}' is not iterable", type_name(hay));
  }
}

list_t iterate(const value& v) {
  switch (v.kind()) {
    case vkind::undefined: return {};
    case vkind::list:
    case vkind::tuple: return v.items();
    case vkind::dict: {
      list_t keys;
      keys.reserve(v.dict().size());
      for (const auto& [k, x] : v.dict().entries) keys.push_back(k);
      return keys;
    }
    case vkind::string: {
      list_t chars;
      const std::string& s = v.str();
      const auto off = char_offsets(s);
      chars.reserve(off.size() - 1);
      for (size_t k = 0; k + 1 < off.size(); ++k) chars.push_back(value::string(s.substr(off[k], off[k + 1] - off[k])));
      return chars;
    }
    case vkind::object:
      if (const list_t* items = v.obj().sequence()) return *items;
      raise("'{}' object is not iterable", type_name(v));
    default:
      raise("'{}' object is not iterable", type_name(v));
  }
}

}  // namespace dianoia::detail::jinja
