#include "runtime/stop_strings.hpp"

#include <algorithm>

namespace dianoia::detail {

stop_matcher::stop_matcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

bool stop_matcher::feed(std::string_view bytes, std::string& release) {
  release.clear();
  if (stops_.empty()) {
    release.assign(bytes);
    return false;
  }
  held_.append(bytes);
  // The earliest complete stop string wins (ties: the longest, so "ab" beats "a" at one position).
  size_t best = std::string::npos, best_len = 0;
  for (const auto& s : stops_) {
    const size_t at = held_.find(s);
    if (at != std::string::npos && (at < best || (at == best && s.size() > best_len))) {
      best = at;
      best_len = s.size();
      matched_ = s;
    }
  }
  if (best != std::string::npos) {
    release.assign(held_, 0, best);
    held_.clear();
    return true;
  }
  // Keep the longest tail that could still grow into a stop string.
  size_t keep = 0;
  for (const auto& s : stops_) {
    for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n) {
      if (std::string_view(held_).substr(held_.size() - n) == std::string_view(s).substr(0, n)) {
        keep = n;
        break;
      }
    }
  }
  release.assign(held_, 0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return false;
}

std::string stop_matcher::flush() {
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace dianoia::detail
