#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <shared_mutex>

namespace dianoia::detail {
namespace {

std::atomic<int> g_threshold{static_cast<int>(log_level::warn)};
std::shared_mutex g_mutex;  // guards the sink pair: readers log, writers install
log_sink_fn g_fn = nullptr;
void* g_user = nullptr;

void stderr_sink(log_level lvl, std::string_view msg) {
  static const char* names[] = {"debug", "info", "warn", "error"};
  std::fprintf(stderr, "dianoia %s: %.*s\n", names[static_cast<int>(lvl)], static_cast<int>(msg.size()), msg.data());
}

}  // namespace

void log_set_sink(log_sink_fn fn, void* user, log_level threshold) {
  std::unique_lock lock(g_mutex);
  g_fn = fn;
  g_user = user;
  g_threshold.store(static_cast<int>(threshold), std::memory_order_relaxed);
}

log_level log_threshold() { return static_cast<log_level>(g_threshold.load(std::memory_order_relaxed)); }

void log_write(log_level lvl, std::string_view msg) {
  if (lvl >= log_level::off) return;
  std::shared_lock lock(g_mutex);
  if (g_fn)
    g_fn(lvl, msg, g_user);
  else
    stderr_sink(lvl, msg);
}

}  // namespace dianoia::detail
