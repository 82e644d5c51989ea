// Errors and version of the C ABI.
#include <string>

#include "guard.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/gemv/gemv.hpp"
#include "kernels/qgemm/qgemm.hpp"

static_assert(DIANOIA_ERR_INTERNAL == static_cast<int>(dianoia::detail::errc::internal));
static_assert(DIANOIA_ERR_BUFFER_TOO_SMALL == static_cast<int>(dianoia::detail::errc::buffer_too_small));
static_assert(DIANOIA_ERR_CONTEXT_FULL == static_cast<int>(dianoia::detail::errc::context_full));

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

DIANOIA_API uint32_t dianoia_version(void) {
  return DIANOIA_VERSION_MAJOR * 10000 + DIANOIA_VERSION_MINOR * 100 + DIANOIA_VERSION_PATCH;
}

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
