// Syntax tree of a parsed template. Nodes are generic (a kind plus operands) rather than one class per
// construct: the interpreter switches on the kind, and every node keeps the source offset its errors
// are reported at.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja_value.hpp"

namespace dianoia::detail::jinja {

enum class ex : uint8_t {
  literal,   // lit
  name,      // name
  list,      // args = items
  tuple,     // args = items
  dict,      // args = key, value, key, value, ...
  attr,      // args[0].name
  item,      // args[0][args[1]]
  slice,     // args[0][args[1]:args[2]:args[3]], absent parts null
  call,      // args[0](args[1..], kwargs)
  filter,    // args[0] | name(args[1..], kwargs); args[0] null inside a filter block
  test,      // args[0] is [not] name(args[1..]); negated
  not_,      // not args[0]
  neg,       // -args[0]
  pos,       // +args[0]
  binary,    // args[0] <name> args[1] for + - * / // % ** ~
  and_,      // args[0] and args[1]
  or_,       // args[0] or args[1]
  compare,   // args[0] ops[0] args[1] ops[1] args[2] ... (chained as in Python)
  ternary,   // args[1] if args[0] else args[2] (args[2] may be null)
};

struct expr;
using expr_ptr = std::unique_ptr<expr>;

struct expr {
  ex kind;
  uint32_t pos;
  bool negated = false;
  std::string name;
  value lit;
  std::vector<expr_ptr> args;
  std::vector<std::pair<std::string, expr_ptr>> kwargs;
  std::vector<std::string> ops;

  expr(ex k, uint32_t p) : kind(k), pos(p) {}
};

enum class st : uint8_t {
  text,          // text
  output,        // {{ e }}
  if_,           // branches (cond, body); a null cond is the else branch
  for_,          // for target in e [if cond]: body, else_body
  set,           // set target = e
  set_block,     // set target [| filters in e]: body
  macro,         // macro text(params): body
  call_block,    // call(params) e: body
  filter_block,  // filter e: body
  with,          // with params: body
  break_,
  continue_,
  scope,         // plain nested body (HF's generation tag)
};

struct stmt;
using stmt_ptr = std::unique_ptr<stmt>;
using stmt_list = std::vector<stmt_ptr>;

struct stmt {
  st kind;
  uint32_t pos;
  std::string text;
  expr_ptr target, e, cond;
  stmt_list body, else_body;
  std::vector<std::pair<expr_ptr, stmt_list>> branches;
  std::vector<std::pair<std::string, expr_ptr>> params;  // name and default (or value, for with)

  stmt(st k, uint32_t p) : kind(k), pos(p) {}
};

// A parsed template: the normalised source (for error locations) and its statements.
struct template_ast {
  std::string source;
  stmt_list body;
};

// Parses a template; syntax errors are error(format) with line and column.
template_ast parse_template(std::string_view src);

}  // namespace dianoia::detail::jinja
