// A whole render's budget: templates that amplify memory or work (piled-up strings each under the
// per-string limit, repeated concatenation, filters over big lists, recursion that holds a value per
// frame) fail with a clear error after a bounded amount of work and memory. The bounds are asserted on
// the interpreter's own counts (render_stats), not on wall time.
#include <doctest/doctest.h>

#include <string>

#include "chat/jinja_ast.hpp"
#include "chat/jinja_interp.hpp"
#include "core/error.hpp"

using namespace dianoia;
namespace jj = dianoia::detail::jinja;

namespace {

constexpr size_t MiB = size_t{1} << 20;

struct outcome {
  std::string error;
  jj::render_stats stats;
};

outcome run(const std::string& tmpl, jj::render_limits lim = {}) {
  const jj::template_ast ast = jj::parse_template(tmpl);
  jj::interpreter in(ast, lim);
  outcome o;
  try {
    in.render({});
  } catch (const detail::error& e) {
    CHECK(e.code() == detail::errc::format);
    o.error = e.what();
  }
  o.stats = in.stats();
  return o;
}

// The default limits hold: live bytes within 32 MiB (the peak may pass it only by the one value whose
// charge was refused, which is never counted), all allocations within 1 GiB.
void check_bounded(const outcome& o) {
  CAPTURE(o.error);
  CHECK(o.stats.peak_bytes <= jj::render_limits{}.max_live_bytes);
  CHECK(o.stats.alloc_bytes <= jj::render_limits{}.max_alloc_bytes);
  CHECK(o.stats.steps <= jj::render_limits{}.max_steps + jj::render_limits{}.max_steps / 8);  // one charge past it
}

}  // namespace

TEST_CASE("render budget: strings each under the per-string limit cannot pile up") {
  // 100 strings of 15 MB appended to a list: 1.5 GB without a whole-render bound.
  const auto o = run(
      "{% set ns = namespace(l=[]) %}{% for i in range(100) %}"
      "{% set _ = ns.l.append(('x' * 15000000) ~ i) %}{% endfor %}{{ ns.l | length }}");
  CHECK(o.error.find("memory limit: its values would hold more than 32 MiB at once") != std::string::npos);
  CHECK(o.error.find("line 1") != std::string::npos);
  check_bounded(o);
  CHECK(o.stats.iterations <= 3);  // stopped at the second or third string
  CHECK(o.stats.peak_bytes >= 28 * MiB);
}

TEST_CASE("render budget: nested joins") {
  // Each level joins the previous one's strings (5, 10, 15, 15 MB), each kept alive by a name.
  const auto o = run(
      "{% set a = 'a' * 5000000 %}{% set b = [a, a] | join %}{% set c = [b, a] | join %}"
      "{% set d = [c] | join(',') %}{{ d | length }}");
  CHECK(o.error.find("memory limit") != std::string::npos);
  check_bounded(o);
}

TEST_CASE("render budget: repeated concatenation and rebuilding are bounded in bytes copied, not only in size") {
  // The string grows by 1 KB per iteration; copying it each time would move ~128 GB before the 16 MiB
  // per-string limit stopped it. The work it charges (its bytes / 16 per copy) stops it first.
  const auto cat = run(
      "{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s ~ ('y' * 1000) %}{% endfor %}"
      "{{ ns.s | length }}");
  CHECK(cat.error.find("limit") != std::string::npos);
  check_bounded(cat);
  CHECK(cat.stats.iterations < 2000);
  CHECK(cat.stats.peak_bytes < 8 * MiB);  // the old value is freed as the new one is made

  // A 15 MB string made afresh in each of 1000 iterations (15 GB of copying, never more than two alive):
  // the work charged for the bytes made (1 step per 16) stops it after ~10 of them; the allocation
  // budget (1 GiB) is the backstop for any operation that makes bytes without charging them.
  const char* rebuild = "{% for i in range(1000) %}{% set s = 'y' * 15000000 %}{% endfor %}done";
  const auto o = run(rebuild);
  CHECK(o.error.find("evaluation step limit") != std::string::npos);
  check_bounded(o);
  CHECK(o.stats.iterations <= 72);
  CHECK(o.stats.peak_bytes <= 31 * MiB);
  // A smaller allocation budget stops it first, proportionally sooner.
  jj::render_limits lim;
  lim.max_alloc_bytes = 64 * MiB;
  const auto small = run(rebuild, lim);
  CHECK(small.error.find("more than 64 MiB in all") != std::string::npos);
  CHECK(small.stats.alloc_bytes <= 64 * MiB);
  CHECK(small.stats.iterations <= 5);
}

TEST_CASE("render budget: filters over a list of big strings") {
  const auto upper = run("{% set big = 'z' * 10000000 %}{{ [big, big, big, big] | map('upper') | list | length }}");
  CHECK(upper.error.find("memory limit") != std::string::npos);
  check_bounded(upper);
  const auto repl = run("{% set big = 'z' * 6000000 %}{{ ([big] * 8) | map('replace', 'z', 'zz') | join | length }}");
  CHECK(repl.error.find("memory limit") != std::string::npos);
  check_bounded(repl);
  // A list of 500,000 references to one string holds one string and 500,000 slots, not 500,000 strings.
  const auto refs = run("{% set big = 'r' * 1000000 %}{{ ([big] * 500000) | length }}");
  CHECK(refs.error.empty());
  CHECK(refs.stats.peak_bytes < 20 * MiB);
}

TEST_CASE("render budget: recursion through macros that hold a value per frame") {
  const auto o = run(
      "{% macro f(n) %}{% set s = 'm' * 1000000 ~ n %}{{ f(n + 1) }}{{ s | length }}{% endmacro %}{{ f(0) }}");
  CHECK(o.error.find("memory limit") != std::string::npos);
  check_bounded(o);
  // Doubling the argument at each level.
  const auto d = run("{% macro g(s) %}{{ g(s ~ s) }}{% endmacro %}{{ g('d' * 1000) }}");
  CHECK((d.error.find("memory limit") != std::string::npos || d.error.find("size limit") != std::string::npos));
  check_bounded(d);
}

TEST_CASE("render budget: the output counts, captured text counts once, and a normal render is small") {
  jj::render_limits lim;
  lim.max_live_bytes = 1 * MiB;
  const auto out = run("{% for i in range(2000) %}{{ 'o' * 1000 }}{% endfor %}", lim);
  CHECK(out.error.find("more than 1 MiB at once") != std::string::npos);
  CHECK(out.stats.peak_bytes <= 1 * MiB);
  // Text captured by {% set %} blocks moves from the output's count to its value's.
  const auto cap = run("{% for i in range(100) %}{% set x %}{{ 'c' * 4000 }}{% endset %}{% endfor %}ok", lim);
  CHECK(cap.error.empty());
  CHECK(cap.stats.peak_bytes < 64 * 1024);
  const auto small = run("{% for m in range(10) %}<|user|>{{ 'hello ' ~ m }}\n{% endfor %}");
  CHECK(small.error.empty());
  CHECK(small.stats.peak_bytes < 16 * 1024);
}
