#include "chat/jinja_interp.hpp"

#include <algorithm>

#include "chat/jinja_builtins.hpp"
#include "chat/jinja_lexer.hpp"
#include "chat/jinja_text.hpp"

namespace dianoia::detail::jinja {
namespace {

// The `loop` variable of a for loop. One object per loop, updated in place each iteration (as
// jinja2's LoopContext is), so `{% set outer = loop %}` keeps following the outer loop.
class loop_object final : public object, public std::enable_shared_from_this<loop_object> {
 public:
  std::shared_ptr<list_t> items;
  size_t index0 = 0;
  // loop.changed(*args): true when the arguments differ from the previous call's (jinja2 keeps them
  // per loop, starting from a marker equal to nothing).
  bool has_last = false;
  value last_changed;

  std::string_view type_name() const override { return "LoopContext"; }
  value get_attr(std::string_view name) const override {
    const auto n = static_cast<int64_t>(items->size());
    const auto i = static_cast<int64_t>(index0);
    if (name == "index") return value::integer(i + 1);
    if (name == "index0") return value::integer(i);
    if (name == "revindex") return value::integer(n - i);
    if (name == "revindex0") return value::integer(n - i - 1);
    if (name == "first") return value::boolean(i == 0);
    if (name == "last") return value::boolean(i == n - 1);
    if (name == "length") return value::integer(n);
    // Only recursive loops (unsupported) have a depth other than 1.
    if (name == "depth") return value::integer(1);
    if (name == "depth0") return value::integer(0);
    if (name == "previtem") return i > 0 ? (*items)[index0 - 1] : value::undefined("previtem");
    if (name == "nextitem") return i + 1 < n ? (*items)[index0 + 1] : value::undefined("nextitem");
    if (name == "changed") {
      auto self = std::const_pointer_cast<loop_object>(shared_from_this());
      return value::object(std::make_shared<native_function>("changed", &changed, value::object(self)));
    }
    if (name == "cycle") {
      auto self = std::const_pointer_cast<loop_object>(shared_from_this());
      return value::object(std::make_shared<native_function>("cycle", &cycle, value::object(self)));
    }
    return value::undefined(std::string(name));
  }

 private:
  static value changed(interpreter&, const value& self, const call_args& args) {
    auto& loop = static_cast<loop_object&>(self.obj());
    value now = value::tuple(args.pos);
    if (loop.has_last && equals(loop.last_changed, now)) return value::boolean(false);
    loop.has_last = true;
    loop.last_changed = std::move(now);
    return value::boolean(true);
  }
  static value cycle(interpreter&, const value& self, const call_args& args) {
    if (args.pos.empty()) raise("no items for cycling given");
    const auto& loop = static_cast<const loop_object&>(self.obj());
    return args.pos[loop.index0 % args.pos.size()];
  }
};

class macro_object final : public object {
 public:
  macro_object(const stmt& def, std::shared_ptr<frame> closure) : def_(def), closure_(std::move(closure)) {}
  std::string_view type_name() const override { return "Macro"; }
  bool is_callable() const override { return true; }
  value call(interpreter& in, const call_args& args) override { return in.call_macro(def_, closure_, args); }
  std::string to_str() const override { return fmt::format("<Macro '{}'>", def_.text); }

