// Leveled logging. A library must not chat on the host's stderr: messages go to the sink the host
// installed (dianoia_log_set), or, when none is installed, warnings and errors to stderr. The threshold
// is checked before formatting, so a silenced debug message costs one atomic load.
#pragma once
#include <fmt/format.h>

#include <string_view>

namespace dianoia::detail {

enum class log_level : int { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

// Receives every message at or above the threshold; may be called from any thread, concurrently.
using log_sink_fn = void (*)(log_level lvl, std::string_view msg, void* user);

// Installs `fn` (nullptr: the default stderr sink) and the threshold. Thread-safe; messages being
// written while it changes go to the old or the new sink, never half to each.
void log_set_sink(log_sink_fn fn, void* user, log_level threshold);

log_level log_threshold();
void log_write(log_level lvl, std::string_view msg);

template <class... Args>
void log(log_level lvl, fmt::format_string<Args...> f, Args&&... args) {
  if (lvl < log_threshold()) return;
  log_write(lvl, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace dianoia::detail
