// Self-consistency: pull the final answer out of each sample's answer text and take a majority vote.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dianoia::detail {

// The content of the last \boxed{...} (braces balanced, nested allowed), trimmed; nullopt if there is
// none or it is unterminated.
std::optional<std::string> extract_boxed(std::string_view text);

// The last number in the text ("-12", "3.5", "1,000" -> "1000"; a trailing '.' is not part of it);
// nullopt if there is none. The usual fallback for arithmetic answers written without \boxed.
std::optional<std::string> extract_last_number(std::string_view text);

// Default extractor: \boxed{} content, else the last number, else nullopt (the sample abstains).
std::optional<std::string> extract_answer(std::string_view text);

struct vote_entry {
  std::string answer;
  uint32_t count = 0;
  uint32_t first_sample = 0;  // index of the first sample that gave this answer
  double weight = 0;          // weighted votes (confidence): the sum of its samples' weights
};

struct vote_result {
  std::vector<vote_entry> entries;  // by count, descending; ties by first_sample, ascending
  uint32_t abstained = 0;           // samples with no extractable answer
  bool tie = false;                 // the top count (weight) is shared: the winner is the earlier answer
  bool weighted = false;            // entries sort by weight, not count
  const vote_entry* winner() const { return entries.empty() ? nullptr : &entries.front(); }
};

// An answer as votes compare it (whitespace trimmed).
std::string trimmed_answer(std::string_view a);

// answers[i]: sample i's extracted answer, or nullopt. Answers are compared after trimming whitespace.
vote_result majority_vote(const std::vector<std::optional<std::string>>& answers);

}  // namespace dianoia::detail
