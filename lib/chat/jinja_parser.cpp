// Recursive-descent parser following jinja2's grammar and operator precedence (loosest first):
// conditional, or, and, not, comparison, + -, ~, * / // %, **, unary - +, then postfix access, calls,
// filters and tests (which therefore bind tighter than any binary operator).
#include <cmath>
#include <cstdlib>
#include <initializer_list>

#include "chat/jinja_ast.hpp"
#include "chat/jinja_lexer.hpp"

namespace dianoia::detail::jinja {
namespace {

// Bounds the C++ recursion a hostile template can cause through nesting.
constexpr int max_parse_depth = 200;

class parser {
 public:
  parser(std::string_view src, std::vector<token> toks) : src_(src), toks_(std::move(toks)) {}

  stmt_list parse_all() {
    std::string_view end;
    return body({}, end);
  }

 private:
  std::string_view src_;
  std::vector<token> toks_;
  size_t i_ = 0;
  int depth_ = 0;

  struct depth_guard {
    parser& p;
    explicit depth_guard(parser& q) : p(q) {
      if (++p.depth_ > max_parse_depth) p.fail(p.cur(), fmt::format("nesting deeper than {} levels", max_parse_depth));
    }
    ~depth_guard() { --p.depth_; }
  };

  const token& cur() const { return toks_[i_]; }
  const token& peek(size_t k = 1) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  const token& advance() { return toks_[i_ < toks_.size() - 1 ? i_++ : i_]; }

  [[noreturn]] void fail(const token& t, std::string_view msg) const { fail_at(src_, t.pos, msg); }

  static std::string describe(const token& t) {
    switch (t.type) {
      case tok::eof: return "end of template";
      case tok::var_end: return "'}}'";
      case tok::block_end: return "'%}'";
      case tok::text: return "text";
      case tok::string: return "string literal";
      default: return "'" + t.text + "'";
    }
  }

  bool is_op(std::string_view op) const { return cur().type == tok::op && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == tok::name && cur().text == n; }
  bool accept_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool accept_name(std::string_view n) {
    if (!is_name(n)) return false;
    advance();
    return true;
  }
  void expect_op(std::string_view op) {
    if (!accept_op(op)) fail(cur(), fmt::format("expected '{}', got {}", op, describe(cur())));
  }
  std::string expect_name() {
    if (cur().type != tok::name) fail(cur(), fmt::format("expected a name, got {}", describe(cur())));
    return advance().text;
  }
  void expect_block_end() {
    if (cur().type != tok::block_end) fail(cur(), fmt::format("expected end of block tag, got {}", describe(cur())));
    advance();
  }

  // Statements up to a block tag whose keyword is in `ends` (consumed; `which` tells which one), or
  // to the end of the template when `ends` is empty.
  stmt_list body(std::initializer_list<std::string_view> ends, std::string_view& which) {
    depth_guard g(*this);
    stmt_list out;
    while (true) {
      const token& t = cur();
      switch (t.type) {
        case tok::text: {
          auto s = std::make_unique<stmt>(st::text, t.pos);
          s->text = t.text;
          out.push_back(std::move(s));
          advance();
          break;
        }
        case tok::var_begin: {
          auto s = std::make_unique<stmt>(st::output, t.pos);
          advance();
          s->e = tuple_expr(true, false);
          if (cur().type != tok::var_end) fail(cur(), fmt::format("expected '}}}}', got {}", describe(cur())));
          advance();
          out.push_back(std::move(s));
          break;
        }
        case tok::block_begin: {
          const token& kw = peek();
          if (kw.type == tok::name) {
            for (auto e : ends) {
              if (kw.text == e) {
                which = e;
                advance();
                advance();
                return out;
              }
            }
          }
          out.push_back(statement());
          break;
        }
        case tok::eof:
          if (ends.size() != 0) fail(t, fmt::format("unexpected end of template, expected '{}'", *(ends.end() - 1)));
          return out;
        default:
          fail(t, fmt::format("unexpected {}", describe(t)));
      }
    }
  }

