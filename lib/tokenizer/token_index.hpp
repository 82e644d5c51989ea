// Exact text -> id lookup over a vocabulary whose strings outlive the index.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dianoia::detail {

class token_index {
 public:
  token_index() = default;
  // Duplicate texts: the highest id wins, as in llama.cpp. Empty texts are not indexed.
  explicit token_index(const std::vector<std::string>& tokens) {
    map_.reserve(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i)
      if (!tokens[i].empty()) map_[tokens[i]] = static_cast<int32_t>(i);
  }
  int32_t find(std::string_view s) const {
    const auto it = map_.find(s);
    return it == map_.end() ? -1 : it->second;
  }

 private:
  std::unordered_map<std::string_view, int32_t> map_;
};

}  // namespace dianoia::detail
