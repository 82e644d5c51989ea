// Python's two string-formatting languages as templates reach them: str.format() (format-spec
// mini-language, as jinja2's sandboxed formatter runs it) and printf-style '%' (the `format` filter).
#pragma once
#include <string>
#include <string_view>

#include "chat/jinja_value.hpp"

namespace dianoia::detail::jinja {

// format(v, spec) for one replacement field: fill, align, sign, '#', '0', width, ',' / '_' grouping,
// precision and the s d n b o x X c e E f F g G % types.
std::string py_format_value(const value& v, std::string_view spec);

// str.format(*args, **kwargs): auto and explicit field numbers, keyword names, !s / !r conversions,
// "{{" / "}}" escapes, nested fields within the spec.
std::string py_str_format(std::string_view fmt, const call_args& args);

// fmt % args, where args is the tuple of positional arguments or, for "%(name)s" fields, a dict.
std::string py_percent_format(std::string_view fmt, const value& args);

}  // namespace dianoia::detail::jinja
