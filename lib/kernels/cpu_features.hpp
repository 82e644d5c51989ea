// Runtime CPU dispatch. The library is built for baseline x86-64; kernels that need more live in files
// named after their instruction set (*_avx2.cpp, *_avxvnni.cpp, *_avx512.cpp, *_avx512vnni.cpp), compiled
// with those flags, and are only called after the checks here said yes. One binary therefore runs on any
// x86-64 and uses the best the CPU has.
//
// Levels are ordered so that a *ceiling* can be set (a session parameter, or DIANOIA_ISA for benches):
// every path can then be measured and tested on one machine. A kernel of level L runs when L <= the
// ceiling and the CPU has L's features; AVX-VNNI sits below AVX-512 because it is the 256-bit form of
// the same int8 dot product, found on CPUs with and without AVX-512.
#pragma once
#include <cstdint>
#include <string_view>

namespace dianoia::detail {

enum class isa : int32_t {
  scalar = 0,       // baseline x86-64 (SSE2)
  avx2 = 1,         // AVX2 + FMA + F16C
  avx_vnni = 2,     // + AVX-VNNI (256-bit vpdpbusd)
  avx512 = 3,       // + AVX-512 F/BW/DQ/VL
  avx512_vnni = 4,  // + AVX-512 VNNI (512-bit vpdpbusd)
  avx512_bf16 = 5,  // + AVX-512 BF16
};

// What this CPU has, each level on its own (a CPU may have AVX-512 VNNI without AVX-VNNI).
bool cpu_has(isa level);

// The best level this CPU has ("scalar" at least).
isa cpu_best_isa();

// The process-wide default ceiling: DIANOIA_ISA from the environment (a name below) when set and valid,
// else the best level the CPU has. Read once.
isa default_isa_ceiling();

// "scalar", "avx2", "avx_vnni", "avx512", "avx512_vnni", "avx512_bf16".
std::string_view isa_name(isa level);
// The level a name (as above) stands for; false when the name is unknown.
bool parse_isa(std::string_view name, isa& out);

// The CPU has `level` and the ceiling allows it.
inline bool isa_usable(isa level, isa ceiling) { return level <= ceiling && cpu_has(level); }

// AVX2 + FMA + F16C (the avx2 kernels use every one of them), unless DIANOIA_ISA=scalar: the gate of the
// AVX2 kernels that have no per-session choice (quantizers, attention, element-wise ops).
inline bool cpu_has_avx2() { return isa_usable(isa::avx2, default_isa_ceiling()); }

}  // namespace dianoia::detail
