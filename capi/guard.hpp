// The boundary between the C ABI and the C++ internals: every exported function runs its body through
// guarded(), which turns any exception into a status code and the thread-local error text.
#pragma once
#include <cstring>
#include <new>
#include <string>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "dianoia.h"

namespace dianoia::capi {

void set_last_error(std::string msg);
void clear_last_error();

template <class F>
dianoia_status guarded(F&& body) noexcept {
  try {
    clear_last_error();
    body();
    return DIANOIA_OK;
  } catch (const detail::error& e) {
    set_last_error(e.what());
    return static_cast<dianoia_status>(e.code());
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory");
    return DIANOIA_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(std::string("internal error: ") + e.what());
    return DIANOIA_ERR_INTERNAL;
  } catch (...) {
    set_last_error("internal error: unknown exception");
    return DIANOIA_ERR_INTERNAL;
  }
}

template <class T>
T& require(T* p, const char* what) {
  if (!p) detail::fail(detail::errc::invalid_argument, "{} is NULL", what);
  return *p;
}

// Params structs may come from an older header (smaller) or a newer one (larger): copy what both know.
template <class T>
T read_params(const T* in, T defaults, const char* what) {
  if (!in) return defaults;
  const size_t size = in->struct_size;
  if (size < sizeof(size_t) || size > (1u << 16))
    detail::fail(detail::errc::invalid_argument, "{}: struct_size {} is invalid (use the *_default_params() function)",
                 what, size);
  const size_t n = size < sizeof(T) ? size : sizeof(T);
  std::memcpy(static_cast<void*>(&defaults), in, n);
  defaults.struct_size = sizeof(T);
  return defaults;
}

// *_params_init: the defaults, cut to the caller's struct size (an older, smaller struct gets its prefix).
template <class T>
void init_params(T* p, size_t size, T defaults) {
  if (!p || size < sizeof(size_t)) return;
  const size_t n = size < sizeof(T) ? size : sizeof(T);
  defaults.struct_size = size;
  std::memcpy(static_cast<void*>(p), &defaults, n);
}

// A (pointer, length) text argument from the caller, checked to be valid UTF-8.
inline std::string_view text_arg(const char* text, size_t len, const char* what) {
  if (!text && len) detail::fail(detail::errc::invalid_argument, "{} is NULL", what);
  std::string_view s(text ? text : "", len);
  size_t bad = 0;
  if (!detail::utf8_valid(s, &bad))
    detail::fail(detail::errc::invalid_argument, "{} is not valid UTF-8 (byte {})", what, bad);
  return s;
}

// Copies bytes to a caller buffer, reporting the needed size (DIANOIA_ERR_BUFFER_TOO_SMALL if short).
template <class T>
void copy_out(const T* src, size_t n, T* dst, size_t capacity, size_t* n_out) {
  if (n_out) *n_out = n;
  if (n > capacity) detail::fail(detail::errc::buffer_too_small, "output needs {} elements, buffer holds {}", n, capacity);
  if (n && !dst) detail::fail(detail::errc::invalid_argument, "output buffer is NULL");
  if (n) std::memcpy(dst, src, n * sizeof(T));
}

}  // namespace dianoia::capi