 private:
  const stmt& def_;
  std::shared_ptr<frame> closure_;
};

}  // namespace

const value* frame::find(std::string_view name) const {
  for (const frame* f = this; f; f = f->parent.get()) {
    for (auto it = f->vars.rbegin(); it != f->vars.rend(); ++it) {
      if (it->first == name) return &it->second;
    }
  }
  return nullptr;
}

void frame::set(std::string_view name, value v) {
  for (auto& [k, x] : vars) {
    if (k == name) {
      x = std::move(v);
      return;
    }
  }
  vars.emplace_back(std::string(name), std::move(v));
}

interpreter::interpreter(const template_ast& t, render_limits limits) : t_(t), limits_(limits) {
  // Like jinja2, an unknown filter or test is a compile-time error, even in a branch never taken.
  check_names(t_.body);
}

void interpreter::check_names(const stmt_list& body) {
  for (const auto& s : body) {
    check_names(s->target.get());
    check_names(s->e.get());
    check_names(s->cond.get());
    check_names(s->body);
    check_names(s->else_body);
    for (const auto& [c, b] : s->branches) {
      check_names(c.get());
      check_names(b);
    }
    for (const auto& [n, d] : s->params) check_names(d.get());
  }
}

void interpreter::check_names(const expr* e) {
  if (!e) return;
  if (e->kind == ex::filter && !find_filter(e->name)) fail_at(t_.source, e->pos, fmt::format("no filter named '{}'", e->name));
  if (e->kind == ex::test && !find_test(e->name)) fail_at(t_.source, e->pos, fmt::format("no test named '{}'", e->name));
  for (const auto& a : e->args) check_names(a.get());
  for (const auto& [k, a] : e->kwargs) check_names(a.get());
}

std::string interpreter::render(const std::vector<std::pair<std::string, value>>& globals) {
  auto root = std::make_shared<frame>();
  for (auto& [k, v] : builtin_globals()) root->set(k, std::move(v));
  for (const auto& [k, v] : globals) root->set(k, v);
  // Template-level assignments go to a frame of their own so the caller's globals stay untouched.
  scope_ = std::make_shared<frame>();
  scope_->parent = root;
  std::string out;
  out_ = &out;
  out_charged_ = 0;
  iterations_ = steps_ = 0;
  depth_ = 0;
  mem_ = std::make_shared<render_memory>(limits_.max_live_bytes, limits_.max_alloc_bytes);
  const render_memory_scope counted(mem_);
  try {
    if (exec(t_.body) != flow::normal) raise("'break' or 'continue' outside of a loop");
  } catch (const eval_error& e) {
    release_cycles();
    fail_at(t_.source, pos_, e.what());
  } catch (...) {
    release_cycles();
    throw;
  }
  release_cycles();
  return out;
}

void interpreter::note_mutated(const value& container) {
  const void* id = container.identity();
  if (!mutated_ids_.insert(id).second) return;
  mutated_.push_back(container);
}

void interpreter::release_cycles() {
  scope_.reset();
  for (auto& w : closures_) {
    if (auto f = w.lock()) f->vars.clear();
  }
  for (auto& v : mutated_) {
    if (v.kind() == vkind::list) {
      v.items().clear();
    } else if (v.is_object()) {
      static_cast<namespace_object&>(v.obj()).attrs = dict_t{};
    }
  }
  closures_.clear();
  mutated_.clear();
  mutated_ids_.clear();
}

void interpreter::charge(uint64_t units) {
  steps_ += units;
  if (steps_ > limits_.max_steps) raise("template exceeds the evaluation step limit ({})", limits_.max_steps);
}

render_stats interpreter::stats() const {
  render_stats r;
  r.steps = steps_;
  r.iterations = iterations_;
  if (mem_) {
    r.peak_bytes = mem_->peak();
    r.alloc_bytes = mem_->total();
  }
  return r;
}

void interpreter::emit(std::string_view s) {
  if (out_->size() + s.size() > limits_.max_output) {
    raise("rendered output exceeds the size limit of {} bytes", limits_.max_output);
  }
  charge(s.size() / 16);
  mem_->acquire(s.size());
  out_charged_ += s.size();
  out_->append(s);
}

std::string interpreter::capture(const stmt_list& body) {
  std::string buf;
  std::string* saved = out_;
  const size_t saved_charged = out_charged_;
  out_ = &buf;
  out_charged_ = 0;
  // The captured text stops counting as output here: the value made of it counts instead.
  struct restore {
    interpreter& in;
    std::string* out;
    size_t charged;
    ~restore() {
      in.mem_->release(in.out_charged_);
      in.out_ = out;
      in.out_charged_ = charged;
    }
  };
  flow f;
  {
    const restore r{*this, saved, saved_charged};
    f = exec(body);
  }
  if (f != flow::normal) raise("'break' or 'continue' outside of a loop");
  return buf;
}

interpreter::flow interpreter::exec(const stmt_list& body) {
  for (const auto& s : body) {
    const flow f = exec(*s);
    if (f != flow::normal) return f;
  }
  return flow::normal;
}

interpreter::flow interpreter::exec(const stmt& s) {
  pos_ = s.pos;
  charge(1);
  switch (s.kind) {
    case st::text:
      emit(s.text);
      return flow::normal;
    case st::output:
      emit(to_str(eval(*s.e)));
      return flow::normal;
    case st::if_:
      for (const auto& [cond, body] : s.branches) {
        if (!cond || truthy(eval(*cond))) return exec(body);
      }
      return flow::normal;
    case st::for_:
      return exec_for(s);
    case st::set:
      assign(*s.target, eval(*s.e));
      return flow::normal;
    case st::set_block: {
      value v = value::string(capture(s.body));
      if (s.e) v = eval_filter(*s.e, &v);
      assign(*s.target, v);
      return flow::normal;
    }
    case st::macro:
      closures_.push_back(scope_);
      scope_->set(s.text, value::object(std::make_shared<macro_object>(s, scope_)));
      return flow::normal;
    case st::call_block: {
      const expr& c = *s.e;
      value callee = eval(*c.args[0]);
      call_args args = eval_args(c, 1);
      closures_.push_back(scope_);
      args.kw.emplace_back("caller", value::object(std::make_shared<macro_object>(s, scope_)));
      emit(to_str(call(callee, args)));
      return flow::normal;
    }
    case st::filter_block: {
      const value body = value::string(capture(s.body));
      emit(to_str(eval_filter(*s.e, &body)));
      return flow::normal;
    }
    case st::with: {
      auto saved = scope_;
      scope_ = std::make_shared<frame>();
      scope_->parent = saved;
      for (const auto& [name, e] : s.params) scope_->set(name, eval(*e));
      const flow f = exec(s.body);
      scope_ = saved;
      return f;
    }
    case st::break_:
      return flow::break_;
    case st::continue_:
      return flow::continue_;
    case st::scope:
      return exec(s.body);
  }
  return flow::normal;
}

interpreter::flow interpreter::exec_for(const stmt& s) {
  const value seq = eval(*s.e);
  if (seq.is_none() || seq.is_number() || seq.is_bool()) raise("'{}' object is not iterable", type_name(seq));
  auto items = std::make_shared<list_t>(iterate(seq));
  charge(items->size());
  auto saved = scope_;
  if (s.cond) {
    // The filter sees the loop target but not `loop`, and decides which items the loop counts.
    list_t kept;
    for (auto& item : *items) {
      scope_ = std::make_shared<frame>();
      scope_->parent = saved;
      assign(*s.target, item);
      const bool keep = truthy(eval(*s.cond));
      scope_ = saved;
      if (keep) kept.push_back(std::move(item));
    }
    *items = std::move(kept);
  }
  if (items->empty()) {
    scope_ = std::make_shared<frame>();
    scope_->parent = saved;
    const flow f = exec(s.else_body);
    scope_ = saved;
    return f;
  }
  auto loop = std::make_shared<loop_object>();
  loop->items = items;
  // loop.changed() keeps its last arguments, which could hold the loop itself: drop them when the
  // loop ends, however it ends.
  struct forget_changed {
    loop_object& l;
    ~forget_changed() { l.last_changed = value(); }
  } forget{*loop};
  const value loop_value = value::object(loop);
  for (size_t k = 0; k < items->size(); ++k) {
    if (++iterations_ > limits_.max_iterations) {
      pos_ = s.pos;
      raise("template exceeds the loop iteration limit ({})", limits_.max_iterations);
    }
    // A fresh frame per iteration: as in jinja2, assignments in the body are neither seen by the next
    // iteration nor after the loop.
    loop->index0 = k;
    scope_ = std::make_shared<frame>();
    scope_->parent = saved;
    scope_->set("loop", loop_value);
    assign(*s.target, (*items)[k]);
    const flow f = exec(s.body);
    if (f == flow::break_) break;
  }
  scope_ = saved;
  return flow::normal;
}

void interpreter::assign(const expr& target, const value& v) {
  switch (target.kind) {
    case ex::name:
      scope_->set(target.name, v);
      return;
    case ex::tuple: {
      if (!v.is_sequence() && !v.is_string() && !v.is_dict() && !(v.is_object() && v.obj().sequence())) {
        raise("cannot unpack non-sequence {}", type_name(v));
      }
      const list_t items = iterate(v);
      if (items.size() != target.args.size()) {
        raise("cannot unpack {} values into {} names", items.size(), target.args.size());
      }
      for (size_t k = 0; k < items.size(); ++k) assign(*target.args[k], items[k]);
      return;
    }
    case ex::attr: {
      const value obj = eval(*target.args[0]);
      if (!obj.is_object() || obj.obj().type_name() != "Namespace") {
        raise("cannot assign attribute '{}' on a non-namespace object", target.name);
      }
      obj.obj().set_attr(target.name, v);
      note_mutated(obj);
      return;
    }
    default:
      raise("cannot assign to this expression");
  }
}

value interpreter::call_macro(const stmt& def, const std::shared_ptr<frame>& closure, const call_args& args) {
  if (depth_ >= limits_.max_depth) raise("template exceeds the recursion depth limit ({})", limits_.max_depth);
  ++depth_;
  auto saved = scope_;
  scope_ = std::make_shared<frame>();
  scope_->parent = closure;
  list_t varargs;
  dict_t kwargs;
  for (size_t k = 0; k < args.pos.size(); ++k) {
    if (k < def.params.size()) {
      scope_->set(def.params[k].first, args.pos[k]);
    } else {
      varargs.push_back(args.pos[k]);
    }
  }
  for (const auto& [name, v] : args.kw) {
    bool known = name == "caller";
    for (const auto& p : def.params) known = known || p.first == name;
    if (known) {
      scope_->set(name, v);
    } else {
      kwargs.set(value::string(name), v);
    }
  }
  for (size_t k = args.pos.size(); k < def.params.size(); ++k) {
    const auto& [name, def_expr] = def.params[k];
    if (args.kwarg(name)) continue;
    scope_->set(name, def_expr ? eval(*def_expr) : value::undefined(name));
  }
  scope_->set("varargs", value::tuple(std::move(varargs)));
  scope_->set("kwargs", value::dict(std::move(kwargs)));
  std::string out = capture(def.body);
  scope_ = saved;
  --depth_;
  return value::string(std::move(out));
}

value interpreter::call(const value& callee, const call_args& args) {
  if (callee.is_undefined()) {
    if (callee.undefined_name().empty()) raise("undefined value is not callable");
    raise("'{}' is undefined", callee.undefined_name());
  }
  if (!callee.is_object() || !callee.obj().is_callable()) raise("'{}' object is not callable", type_name(callee));
  return callee.obj_ptr()->call(*this, args);
}

value interpreter::apply_filter(std::string_view name, const value& v, const call_args& args) {
  const filter_fn f = find_filter(name);
  if (!f) raise("no filter named '{}'", name);
  return f(*this, v, args);
}

bool interpreter::apply_test(std::string_view name, const value& v, const call_args& args) {
  const test_fn f = find_test(name);
  if (!f) raise("no test named '{}'", name);
  return f(*this, v, args);
}

call_args interpreter::eval_args(const expr& e, size_t first) {
  call_args a;
  for (size_t k = first; k < e.args.size(); ++k) a.pos.push_back(eval(*e.args[k]));
  for (const auto& [name, x] : e.kwargs) a.kw.emplace_back(name, eval(*x));
  return a;
}

value interpreter::eval_filter(const expr& e, const value* block_input) {
  const value operand = e.args[0] ? (e.args[0]->kind == ex::filter ? eval_filter(*e.args[0], block_input)
                                                                   : eval(*e.args[0]))
                                  : *block_input;
  const call_args args = eval_args(e, 1);
  pos_ = e.pos;
  return apply_filter(e.name, operand, args);
}

value interpreter::get_attr(const value& obj, std::string_view name) {
  switch (obj.kind()) {
    case vkind::object:
      return obj.obj().get_attr(name);
    case vkind::dict: {
      // Python attribute lookup comes first, so d.items is the method even if "items" is a key.
      value m = find_method(obj, name);
      if (!m.is_undefined()) return m;
      const value* v = obj.dict().find(name);
      return v ? *v : value::undefined(std::string(name));
    }
    case vkind::string:
    case vkind::list:
    case vkind::tuple: {
      value m = find_method(obj, name);
      return m.is_undefined() ? value::undefined(std::string(name)) : m;
    }
    default:
      return value::undefined(std::string(name));
  }
}

value interpreter::get_item(const value& obj, const value& key) {
  switch (obj.kind()) {
    case vkind::list:
    case vkind::tuple:
    case vkind::string: {
      if (!key.is_int()) {
        if (key.is_string()) return get_attr(obj, key.str());
        return value::undefined();
      }
      const int64_t n = length(obj);
      int64_t i = key.as_int();
      if (i < 0) i += n;
      if (i < 0 || i >= n) return value::undefined();
      if (obj.is_string()) {
        const auto off = char_offsets(obj.str());
        const auto k = static_cast<size_t>(i);
        return value::string(obj.str().substr(off[k], off[k + 1] - off[k]));
      }
      return obj.items()[static_cast<size_t>(i)];
    }
    case vkind::dict: {
      if (key.is_dict() || key.kind() == vkind::list) return value::undefined();
      const value* v = obj.dict().find(key);
      if (v) return *v;
      if (key.is_string()) return get_attr(obj, key.str());
      return value::undefined();
    }
    case vkind::object:
      if (key.is_string()) return obj.obj().get_attr(key.str());
      if (const list_t* items = obj.obj().sequence(); items && key.is_int()) {
        int64_t i = key.as_int();
        if (i < 0) i += static_cast<int64_t>(items->size());
        if (i >= 0 && i < static_cast<int64_t>(items->size())) return (*items)[static_cast<size_t>(i)];
      }
      return value::undefined();
    default:
      return value::undefined();
  }
}

value interpreter::slice(const value& obj, const expr& e) {
  std::optional<int64_t> parts[3];
  for (int k = 0; k < 3; ++k) {
    if (!e.args[k + 1]) continue;
    const value v = eval(*e.args[k + 1]);
    if (v.is_none()) continue;
    if (!v.is_int()) raise("slice indices must be integers or None, not {}", type_name(v));
    parts[k] = v.as_int();
  }
  if (parts[2] && *parts[2] == 0) raise("slice step cannot be zero");
  if (obj.is_undefined()) return value::undefined();
  if (!obj.is_string() && !obj.is_sequence()) raise("'{}' object is not subscriptable", type_name(obj));
  const auto idx = slice_indices(length(obj), parts[0], parts[1], parts[2]);
  charge(idx.size());
  if (obj.is_string()) {
    const std::string& s = obj.str();
    if (is_ascii(s)) {
      std::string r;
      for (int64_t i : idx) r += s[static_cast<size_t>(i)];
      return value::string(std::move(r));
    }
    const auto off = char_offsets(s);
    std::string r;
    for (int64_t i : idx) {
      const auto k = static_cast<size_t>(i);
      r.append(s, off[k], off[k + 1] - off[k]);
    }
    return value::string(std::move(r));
  }
  list_t r;
  for (int64_t i : idx) r.push_back(obj.items()[static_cast<size_t>(i)]);
  return obj.kind() == vkind::list ? value::list(std::move(r)) : value::tuple(std::move(r));
}

value interpreter::eval(const expr& e) {
  const uint32_t saved_pos = pos_;
  pos_ = e.pos;
  charge(1);
  value r;
  switch (e.kind) {
    case ex::literal:
      r = e.lit;
      break;
    case ex::name: {
      const value* v = scope_->find(e.name);
      r = v ? *v : value::undefined(e.name);
      break;
    }
    case ex::list:
    case ex::tuple: {
      list_t items;
      for (const auto& a : e.args) items.push_back(eval(*a));
      r = e.kind == ex::list ? value::list(std::move(items)) : value::tuple(std::move(items));
      break;
    }
    case ex::dict: {
      dict_t d;
      for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
        value key = eval(*e.args[k]);
        d.set(key, eval(*e.args[k + 1]));
      }
      r = value::dict(std::move(d));
      break;
    }
    case ex::attr:
      r = get_attr(eval(*e.args[0]), e.name);
      break;
    case ex::item: {
      const value obj = eval(*e.args[0]);
      r = get_item(obj, eval(*e.args[1]));
      break;
    }
    case ex::slice:
      r = slice(eval(*e.args[0]), e);
      break;
    case ex::call: {
      const value callee = eval(*e.args[0]);
      const call_args args = eval_args(e, 1);
      pos_ = e.pos;
      r = call(callee, args);
      break;
    }
    case ex::filter:
      r = eval_filter(e, nullptr);
      break;
    case ex::test: {
      const value v = eval(*e.args[0]);
      const call_args args = eval_args(e, 1);
      pos_ = e.pos;
      r = value::boolean(apply_test(e.name, v, args) != e.negated);
      break;
    }
    case ex::not_:
      r = value::boolean(!truthy(eval(*e.args[0])));
      break;
    case ex::neg:
      r = op_neg(eval(*e.args[0]));
      break;
    case ex::pos: {
      r = eval(*e.args[0]);
      if (!r.is_number()) raise("bad operand type for unary +: '{}'", type_name(r));
      break;
    }
    case ex::binary: {
      const value a = eval(*e.args[0]);
      const value b = eval(*e.args[1]);
      pos_ = e.pos;
      const std::string& op = e.name;
      if (op == "~") {
        std::string s = to_str(a) + to_str(b);
        if (s.size() > max_string_bytes) raise("string result exceeds the size limit of {} bytes", max_string_bytes);
        r = value::string(std::move(s));
      } else if (op == "+") {
        r = op_add(a, b);
      } else if (op == "-") {
        r = op_sub(a, b);
      } else if (op == "*") {
        r = op_mul(a, b);
      } else if (op == "/") {
        r = op_div(a, b);
      } else if (op == "//") {
        r = op_floordiv(a, b);
      } else if (op == "%") {
        r = op_mod(a, b);
      } else {
        r = op_pow(a, b);
      }
      if (r.is_string()) charge(r.str().size() / 16);
      if (r.is_sequence()) charge(r.items().size());
      break;
    }
    case ex::and_: {
      r = eval(*e.args[0]);
      if (truthy(r)) r = eval(*e.args[1]);
      break;
    }
    case ex::or_: {
      r = eval(*e.args[0]);
      if (!truthy(r)) r = eval(*e.args[1]);
      break;
    }
    case ex::compare: {
      value left = eval(*e.args[0]);
      bool ok = true;
      for (size_t k = 0; k < e.ops.size() && ok; ++k) {
        value right = eval(*e.args[k + 1]);
        pos_ = e.pos;
        const std::string& op = e.ops[k];
        if (op == "==") ok = equals(left, right);
        else if (op == "!=") ok = !equals(left, right);
        else if (op == "<") ok = compare(left, right) < 0;
        else if (op == "<=") ok = compare(left, right) <= 0;
        else if (op == ">") ok = compare(left, right) > 0;
        else if (op == ">=") ok = compare(left, right) >= 0;
        else if (op == "in") ok = op_in(left, right);
        else ok = !op_in(left, right);
        left = std::move(right);
      }
      r = value::boolean(ok);
      break;
    }
    case ex::ternary:
      if (truthy(eval(*e.args[0]))) {
        r = eval(*e.args[1]);
      } else {
        r = e.args[2] ? eval(*e.args[2]) : value::undefined();
      }
      break;
  }
  pos_ = saved_pos;
  return r;
}

}  // namespace dianoia::detail::jinja
