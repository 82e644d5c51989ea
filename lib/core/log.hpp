// Minimal leveled logging to stderr via fmt. Silent by default below warnings: a library must not chat
// on the host's stderr. DIANOIA_LOG=debug|info|warn|error|off changes the threshold.
#pragma once
#include <fmt/format.h>

namespace dianoia::detail {

enum class log_level : int { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

log_level log_threshold();
void log_write(log_level lvl, std::string_view msg);

template <class... Args>
void log(log_level lvl, fmt::format_string<Args...> f, Args&&... args) {
  if (lvl < log_threshold()) return;
  log_write(lvl, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace dianoia::detail
