// --isa=LEVEL support for the kernels' test program (see tests/main.cpp) and the list of levels to test.
#include "isa_levels.hpp"

#include "test_support.hpp"

extern "C" int dianoia_test_cpu_has_isa(const char* level) {
  dianoia::detail::isa l;
  if (!dianoia::detail::parse_isa(level, l)) return -1;
  return dianoia::detail::cpu_has(l) ? 1 : 0;
}

namespace dianoia::test {

std::vector<detail::isa> isa_levels() {
  using detail::isa;
  std::vector<isa> out;
  for (isa l : {isa::scalar, isa::avx2, isa::avx_vnni, isa::avx512, isa::avx512_vnni, isa::avx512_bf16}) {
    if (!isa_filter().empty() && detail::isa_name(l) != isa_filter()) continue;
    if (detail::cpu_has(l)) out.push_back(l);
  }
  return out;
}

}  // namespace dianoia::test