  stmt_ptr statement() {
    const token& begin = advance();
    if (cur().type != tok::name) fail(cur(), "expected a statement keyword");
    const token& kw = advance();
    const uint32_t pos = begin.pos;
    std::string_view which;
    if (kw.text == "if") {
      auto s = std::make_unique<stmt>(st::if_, pos);
      expr_ptr cond = expression(true);
      while (true) {
        expect_block_end();
        stmt_list b = body({"elif", "else", "endif"}, which);
        s->branches.emplace_back(std::move(cond), std::move(b));
        if (which == "endif") break;
        if (which == "else") {
          expect_block_end();
          s->branches.emplace_back(nullptr, body({"endif"}, which));
          break;
        }
        cond = expression(true);
      }
      expect_block_end();
      return s;
    }
    if (kw.text == "for") {
      auto s = std::make_unique<stmt>(st::for_, pos);
      s->target = assign_target(false);
      if (!accept_name("in")) fail(cur(), fmt::format("expected 'in', got {}", describe(cur())));
      s->e = tuple_expr(false, false);
      if (accept_name("if")) s->cond = expression(true);
      if (is_name("recursive")) fail(cur(), "recursive for loops are not supported");
      expect_block_end();
      s->body = body({"else", "endfor"}, which);
      if (which == "else") {
        expect_block_end();
        s->else_body = body({"endfor"}, which);
      }
      expect_block_end();
      return s;
    }
    if (kw.text == "set") {
      auto target = assign_target(true);
      if (accept_op("=")) {
        auto s = std::make_unique<stmt>(st::set, pos);
        s->target = std::move(target);
        s->e = tuple_expr(true, false);
        expect_block_end();
        return s;
      }
      auto s = std::make_unique<stmt>(st::set_block, pos);
      if (target->kind != ex::name) fail(cur(), "a block assignment needs a plain name");
      s->target = std::move(target);
      if (is_op("|")) s->e = filters(nullptr);
      expect_block_end();
      s->body = body({"endset"}, which);
      expect_block_end();
      return s;
    }
    if (kw.text == "macro") {
      auto s = std::make_unique<stmt>(st::macro, pos);
      s->text = expect_name();
      param_list(*s);
      expect_block_end();
      s->body = body({"endmacro"}, which);
      if (cur().type == tok::name) advance();  // {% endmacro name %}
      expect_block_end();
      return s;
    }
    if (kw.text == "call") {
      auto s = std::make_unique<stmt>(st::call_block, pos);
      if (is_op("(")) param_list(*s);
      s->e = expression(true);
      if (s->e->kind != ex::call) fail(cur(), "expected a call after 'call'");
      expect_block_end();
      s->body = body({"endcall"}, which);
      expect_block_end();
      return s;
    }
    if (kw.text == "filter") {
      auto s = std::make_unique<stmt>(st::filter_block, pos);
      s->e = filter_chain(nullptr, kw.pos);
      expect_block_end();
      s->body = body({"endfilter"}, which);
      expect_block_end();
      return s;
    }
    if (kw.text == "with") {
      auto s = std::make_unique<stmt>(st::with, pos);
      while (cur().type != tok::block_end) {
        if (!s->params.empty()) expect_op(",");
        std::string name = expect_name();
        expect_op("=");
        s->params.emplace_back(std::move(name), expression(true));
      }
      expect_block_end();
      s->body = body({"endwith"}, which);
      expect_block_end();
      return s;
    }
    if (kw.text == "break" || kw.text == "continue") {
      auto s = std::make_unique<stmt>(kw.text == "break" ? st::break_ : st::continue_, pos);
      expect_block_end();
      return s;
    }
    if (kw.text == "generation") {
      // HF's marker for assistant-token masks; it renders its body unchanged.
      auto s = std::make_unique<stmt>(st::scope, pos);
      expect_block_end();
      s->body = body({"endgeneration"}, which);
      expect_block_end();
      return s;
    }
    fail(kw, fmt::format("unknown or unexpected tag '{}'", kw.text));
  }

