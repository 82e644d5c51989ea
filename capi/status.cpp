// Errors and version of the C ABI.
#include <mutex>
#include <string>

#include "core/log.hpp"
#include "grammar/grammar.hpp"
#include "guard.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/gemv/gemv.hpp"
#include "kernels/qgemm/qgemm.hpp"

// guarded() returns the internal code as the status: every code must mean the same on both sides.
#define DIANOIA_SAME_CODE(c, e) static_assert(c == static_cast<int>(dianoia::detail::errc::e), #c)
DIANOIA_SAME_CODE(DIANOIA_OK, ok);
DIANOIA_SAME_CODE(DIANOIA_ERR_INVALID_ARGUMENT, invalid_argument);
DIANOIA_SAME_CODE(DIANOIA_ERR_IO, io);
DIANOIA_SAME_CODE(DIANOIA_ERR_FORMAT, format);
DIANOIA_SAME_CODE(DIANOIA_ERR_UNSUPPORTED, unsupported);
DIANOIA_SAME_CODE(DIANOIA_ERR_OUT_OF_MEMORY, out_of_memory);
DIANOIA_SAME_CODE(DIANOIA_ERR_CONTEXT_FULL, context_full);
DIANOIA_SAME_CODE(DIANOIA_ERR_CANCELLED, cancelled);
DIANOIA_SAME_CODE(DIANOIA_ERR_BUFFER_TOO_SMALL, buffer_too_small);
DIANOIA_SAME_CODE(DIANOIA_ERR_INTERNAL, internal);
#undef DIANOIA_SAME_CODE
// The log levels likewise.
static_assert(DIANOIA_LOG_DEBUG == static_cast<int>(dianoia::detail::log_level::debug));
static_assert(DIANOIA_LOG_INFO == static_cast<int>(dianoia::detail::log_level::info));
static_assert(DIANOIA_LOG_WARN == static_cast<int>(dianoia::detail::log_level::warn));
static_assert(DIANOIA_LOG_ERROR == static_cast<int>(dianoia::detail::log_level::error));
static_assert(DIANOIA_LOG_NONE == static_cast<int>(dianoia::detail::log_level::off));

namespace dianoia::capi {
namespace {
thread_local std::string t_last_error;
}
void set_last_error(std::string msg) { t_last_error = std::move(msg); }
void clear_last_error() { t_last_error.clear(); }
const char* last_error() { return t_last_error.c_str(); }
}  // namespace dianoia::capi

#define DIANOIA_STR2(x) #x
#define DIANOIA_STR(x) DIANOIA_STR2(x)

extern "C" {

DIANOIA_API const char* dianoia_last_error(void) { return dianoia::capi::last_error(); }

DIANOIA_API const char* dianoia_status_string(dianoia_status s) {
  switch (s) {
    case DIANOIA_OK: return "DIANOIA_OK";
    case DIANOIA_ERR_INVALID_ARGUMENT: return "DIANOIA_ERR_INVALID_ARGUMENT";
    case DIANOIA_ERR_IO: return "DIANOIA_ERR_IO";
    case DIANOIA_ERR_FORMAT: return "DIANOIA_ERR_FORMAT";
    case DIANOIA_ERR_UNSUPPORTED: return "DIANOIA_ERR_UNSUPPORTED";
    case DIANOIA_ERR_OUT_OF_MEMORY: return "DIANOIA_ERR_OUT_OF_MEMORY";
    case DIANOIA_ERR_CONTEXT_FULL: return "DIANOIA_ERR_CONTEXT_FULL";
    case DIANOIA_ERR_CANCELLED: return "DIANOIA_ERR_CANCELLED";
    case DIANOIA_ERR_BUFFER_TOO_SMALL: return "DIANOIA_ERR_BUFFER_TOO_SMALL";
    case DIANOIA_ERR_INTERNAL: return "DIANOIA_ERR_INTERNAL";
  }
  return "DIANOIA_ERR_UNKNOWN";
}

namespace {
struct log_target {
  dianoia_log_fn fn;
  void* user;
};
log_target g_log_target;  // written only under log_set_sink's lock (via dianoia_log_set)

void to_host(dianoia::detail::log_level lvl, std::string_view msg, void* user) {
  const auto* t = static_cast<const log_target*>(user);
  const std::string text(msg);  // the host gets a NUL-terminated copy
  t->fn(static_cast<dianoia_log_level>(lvl), text.c_str(), t->user);
}
}  // namespace

DIANOIA_API dianoia_status dianoia_log_set(dianoia_log_fn fn, void* user_data, dianoia_log_level min_level) {
  return dianoia::capi::guarded([&] {
    using dianoia::detail::log_level;
    if (min_level < DIANOIA_LOG_DEBUG || min_level > DIANOIA_LOG_NONE)
      dianoia::detail::fail(dianoia::detail::errc::invalid_argument, "log level {} is not a DIANOIA_LOG_* value",
                            min_level);
    // Two targets alternate, so the one a concurrent message may still read is never overwritten here:
    // log_set_sink takes the writer lock, which waits for every message in flight.
    static log_target targets[2];
    static int next = 0;
    static std::mutex m;
    std::lock_guard lock(m);
    log_target& t = targets[next];
    next ^= 1;
    t = {fn, user_data};
    dianoia::detail::log_set_sink(fn ? &to_host : nullptr, &t, static_cast<log_level>(min_level));
  });
}

DIANOIA_API uint32_t dianoia_version(void) {
  return DIANOIA_VERSION_MAJOR * 10000 + DIANOIA_VERSION_MINOR * 100 + DIANOIA_VERSION_PATCH;
}

DIANOIA_API bool dianoia_has_grammar_engine(void) { return dianoia::detail::grammar_engine_available(); }

DIANOIA_API const char* dianoia_version_string(void) {
  return DIANOIA_STR(DIANOIA_VERSION_MAJOR) "." DIANOIA_STR(DIANOIA_VERSION_MINOR) "." DIANOIA_STR(DIANOIA_VERSION_PATCH);
}

DIANOIA_API const char* dianoia_system_info(void) {
  static const std::string info = [] {
    using namespace dianoia::detail;
    const isa ceiling = default_isa_ceiling();
    const qgemm::isa_kernels* k = qgemm::select(ggml_type::q4_k, ceiling);
    return "cpu: " + std::string(isa_name(cpu_best_isa())) + " | ceiling: " + std::string(isa_name(ceiling)) +
           " | int8 gemm: " + (k ? std::string(isa_name(k->level)) : std::string("none")) +
           " | gemv: " + (gemv::select_fast(ggml_type::q4_k, ceiling) ? "avx512_vnni" : cpu_has_avx2() ? "avx2" : "scalar") +
           " (llamacpp numerics: " + (cpu_has_avx2() ? "avx2" : "scalar") + ")";
  }();
  return info.c_str();
}

}  // extern "C"
