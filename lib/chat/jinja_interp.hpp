// Tree-walking renderer for a parsed template. Scoping follows jinja2: a for-loop iteration, a macro
// call and a with block get their own frame (assignments inside do not leak out), if-blocks do not.
// Every render is bounded in output size, memory held at once by its values (render_memory), bytes
// allocated in all, loop iterations, call depth and total evaluation work, so a hostile template fails
// with error(format) instead of hanging or exhausting memory.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "chat/jinja_ast.hpp"
#include "chat/jinja_value.hpp"

namespace dianoia::detail::jinja {

struct render_limits {
  size_t max_output = size_t{16} << 20;     // bytes of rendered text
  uint64_t max_iterations = 1'000'000;      // loop iterations, all loops together
  int max_depth = 64;                       // nested macro / callable calls
  uint64_t max_steps = 10'000'000;         // evaluation work: nodes, plus bytes/16 of text produced
  // Bytes held at once by the values the render made (strings, lists, dicts) and its output: what one
  // render can occupy, however its values are nested or piled up.
  size_t max_live_bytes = size_t{32} << 20;
  // Bytes the render's values may allocate in all, freed or not: bounds the copying (the time) of
  // templates that rebuild big strings in a loop.
  uint64_t max_alloc_bytes = uint64_t{1} << 30;
};

// What the last render used (also after it failed), for tests and diagnostics.
struct render_stats {
  uint64_t steps = 0, iterations = 0;
  size_t peak_bytes = 0;       // highest live bytes of values and output (see render_limits::max_live_bytes)
  uint64_t alloc_bytes = 0;    // all bytes charged
};

struct frame {
  std::shared_ptr<frame> parent;
  std::vector<std::pair<std::string, value>> vars;

  const value* find(std::string_view name) const;
  void set(std::string_view name, value v);
};

class interpreter {
 public:
  explicit interpreter(const template_ast& t, render_limits limits = {});

  // Renders the template with `globals` as the outermost scope (after the built-in functions).
  std::string render(const std::vector<std::pair<std::string, value>>& globals);

  // For filters and built-ins.
  value call(const value& callee, const call_args& args);
  value apply_filter(std::string_view name, const value& v, const call_args& args);
  bool apply_test(std::string_view name, const value& v, const call_args& args);
  // Accounts for work proportional to data size (sorting, joining, building lists).
  void charge(uint64_t units);
  const render_limits& limits() const { return limits_; }
  render_stats stats() const;

  // Records a list or namespace a template mutated (list.append, set ns.x): only mutation can make a
  // container reach itself, so these and the frames macros close over are emptied when a render ends,
  // which frees any reference cycle the template built.
  void note_mutated(const value& container);

  // Called by macro objects.
  value call_macro(const stmt& def, const std::shared_ptr<frame>& closure, const call_args& args);

 private:
  enum class flow { normal, break_, continue_ };

  const template_ast& t_;
  render_limits limits_;
  std::shared_ptr<frame> scope_;
  std::string* out_ = nullptr;
  std::shared_ptr<render_memory> mem_;
  size_t out_charged_ = 0;  // bytes of out_ charged to mem_ (a capture's text is a value once captured)
  uint32_t pos_ = 0;
  uint64_t iterations_ = 0, steps_ = 0;
  int depth_ = 0;
  std::vector<std::weak_ptr<frame>> closures_;
  std::vector<value> mutated_;  // each distinct container once (see note_mutated)
  std::unordered_set<const void*> mutated_ids_;

  void release_cycles();

  void emit(std::string_view s);
  flow exec(const stmt_list& body);
  flow exec(const stmt& s);
  flow exec_for(const stmt& s);
  std::string capture(const stmt_list& body);
  void assign(const expr& target, const value& v);

  value eval(const expr& e);
  value eval_filter(const expr& e, const value* block_input);
  call_args eval_args(const expr& e, size_t first);
  value get_attr(const value& obj, std::string_view name);
  value get_item(const value& obj, const value& key);
  value slice(const value& obj, const expr& e);

  void check_names(const stmt_list& body);
  void check_names(const expr* e);
};

}  // namespace dianoia::detail::jinja
