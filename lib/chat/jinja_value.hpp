// Template values: the Python objects a chat template sees (None, bool, int, float, str, list, tuple,
// dict), jinja2's Undefined, and native objects (namespace, loop, macros, functions, bound methods).
// Lists, dicts and objects are shared by reference as in Python, so a namespace or list mutated in
// one scope is seen through every name bound to it.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dianoia::detail::jinja {

// An evaluation failure without a position: the interpreter prefixes the line and column of the
// node it was evaluating when this escapes.
class eval_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
template <class... Args>
[[noreturn]] void raise(fmt::format_string<Args...> f, Args&&... args) {
  throw eval_error(fmt::format(f, std::forward<Args>(args)...));
}

// Strings and lists beyond these sizes are refused, so one expression cannot exhaust memory.
inline constexpr size_t max_string_bytes = size_t{16} << 20;
inline constexpr size_t max_list_items = size_t{1} << 20;

// The memory of one render: bytes held by the strings, lists and dicts it created and by its output,
// counted as they are made and freed, so a template cannot pile up values each under the per-string
// limit. acquire() raises when the live bytes would pass max_live, or when all bytes ever acquired
// would pass max_total (the copying a template can make the renderer do, its time). Values made outside
// a render (the host's messages) are not counted; a host container a render grows is, from then on.
class render_memory {
 public:
  render_memory(size_t max_live, uint64_t max_total) : max_live_(max_live), max_total_(max_total) {}
  void acquire(size_t n);
  void release(size_t n) noexcept { live_ -= std::min(n, live_); }
  size_t live() const { return live_; }
  size_t peak() const { return peak_; }
  uint64_t total() const { return total_; }

  // The render this thread is making values for, or null. Set by render_memory_scope.
  static const std::shared_ptr<render_memory>& current();

 private:
  friend class render_memory_scope;
  size_t max_live_;
  uint64_t max_total_;
  size_t live_ = 0, peak_ = 0;
  uint64_t total_ = 0;
};

// Makes `m` the current render memory of this thread for its lifetime (restoring the previous one).
class render_memory_scope {
 public:
  explicit render_memory_scope(std::shared_ptr<render_memory> m);
  ~render_memory_scope();
  render_memory_scope(const render_memory_scope&) = delete;
  render_memory_scope& operator=(const render_memory_scope&) = delete;

 private:
  std::shared_ptr<render_memory> saved_;
};

// A string, list or dict payload with the bytes it holds charged to the render that made it.
struct accounted_base {
  std::shared_ptr<render_memory> mem;
  size_t bytes = 0;
  accounted_base() = default;
  accounted_base(const accounted_base&) = delete;
  accounted_base& operator=(const accounted_base&) = delete;
  ~accounted_base() {
    if (mem) mem->release(bytes);
  }
  // Charges or returns the difference to `n` bytes (raises past the render's limits).
  void resize(size_t n);
};
template <class T>
struct accounted final : accounted_base {
  T v;
  explicit accounted(T x) : v(std::move(x)) {}
};

enum class vkind : uint8_t { undefined, none, boolean, integer, floating, string, list, tuple, dict, object };

class value;
struct dict_t;
class object;
using list_t = std::vector<value>;

class value {
 public:
  value() = default;  // undefined, with no name to report
  static value undefined(std::string name = {});
  static value none();
  static value boolean(bool b);
  static value integer(int64_t i);
  static value floating(double d);
  static value string(std::string s);
  static value list(list_t items);
  static value tuple(list_t items);
  static value dict(dict_t d);
  static value object(std::shared_ptr<jinja::object> o);

  vkind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == vkind::undefined; }
  bool is_none() const { return kind_ == vkind::none; }
  bool is_bool() const { return kind_ == vkind::boolean; }
  bool is_int() const { return kind_ == vkind::integer || kind_ == vkind::boolean; }  // bool is an int in Python
  bool is_number() const { return is_int() || kind_ == vkind::floating; }
  bool is_string() const { return kind_ == vkind::string; }
  bool is_sequence() const { return kind_ == vkind::list || kind_ == vkind::tuple; }
  bool is_dict() const { return kind_ == vkind::dict; }
  bool is_object() const { return kind_ == vkind::object; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == vkind::boolean ? int64_t{b_} : i_; }
  double as_float() const { return kind_ == vkind::floating ? f_ : static_cast<double>(as_int()); }
  const std::string& str() const;
  list_t& items() const;
  dict_t& dict() const;
  // After a list grew in place (append): charges its new size to the render.
  void note_growth() const;
  jinja::object& obj() const { return *static_cast<jinja::object*>(ptr_.get()); }
  std::shared_ptr<jinja::object> obj_ptr() const { return std::static_pointer_cast<jinja::object>(ptr_); }
  // Name of the variable or attribute an undefined came from ("" if none), for error messages.
  std::string_view undefined_name() const { return ptr_ ? std::string_view(str()) : std::string_view(); }
  // Identity of a shared container (for `is sameas`).
  const void* identity() const { return ptr_.get(); }

 private:
  vkind kind_ = vkind::undefined;
  union {
    bool b_;
    int64_t i_ = 0;
    double f_;
  };
  std::shared_ptr<void> ptr_;
};