  void param_list(stmt& s) {
    expect_op("(");
    while (!accept_op(")")) {
      if (!s.params.empty()) expect_op(",");
      if (accept_op(")")) break;
      std::string name = expect_name();
      expr_ptr def;
      if (accept_op("=")) def = expression(true);
      s.params.emplace_back(std::move(name), std::move(def));
    }
  }

  // Names (and, for set, ns.attr) optionally forming a tuple: "a", "a, b", "(a, b)", "ns.x".
  expr_ptr assign_target(bool allow_attr) {
    const uint32_t pos = cur().pos;
    if (accept_op("(")) {
      expr_ptr t = assign_target(false);
      expect_op(")");
      return t;
    }
    auto one = [&]() {
      auto n = std::make_unique<expr>(ex::name, cur().pos);
      n->name = expect_name();
      if (allow_attr && is_op(".")) {
        advance();
        auto a = std::make_unique<expr>(ex::attr, n->pos);
        a->name = expect_name();
        a->args.push_back(std::move(n));
        return a;
      }
      return n;
    };
    expr_ptr first = one();
    if (!is_op(",")) return first;
    auto t = std::make_unique<expr>(ex::tuple, pos);
    t->args.push_back(std::move(first));
    while (accept_op(",")) {
      if (cur().type != tok::name) break;
      t->args.push_back(one());
    }
    return t;
  }

  bool tuple_end() const {
    return cur().type == tok::var_end || cur().type == tok::block_end || cur().type == tok::eof || is_op(")") ||
           is_name("if") || is_name("recursive");
  }

  // An expression that may be an unparenthesised tuple ("a, b").
  expr_ptr tuple_expr(bool with_condexpr, bool explicit_parens) {
    const uint32_t pos = cur().pos;
    std::vector<expr_ptr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (tuple_end() && (explicit_parens || !items.empty())) break;
      items.push_back(expression(with_condexpr));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple && !items.empty()) return std::move(items[0]);
    if (!is_tuple && !explicit_parens) fail(cur(), fmt::format("expected an expression, got {}", describe(cur())));
    auto t = std::make_unique<expr>(ex::tuple, pos);
    t->args = std::move(items);
    return t;
  }

  expr_ptr expression(bool with_condexpr) {
    depth_guard g(*this);
    if (!with_condexpr) return or_expr();
    expr_ptr e = or_expr();
    while (is_name("if")) {
      auto t = std::make_unique<expr>(ex::ternary, cur().pos);
      advance();
      t->args.push_back(or_expr());
      t->args.push_back(std::move(e));
      t->args.push_back(accept_name("else") ? expression(true) : nullptr);
      e = std::move(t);
    }
    return e;
  }

  expr_ptr binary(ex kind, uint32_t pos, expr_ptr l, expr_ptr r, std::string op = {}) {
    auto b = std::make_unique<expr>(kind, pos);
    b->name = std::move(op);
    b->args.push_back(std::move(l));
    b->args.push_back(std::move(r));
    return b;
  }

