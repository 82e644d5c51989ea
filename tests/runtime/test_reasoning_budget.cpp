// The reasoning budget on its own: the decisions at the maximum (wrap-up once, then close) and at the
// minimum (which sampled tokens count as trying to end the thought), and its option checks.
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "runtime/reasoning_budget.hpp"

using namespace dianoia::detail;
using action = reasoning_budget::action;

TEST_CASE("reasoning budget: at the maximum, wrap up once, then close; nothing outside the thought") {
  reasoning_budget_options o;
  o.max_tokens = 3;
  o.wrap_up_text = " Enough.";
  reasoning_budget b(o, std::nullopt);
  CHECK(b.close_text() == "\n</think>\n\n");
  CHECK(b.wrap_up_text() == " Enough.");
  for (uint32_t n = 0; n < 3; ++n) CHECK(b.next(true, n) == action::sample);
  CHECK(b.next(false, 7) == action::sample);  // not thinking: the count does not matter
  CHECK_FALSE(b.closed());
  CHECK(b.next(true, 3) == action::wrap_up);
  CHECK(b.next(true, 3) == action::close);  // the wrap-up text does not count as sampled reasoning
  CHECK(b.closed());
  CHECK(b.next(true, 10) == action::sample);  // once per generation
}

TEST_CASE("reasoning budget: unlimited, and a zero maximum closes before the first token") {
  reasoning_budget none({}, std::nullopt);
  for (uint32_t n : {0u, 100u, 100000u}) CHECK(none.next(true, n) == action::sample);
  reasoning_budget_options o;
  o.max_tokens = 0;
  o.close_text = "</think>";
  reasoning_budget zero(o, std::nullopt);
  CHECK(zero.close_text() == "</think>");
  CHECK(zero.next(true, 0) == action::wrap_up);
  CHECK(zero.next(true, 0) == action::close);
}

TEST_CASE("reasoning budget: below the minimum, attempts to end the thought are refused") {
  reasoning_budget_options o;
  o.min_tokens = 4;
  o.continue_text = " Wait";
  const int32_t close_id = 77;
  reasoning_budget b(o, close_id);
  CHECK(b.continue_text() == " Wait");
  CHECK(b.refuses(0, close_id, "</think>", false));      // the tag as one token
  CHECK(b.refuses(3, 5, "", true));                      // end of generation
  CHECK(b.refuses(1, 9, " </", false));                  // the first piece of a textual tag
  CHECK(b.refuses(1, 9, "x</think>", false));            // a piece holding all of it
  CHECK_FALSE(b.refuses(1, 9, "<", false));              // one character is too little to tell
  CHECK_FALSE(b.refuses(1, 9, "</b>", false));           // another tag
  CHECK_FALSE(b.refuses(1, 9, " ", false));
  CHECK_FALSE(b.refuses(1, 9, "hello", false));
  CHECK_FALSE(b.refuses(4, close_id, "</think>", false));  // minimum reached
  CHECK_FALSE(b.refuses(4, 5, "", true));
  CHECK(b.ends_thought(close_id, "anything"));
  reasoning_budget no_id(o, std::nullopt);
  CHECK_FALSE(no_id.ends_thought(close_id, "anything"));
}

TEST_CASE("reasoning budget: options are checked") {
  auto bad = [](reasoning_budget_options o) {
    CHECK_THROWS_AS(reasoning_budget(o, std::nullopt), dianoia::detail::error);
  };
  reasoning_budget_options o;
  o.min_tokens = -1;
  bad(o);
  o = {};
  o.min_tokens = 5;
  o.max_tokens = 4;
  bad(o);
  o = {};
  o.min_tokens = 1;
  o.continue_text = " \n ";
  bad(o);
  o = {};
  o.close_tag = "";
  bad(o);
  o = {};
  o.wrap_up_text = "\xff";
  bad(o);
  o = {};
  o.continue_text = "\xc3";
  bad(o);
  o = {};
  o.min_tokens = 4;
  o.max_tokens = 4;
  CHECK_NOTHROW(reasoning_budget(o, std::nullopt));
}