// Insertion-ordered mapping, like a Python dict. Keys are indexed by their hash_key().
struct dict_t {
  std::vector<std::pair<value, value>> entries;
  std::unordered_map<std::string, size_t> index;

  const value* find(const value& key) const;
  const value* find(std::string_view key) const;
  void set(const value& key, value v);
  size_t size() const { return entries.size(); }
};

inline const std::string& value::str() const { return static_cast<const accounted<std::string>*>(ptr_.get())->v; }
inline list_t& value::items() const { return static_cast<accounted<list_t>*>(ptr_.get())->v; }
inline dict_t& value::dict() const { return static_cast<accounted<dict_t>*>(ptr_.get())->v; }

class interpreter;

struct call_args {
  std::vector<value> pos;
  std::vector<std::pair<std::string, value>> kw;

  const value* kwarg(std::string_view name) const;
  // Positional argument i, else keyword `name`, else nullptr (Python's argument binding, simplified).
  const value* get(size_t i, std::string_view name) const;
};

class object {
 public:
  virtual ~object() = default;
  virtual std::string_view type_name() const = 0;
  virtual value get_attr(std::string_view name) const;  // undefined when absent
  virtual void set_attr(std::string_view name, value v);
  virtual bool is_callable() const { return false; }
  virtual value call(interpreter& in, const call_args& args);
  virtual std::string to_str() const;
  // Tuple-like objects (groupby's groups) expose their items for iteration, indexing and unpacking.
  virtual const list_t* sequence() const { return nullptr; }
};

// jinja2's namespace(): the only object whose attributes `{% set ns.x = ... %}` may assign.
class namespace_object final : public object {
 public:
  dict_t attrs;
  std::string_view type_name() const override { return "Namespace"; }
  value get_attr(std::string_view name) const override;
  void set_attr(std::string_view name, value v) override;
  std::string to_str() const override;
};

// A built-in callable: a global function or a method bound to its receiver.
class native_function final : public object {
 public:
  using fn_t = value (*)(interpreter&, const value& self, const call_args&);
  native_function(std::string name, fn_t fn, value self = {})
      : name_(std::move(name)), fn_(fn), self_(std::move(self)) {}
  std::string_view type_name() const override { return "builtin_function_or_method"; }
  bool is_callable() const override { return true; }
  value call(interpreter& in, const call_args& args) override { return fn_(in, self_, args); }
  std::string to_str() const override { return fmt::format("<built-in method {}>", name_); }

 private:
  std::string name_;
  fn_t fn_;
  value self_;
};

bool truthy(const value& v);
std::string type_name(const value& v);          // Python's type name, for messages
std::string to_str(const value& v);             // Python str()
std::string repr(const value& v);               // Python repr()
bool equals(const value& a, const value& b);    // Python ==
int compare(const value& a, const value& b);    // Python <, as -1/0/1; raises for unorderable types
std::string hash_key(const value& v);           // raises for unhashable values (list, dict)
int64_t length(const value& v);                 // Python len(); raises where len() would

struct json_options {
  int indent = -1;  // < 0: single line
  std::string item_sep, key_sep;
  bool sort_keys = false;
  bool ensure_ascii = false;  // escape non-ASCII as \uXXXX (surrogate pairs above the BMP)
};
// json.dumps(v, ensure_ascii=False, ...) as HF's tojson filter calls it.
std::string to_json(const value& v, const json_options& opt);

// Operators with Python semantics (int overflow raises rather than wrapping).
value op_add(const value& a, const value& b);
value op_sub(const value& a, const value& b);
value op_mul(const value& a, const value& b);
value op_div(const value& a, const value& b);
value op_floordiv(const value& a, const value& b);
value op_mod(const value& a, const value& b);
value op_pow(const value& a, const value& b);
value op_neg(const value& a);
bool op_in(const value& needle, const value& haystack);

// Python iteration: list/tuple items, dict keys, string characters; undefined iterates as empty.
list_t iterate(const value& v);

}  // namespace dianoia::detail::jinja
