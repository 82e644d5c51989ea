// dianoia_generate_params -> the runtime's generate_options, validated.
#pragma once
#include "dianoia.h"
#include "runtime/session.hpp"

namespace dianoia::capi {

// `params` may be NULL (defaults). error(invalid_argument) names the bad field.
detail::generate_options to_options(const dianoia_generate_params* params);

}  // namespace dianoia::capi
