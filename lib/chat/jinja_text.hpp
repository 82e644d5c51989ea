// Python str semantics over UTF-8 bytes. Templates index, slice, strip and case-map strings the way
// Python does (by code point, with Unicode whitespace), so these helpers work on code points while
// keeping the bytes of each character intact; an invalid byte counts as one character of its own.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dianoia::detail::jinja {

// Byte offsets of each character start, plus s.size() at the end (so char k is [v[k], v[k+1])).
std::vector<size_t> char_offsets(std::string_view s);
size_t char_count(std::string_view s);
bool is_ascii(std::string_view s);

bool py_isspace(uint32_t cp);
// Python's str.strip family: chars == nullopt strips whitespace, else any code point of *chars.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_title(std::string_view s);       // str.title(): word = run of cased letters
std::string py_capitalize(std::string_view s);  // first upper, rest lower
std::string jinja_title(std::string_view s);    // the title filter: words split on [-\s({[<]
// str.split / str.rsplit; sep == nullopt splits on whitespace runs and drops empty pieces.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit,
                                  bool from_right);
std::vector<std::string> py_splitlines(std::string_view s);
std::string py_replace(std::string_view s, std::string_view from, std::string_view to, int64_t count);
// Character index of the first (or last) occurrence within [start, end) in characters, or -1.
int64_t py_find(std::string_view s, std::string_view sub, bool from_right);
int64_t py_count(std::string_view s, std::string_view sub);

// Python slice resolution: the indices a[start:stop:step] visits for a sequence of length n.
std::vector<int64_t> slice_indices(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   std::optional<int64_t> step);

// Python repr() of a str: single quotes unless the text has ' and no ".
std::string py_repr_str(std::string_view s);
// Python repr() of a float: shortest round-trip digits, exponent outside 1e-4 <= |x| < 1e16.
std::string py_repr_float(double d);

}  // namespace dianoia::detail::jinja
