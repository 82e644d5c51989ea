// Internal error type. Everything below the C ABI reports failure by throwing detail::error; the C shims
// in capi/ catch it, store the message for dianoia_last_error() and return the matching status code.
#pragma once
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace dianoia::detail {

// Mirrors dianoia_status in capi/dianoia.h (kept numerically equal; checked there by static_assert).
enum class errc : int {
  ok = 0,
  invalid_argument = 1,
  io = 2,
  format = 3,
  unsupported = 4,
  out_of_memory = 5,
  context_full = 6,
  cancelled = 7,
  buffer_too_small = 8,
  internal = 9,
};

class error : public std::runtime_error {
 public:
  error(errc code, std::string msg) : std::runtime_error(std::move(msg)), code_(code) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

template <class... Args>
[[noreturn]] void fail(errc code, fmt::format_string<Args...> f, Args&&... args) {
  throw error(code, fmt::format(f, std::forward<Args>(args)...));
}

// Checked arithmetic for sizes read from untrusted files: overflow is a format error, never a wrap.
inline size_t checked_mul(size_t a, size_t b, const char* what) {
  size_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail(errc::format, "{}: size overflows ({} x {})", what, a, b);
  return r;
}
inline size_t checked_add(size_t a, size_t b, const char* what) {
  size_t r;
  if (__builtin_add_overflow(a, b, &r)) fail(errc::format, "{}: size overflows ({} + {})", what, a, b);
  return r;
}

}  // namespace dianoia::detail
