// The instruction-set levels a kernel test runs: every level this CPU has, or only the one --isa names.
#pragma once
#include <vector>

#include "kernels/cpu_features.hpp"

namespace dianoia::test {
std::vector<detail::isa> isa_levels();
}  // namespace dianoia::test
