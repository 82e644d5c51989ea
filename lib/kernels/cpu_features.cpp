#include "kernels/cpu_features.hpp"

#include <cpuid.h>

#include <array>
#include <cstdlib>

#include "core/log.hpp"

namespace dianoia::detail {

namespace {

struct cpu_caps {
  std::array<bool, 6> has{};
};

// XCR0 bits the OS must have enabled before the registers of a level may be used: AVX state (bits 1-2),
// and for AVX-512 the opmask and upper ZMM state (bits 5-7).
uint64_t read_xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t{hi} << 32) | lo;
}

cpu_caps detect() {
  cpu_caps c;
  c.has[static_cast<int>(isa::scalar)] = true;
  unsigned a, b, cx, d;
  if (!__get_cpuid(1, &a, &b, &cx, &d)) return c;
  const bool osxsave = cx & (1u << 27), fma = cx & (1u << 12), f16c = cx & (1u << 29), avx = cx & (1u << 28);
  if (!osxsave || !avx) return c;
  const uint64_t xcr0 = read_xcr0();
  const bool os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = (xcr0 & 0xe6) == 0xe6;
  if (!os_avx) return c;
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 7) return c;
  __cpuid_count(7, 0, a, b, cx, d);
  const bool avx2 = b & (1u << 5), avx512f = b & (1u << 16), avx512dq = b & (1u << 17),
             avx512bw = b & (1u << 30), avx512vl = b & (1u << 31), avx512vnni = cx & (1u << 11);
  unsigned a1 = 0, b1, c1, d1;
  __cpuid_count(7, 1, a1, b1, c1, d1);
  const bool avxvnni = a1 & (1u << 4), avx512bf16 = a1 & (1u << 5);

  const bool l_avx2 = avx2 && fma && f16c;
  const bool l_avx512 = l_avx2 && os_avx512 && avx512f && avx512dq && avx512bw && avx512vl;
  c.has[static_cast<int>(isa::avx2)] = l_avx2;
  c.has[static_cast<int>(isa::avx_vnni)] = l_avx2 && avxvnni;
  c.has[static_cast<int>(isa::avx512)] = l_avx512;
  c.has[static_cast<int>(isa::avx512_vnni)] = l_avx512 && avx512vnni;
  c.has[static_cast<int>(isa::avx512_bf16)] = l_avx512 && avx512bf16;
  return c;
}

const cpu_caps& caps() {
  static const cpu_caps c = detect();
  return c;
}

constexpr std::array<std::string_view, 6> k_names = {"scalar", "avx2", "avx_vnni", "avx512", "avx512_vnni",
                                                     "avx512_bf16"};

}  // namespace

bool cpu_has(isa level) {
  const int i = static_cast<int>(level);
  return i >= 0 && i < static_cast<int>(k_names.size()) && caps().has[static_cast<size_t>(i)];
}

isa cpu_best_isa() {
  for (int i = static_cast<int>(k_names.size()) - 1; i > 0; --i)
    if (caps().has[static_cast<size_t>(i)]) return static_cast<isa>(i);
  return isa::scalar;
}

std::string_view isa_name(isa level) {
  const int i = static_cast<int>(level);
  return i >= 0 && i < static_cast<int>(k_names.size()) ? k_names[static_cast<size_t>(i)] : "unknown";
}

bool parse_isa(std::string_view name, isa& out) {
  for (size_t i = 0; i < k_names.size(); ++i)
    if (name == k_names[i]) {
      out = static_cast<isa>(i);
      return true;
    }
  return false;
}

isa default_isa_ceiling() {
  static const isa v = [] {
    const char* e = std::getenv("DIANOIA_ISA");
    if (!e || !*e) return cpu_best_isa();
    isa lv;
    if (!parse_isa(e, lv)) {
      log(log_level::warn, "DIANOIA_ISA='{}' is not a level (scalar, avx2, avx_vnni, avx512, avx512_vnni, avx512_bf16): ignored",
               e);
      return cpu_best_isa();
    }
    return lv;
  }();
  return v;
}

}  // namespace dianoia::detail
