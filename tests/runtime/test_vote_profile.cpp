// Self-consistency answer extraction and voting; reasoning profiles of real chat templates.
#include <doctest/doctest.h>

#include "runtime/reasoning_profile.hpp"
#include "runtime/vote.hpp"
#include "test_support.hpp"
#include "tokenizer/vocab.hpp"

using namespace dianoia::detail;
using namespace dianoia::test;

TEST_CASE("extract_boxed: the last box, nested braces, unterminated") {
  CHECK(extract_boxed("so \\boxed{4}.") == "4");
  CHECK(extract_boxed("\\boxed{1} then \\boxed{ \\frac{1}{2} }") == "\\frac{1}{2}");
  CHECK_FALSE(extract_boxed("\\boxed{open"));
  CHECK_FALSE(extract_boxed("no box"));
}

TEST_CASE("extract_last_number: signs, separators, decimals, sentence ends") {
  CHECK(extract_last_number("2+2 is 4.") == "4");
  CHECK(extract_last_number("it costs 1,250 dollars") == "1250");
  CHECK(extract_last_number("x = -3.5") == "-3.5");
  CHECK(extract_last_number("first 3 then 17") == "17");
  CHECK_FALSE(extract_last_number("none here"));
  CHECK(extract_answer("maybe 3, so \\boxed{5} wait 7") == "5");
  CHECK(extract_answer("maybe 3, wait 7") == "7");
}

TEST_CASE("majority_vote: counts, abstentions, ties go to the earlier answer") {
  auto r = majority_vote({"4", std::nullopt, " 4", "5", "4"});
  REQUIRE(r.winner());
  CHECK(r.winner()->answer == "4");
  CHECK(r.winner()->count == 3);
  CHECK(r.abstained == 1);
  CHECK_FALSE(r.tie);
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[1].answer == "5");

  auto t = majority_vote({"7", "6", "6", "7", "1"});
  CHECK(t.tie);
  CHECK(t.winner()->answer == "7");  // both have 2; "7" came first (sample 0)
  CHECK(t.winner()->first_sample == 0);
  CHECK(t.entries[1].answer == "6");

  auto none = majority_vote({std::nullopt, std::nullopt});
  CHECK(none.winner() == nullptr);
  CHECK(none.abstained == 2);
}

TEST_CASE("reasoning profiles of real templates") {
  const std::string qdir = data_dir() + "/tokenizers/qwen3/";
  if (!file_exists(qdir + "tokenizer.json")) {
    MESSAGE("shared tokenizers missing: skipped");
    return;
  }
  const std::string cfg = read_file(qdir + "tokenizer_config.json");
  auto tok = tokenizer::from_vocab(load_vocab_hf(read_file(qdir + "tokenizer.json"), cfg));
  SUBCASE("Qwen3: enable_thinking, tags are tokens") {
    auto p = detect_reasoning_profile(load_chat_template_hf(cfg), *tok, "", "<|im_end|>");
    CHECK(p.family == "qwen3");
    CHECK(p.has_enable_thinking);
    CHECK_FALSE(p.template_opens_thought);
    CHECK(p.tags_are_tokens);
    CHECK(p.close_token == *tok->find("</think>"));
  }
  SUBCASE("DeepSeek-R1 distill template opens the thought") {
    const auto r1 = read_file(data_dir() + "/chat_templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
    auto p = detect_reasoning_profile(r1, *tok, "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>");
    CHECK(p.family == "deepseek-r1");
    CHECK(p.template_opens_thought);
  }
  SUBCASE("Qwen2.5: no thinking in the template, but the vocab still knows the tags") {
    const auto q25 = read_file(data_dir() + "/chat_templates/Qwen-Qwen2.5-7B-Instruct.jinja");
    auto p = detect_reasoning_profile(q25, *tok, "", "<|im_end|>");
    CHECK(p.family == "think-tags");
  }
  SUBCASE("a broken template falls back to the vocabulary") {
    auto p = detect_reasoning_profile("{% if %}", *tok, "", "");
    CHECK(p.family == "think-tags");
  }
}
