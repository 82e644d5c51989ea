// Helpers shared by the fuzz targets. The contract every target checks: for any input, the code under
// test returns normally or throws dianoia::detail::error. Any other exception (std::bad_alloc from a
// hostile size, std::out_of_range, ...) escapes LLVMFuzzerTestOneInput and libFuzzer reports it as a
// crash, as it does for sanitizer reports, leaks and timeouts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"

namespace dianoia::fuzz {

// ../shared/data, or $DIANOIA_DATA_DIR.
inline std::string data_dir() {
  if (const char* e = std::getenv("DIANOIA_DATA_DIR"); e && *e) return e;
  return DIANOIA_FUZZ_DATA_DIR;
}

// Whole file, or a clear message and exit: a target without its fixed inputs would fuzz nothing.
inline std::string read_data_file(const std::string& rel) {
  const std::string path = data_dir() + "/" + rel;
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "fuzz: cannot read %s (set DIANOIA_DATA_DIR)\n", path.c_str());
    std::exit(2);
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits a two-part input at its first NUL byte (no NUL: everything is the first part). NUL never
// occurs in valid JSON or in a sensible template, so the split costs the fuzzer nothing it needs.
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view in, bool* had_nul = nullptr) {
  const size_t z = in.find('\0');
  if (had_nul) *had_nul = z != std::string_view::npos;
  if (z == std::string_view::npos) return {in, {}};
  return {in.substr(0, z), in.substr(z + 1)};
}

// DIANOIA_FUZZ_VERBOSE=1 prints each expected error: to check that seeds get past the first checks.
inline bool verbose() {
  static const bool v = [] {
    const char* e = std::getenv("DIANOIA_FUZZ_VERBOSE");
    return e && *e && *e != '0';
  }();
  return v;
}

// Runs f(); an expected failure (detail::error) is swallowed, returning false.
template <class F>
bool expect_ok(F&& f) {
  try {
    f();
    return true;
  } catch (const detail::error& e) {
    if (verbose()) std::fprintf(stderr, "fuzz: error: %s\n", e.what());
    return false;
  }
}

// An oracle violation: report and abort so that libFuzzer saves the input.
[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "fuzz: invariant violated: %s\n", what);
  std::abort();
}

}  // namespace dianoia::fuzz
