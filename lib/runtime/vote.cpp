#include "runtime/vote.hpp"

#include <algorithm>

namespace dianoia::detail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string trimmed(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string trimmed_answer(std::string_view a) { return trimmed(a); }

std::optional<std::string> extract_boxed(std::string_view text) {
  constexpr std::string_view key = "\\boxed{";
  const size_t at = text.rfind(key);
  if (at == std::string_view::npos) return std::nullopt;
  size_t depth = 1;
  for (size_t i = at + key.size(); i < text.size(); ++i) {
    if (text[i] == '{') ++depth;
    else if (text[i] == '}' && --depth == 0) return trimmed(text.substr(at + key.size(), i - at - key.size()));
  }
  return std::nullopt;
}

std::optional<std::string> extract_last_number(std::string_view text) {
  // Scan backwards for the last digit, then extend over digits, ',' between digits, one '.', and a sign.
  size_t end = text.size();
  while (end > 0 && !is_digit(text[end - 1])) --end;
  if (end == 0) return std::nullopt;
  size_t begin = end;
  bool dot = false;
  while (begin > 0) {
    const char c = text[begin - 1];
    if (is_digit(c)) {
      --begin;
    } else if ((c == ',' || (c == '.' && !dot)) && begin >= 2 && is_digit(text[begin - 2])) {
      dot |= c == '.';
      --begin;
    } else {
      break;
    }
  }
  if (begin > 0 && text[begin - 1] == '-') --begin;
  std::string out;
  for (char c : text.substr(begin, end - begin))
    if (c != ',') out += c;
  return out;
}

std::optional<std::string> extract_answer(std::string_view text) {
  if (auto b = extract_boxed(text)) return b;
  return extract_last_number(text);
}

vote_result majority_vote(const std::vector<std::optional<std::string>>& answers) {
  vote_result r;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (!answers[i]) {
      ++r.abstained;
      continue;
    }
    const std::string a = trimmed(*answers[i]);
    auto it = std::find_if(r.entries.begin(), r.entries.end(), [&](const vote_entry& e) { return e.answer == a; });
    if (it == r.entries.end())
      r.entries.push_back({a, 1, static_cast<uint32_t>(i)});
    else
      ++it->count;
  }
  std::stable_sort(r.entries.begin(), r.entries.end(), [](const vote_entry& a, const vote_entry& b) {
    return a.count != b.count ? a.count > b.count : a.first_sample < b.first_sample;
  });
  r.tie = r.entries.size() >= 2 && r.entries[0].count == r.entries[1].count;
  return r;
}

}  // namespace dianoia::detail