  expr_ptr or_expr() {
    expr_ptr l = and_expr();
    while (is_name("or")) {
      const uint32_t p = advance().pos;
      l = binary(ex::or_, p, std::move(l), and_expr());
    }
    return l;
  }
  expr_ptr and_expr() {
    expr_ptr l = not_expr();
    while (is_name("and")) {
      const uint32_t p = advance().pos;
      l = binary(ex::and_, p, std::move(l), not_expr());
    }
    return l;
  }
  expr_ptr not_expr() {
    if (is_name("not")) {
      depth_guard g(*this);
      auto n = std::make_unique<expr>(ex::not_, advance().pos);
      n->args.push_back(not_expr());
      return n;
    }
    return compare_expr();
  }
  expr_ptr compare_expr() {
    const uint32_t pos = cur().pos;
    expr_ptr first = math1();
    std::unique_ptr<expr> c;
    while (true) {
      std::string op;
      if (cur().type == tok::op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                    cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = advance().text;
      } else if (is_name("in")) {
        advance();
        op = "in";
      } else if (is_name("not") && peek().type == tok::name && peek().text == "in") {
        advance();
        advance();
        op = "not in";
      } else {
        break;
      }
      if (!c) {
        c = std::make_unique<expr>(ex::compare, pos);
        c->args.push_back(std::move(first));
      }
      c->ops.push_back(std::move(op));
      c->args.push_back(math1());
    }
    return c ? std::move(c) : std::move(first);
  }
  expr_ptr math1() {
    expr_ptr l = concat();
    while (is_op("+") || is_op("-")) {
      const token& t = advance();
      l = binary(ex::binary, t.pos, std::move(l), concat(), t.text);
    }
    return l;
  }
  expr_ptr concat() {
    expr_ptr l = math2();
    while (is_op("~")) {
      const uint32_t p = advance().pos;
      l = binary(ex::binary, p, std::move(l), math2(), "~");
    }
    return l;
  }
  expr_ptr math2() {
    expr_ptr l = power();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const token& t = advance();
      l = binary(ex::binary, t.pos, std::move(l), power(), t.text);
    }
    return l;
  }
  expr_ptr power() {
    expr_ptr l = unary(true);
    while (is_op("**")) {
      const uint32_t p = advance().pos;
      l = binary(ex::binary, p, std::move(l), unary(true), "**");
    }
    return l;
  }
  expr_ptr unary(bool with_filter) {
    depth_guard g(*this);
    expr_ptr e;
    if (is_op("-") || is_op("+")) {
      const token& t = advance();
      e = std::make_unique<expr>(t.text == "-" ? ex::neg : ex::pos, t.pos);
      e->args.push_back(unary(false));
    } else {
      e = primary();
    }
    e = postfix(std::move(e));
    if (with_filter) e = filter_expr(std::move(e));
    return e;
  }

  expr_ptr literal(uint32_t pos, value v) {
    auto e = std::make_unique<expr>(ex::literal, pos);
    e->lit = std::move(v);
    return e;
  }

