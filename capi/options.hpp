// dianoia_generate_params -> the runtime's generate_options, validated.
#pragma once
#include "dianoia.h"
#include <optional>
#include <string>
#include <string_view>

#include "runtime/deepconf.hpp"
#include "runtime/session.hpp"

namespace dianoia::capi {

// `params` may be NULL (defaults). error(invalid_argument) names the bad field.
detail::generate_options to_options(const dianoia_generate_params* params);

// The tools offered (JSON array text, "" for none, checked to be an array) and the tool-call syntax to
// parse: an explicit one, else the template's when tools are given.
struct tool_request {
  std::string tools_json;
  detail::tool_syntax syntax = detail::tool_syntax::none;
  bool explicit_syntax = false;  // named by the caller, not taken from the template
};
tool_request read_tools(const dianoia_generate_params* params, std::string_view chat_template);

// The confidence vote asked for, if any (DIANOIA_VOTE_MAJORITY: nullopt). Checked.
std::optional<detail::deepconf_options> read_deepconf(const dianoia_generate_params* params);

}  // namespace dianoia::capi
