#include "core/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dianoia::detail {

log_level log_threshold() {
  static const log_level lvl = [] {
    const char* e = std::getenv("DIANOIA_LOG");
    if (!e) return log_level::warn;
    if (!std::strcmp(e, "debug")) return log_level::debug;
    if (!std::strcmp(e, "info")) return log_level::info;
    if (!std::strcmp(e, "error")) return log_level::error;
    if (!std::strcmp(e, "off")) return log_level::off;
    return log_level::warn;
  }();
  return lvl;
}

void log_write(log_level lvl, std::string_view msg) {
  static const char* names[] = {"debug", "info", "warn", "error"};
  std::fprintf(stderr, "dianoia %s: %.*s\n", names[static_cast<int>(lvl)], static_cast<int>(msg.size()), msg.data());
}

}  // namespace dianoia::detail