  expr_ptr primary() {
    const token& t = cur();
    switch (t.type) {
      case tok::name: {
        advance();
        if (t.text == "true" || t.text == "True") return literal(t.pos, value::boolean(true));
        if (t.text == "false" || t.text == "False") return literal(t.pos, value::boolean(false));
        if (t.text == "none" || t.text == "None") return literal(t.pos, value::none());
        auto e = std::make_unique<expr>(ex::name, t.pos);
        e->name = t.text;
        return e;
      }
      case tok::string: {
        std::string s = advance().text;
        while (cur().type == tok::string) s += advance().text;  // adjacent literals concatenate
        return literal(t.pos, value::string(std::move(s)));
      }
      case tok::integer: {
        advance();
        errno = 0;
        const long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) fail(t, "integer literal out of range");
        return literal(t.pos, value::integer(v));
      }
      case tok::floating:
        advance();
        return literal(t.pos, value::floating(std::strtod(t.text.c_str(), nullptr)));
      case tok::op:
        if (t.text == "(") {
          advance();
          expr_ptr e = tuple_expr(true, true);
          expect_op(")");
          return e;
        }
        if (t.text == "[") {
          auto e = std::make_unique<expr>(ex::list, advance().pos);
          while (!accept_op("]")) {
            if (!e->args.empty()) expect_op(",");
            if (accept_op("]")) break;
            e->args.push_back(expression(true));
          }
          return e;
        }
        if (t.text == "{") {
          auto e = std::make_unique<expr>(ex::dict, advance().pos);
          while (!accept_op("}")) {
            if (!e->args.empty()) expect_op(",");
            if (accept_op("}")) break;
            e->args.push_back(expression(true));
            expect_op(":");
            e->args.push_back(expression(true));
          }
          return e;
        }
        break;
      default:
        break;
    }
    fail(t, fmt::format("unexpected {}", describe(t)));
  }

  expr_ptr postfix(expr_ptr e) {
    while (true) {
      if (is_op(".")) {
        const uint32_t p = advance().pos;
        if (cur().type == tok::name) {
          auto a = std::make_unique<expr>(ex::attr, p);
          a->name = advance().text;
          a->args.push_back(std::move(e));
          e = std::move(a);
        } else if (cur().type == tok::integer) {
          auto a = std::make_unique<expr>(ex::item, p);
          a->args.push_back(std::move(e));
          a->args.push_back(literal(cur().pos, value::integer(std::strtoll(cur().text.c_str(), nullptr, 10))));
          advance();
          e = std::move(a);
        } else {
          fail(cur(), fmt::format("expected an attribute name, got {}", describe(cur())));
        }
      } else if (is_op("[")) {
        e = subscript(std::move(e));
      } else if (is_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  expr_ptr subscript(expr_ptr target) {
    const uint32_t p = advance().pos;  // '['
    expr_ptr parts[3];
    bool is_slice = false;
    int k = 0;
    while (true) {
      if (is_op(":")) {
        advance();
        is_slice = true;
        if (++k > 2) fail(cur(), "too many ':' in slice");
        continue;
      }
      if (is_op("]")) break;
      if (parts[k]) fail(cur(), "expected ':' or ']'");
      parts[k] = expression(true);
    }
    advance();
    if (!is_slice) {
      if (!parts[0]) fail(toks_[i_ - 1], "empty subscript");
      return binary(ex::item, p, std::move(target), std::move(parts[0]));
    }
    auto s = std::make_unique<expr>(ex::slice, p);
    s->args.push_back(std::move(target));
    for (auto& part : parts) s->args.push_back(std::move(part));
    return s;
  }

  // Parses "(args)" into e (positional after args[0], keywords in kwargs).
  void call_args(expr& e) {
    expect_op("(");
    bool first = true;
    while (!accept_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (accept_op(")")) break;
      if (is_op("*") || is_op("**")) fail(cur(), "argument unpacking is not supported");
      if (cur().type == tok::name && peek().type == tok::op && peek().text == "=") {
        std::string name = advance().text;
        advance();
        e.kwargs.emplace_back(std::move(name), expression(true));
      } else {
        if (!e.kwargs.empty()) fail(cur(), "positional argument after keyword argument");
        e.args.push_back(expression(true));
      }
    }
  }

  expr_ptr call(expr_ptr callee) {
    auto c = std::make_unique<expr>(ex::call, callee->pos);
    c->args.push_back(std::move(callee));
    call_args(*c);
    return c;
  }

  expr_ptr filter_chain(expr_ptr operand, uint32_t pos) {
    auto f = std::make_unique<expr>(ex::filter, pos);
    f->name = expect_name();
    f->args.push_back(std::move(operand));
    if (is_op("(")) call_args(*f);
    while (is_op("|")) {
      const uint32_t p = advance().pos;
      expr_ptr inner = std::move(f);
      f = std::make_unique<expr>(ex::filter, p);
      f->name = expect_name();
      f->args.push_back(std::move(inner));
      if (is_op("(")) call_args(*f);
    }
    return f;
  }

  expr_ptr filters(expr_ptr operand) {
    const uint32_t p = advance().pos;  // '|'
    return filter_chain(std::move(operand), p);
  }

  expr_ptr filter_expr(expr_ptr e) {
    while (true) {
      if (is_op("|")) {
        e = filters(std::move(e));
      } else if (is_name("is")) {
        auto t = std::make_unique<expr>(ex::test, advance().pos);
        t->negated = accept_name("not");
        t->name = expect_name();
        t->args.push_back(std::move(e));
        const token& n = cur();
        if (is_op("(")) {
          call_args(*t);
        } else if ((n.type == tok::name || n.type == tok::string || n.type == tok::integer ||
                    n.type == tok::floating || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          if (is_name("is")) fail(n, "tests cannot be chained with 'is'");
          t->args.push_back(postfix(primary()));
        }
        e = std::move(t);
      } else if (is_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }
};

}  // namespace

template_ast parse_template(std::string_view src) {
  template_ast t;
  t.source = normalize_source(src);
  parser p(t.source, lex(t.source));
  t.body = p.parse_all();
  return t;
}

}  // namespace dianoia::detail::jinja
