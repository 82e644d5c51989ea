// The library a template can call: filters, tests, methods of str/dict/list, and global functions
// (HF's chat-template globals included: raise_exception, strftime_now, namespace, dict).
#pragma once
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja_value.hpp"

namespace dianoia::detail::jinja {

using filter_fn = value (*)(interpreter&, const value& v, const call_args& args);
using test_fn = bool (*)(interpreter&, const value& v, const call_args& args);

// nullptr when there is no such filter / test.
filter_fn find_filter(std::string_view name);
test_fn find_test(std::string_view name);

// A bound method of a str, list or dict (e.g. "abc".startswith), or undefined if there is none.
value find_method(const value& self, std::string_view name);

// strftime_now() reading a fixed clock (broken-down local time), or the current local time if null.
value strftime_now_function(const std::tm* fixed);

// Global functions, in the order they enter the outermost scope.
std::vector<std::pair<std::string, value>> builtin_globals();

}  // namespace dianoia::detail::jinja
