// The strict JSON parser (lib/core/json.hpp). Beyond "no crash": whatever parses must survive a round
// trip (serialize, parse again, compare), every value's offset must lie inside the text, and a parse
// under tighter limits may fail but never disagree with the default one.
#include <cmath>
#include <string>

#include "core/json.hpp"
#include "fuzz_common.hpp"

namespace {

using dianoia::detail::json_type;
using dianoia::detail::json_value;
using dianoia::fuzz::violated;

void write_string(const std::string& s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void write(const json_value& v, std::string& out) {
  switch (v.type()) {
    case json_type::null: out += "null"; break;
    case json_type::boolean: out += v.as_bool() ? "true" : "false"; break;
    case json_type::integer: out += fmt::format("{}", v.as_int()); break;
    case json_type::real: {
      // Shortest form that reads back as the same double; keep it a real (not an integer) on re-parse.
      std::string s = fmt::format("{}", v.as_double());
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      out += s;
      break;
    }
    case json_type::string:
      write_string(v.as_string(), out);
      break;
    case json_type::array: {
      out += '[';
      bool first = true;
      for (const json_value& e : v.as_array()) {
        if (!first) out += ',';
        first = false;
        write(e, out);
      }
      out += ']';
      break;
    }
    case json_type::object: {
      out += '{';
      bool first = true;
      for (const auto& m : v.as_object()) {
        if (!first) out += ',';
        first = false;
        write_string(m.key, out);
        out += ':';
        write(m.value, out);
      }
      out += '}';
      break;
    }
  }
}

bool same(const json_value& a, const json_value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json_type::null: return true;
    case json_type::boolean: return a.as_bool() == b.as_bool();
    case json_type::integer: return a.as_int() == b.as_int();
    case json_type::real: return a.as_double() == b.as_double() && std::signbit(a.as_double()) == std::signbit(b.as_double());
    case json_type::string: return a.as_string() == b.as_string();
    case json_type::array: {
      const auto &x = a.as_array(), &y = b.as_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!same(x[i], y[i])) return false;
      return true;
    }
    case json_type::object: {
      const auto &x = a.as_object(), &y = b.as_object();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (x[i].key != y[i].key || !same(x[i].value, y[i].value)) return false;
      return true;
    }
  }
  return false;
}

void check_offsets(const json_value& v, size_t size) {
  if (v.offset() >= size) violated("json value offset outside the text");
  if (v.is_array())
    for (const json_value& e : v.as_array()) check_offsets(e, size);
  if (v.is_object())
    for (const auto& m : v.as_object()) check_offsets(m.value, size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = dianoia::fuzz::as_text(data, size);
  json_value v;
  if (!dianoia::fuzz::expect_ok([&] { v = dianoia::detail::json_parse(text); })) {
    // Tighter limits cannot make a rejected document acceptable.
    const dianoia::detail::json_limits tight{size_t{1} << 20, 8, 64};
    if (dianoia::fuzz::expect_ok([&] { dianoia::detail::json_parse(text, tight); }))
      violated("json accepted under tight limits but rejected under the defaults");
    return 0;
  }
  check_offsets(v, size);

  std::string out;
  write(v, out);
  json_value again;
  if (!dianoia::fuzz::expect_ok([&] { again = dianoia::detail::json_parse(out); }))
    violated("json: re-serialized document does not parse");
  if (!same(v, again)) violated("json: round trip changed the document");

  const dianoia::detail::json_limits tight{size_t{1} << 20, 8, 64};
  json_value small;
  if (dianoia::fuzz::expect_ok([&] { small = dianoia::detail::json_parse(text, tight); }) && !same(v, small))
    violated("json: tight limits changed the result");
  return 0;
}
