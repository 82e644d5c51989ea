// Files written by the official gguf writer (tools/make_roundtrip_fixtures.py): every metadata value type,
// nested arrays, the alignment key and a tensor of every ggml type must read back exactly, from one file,
// from its v2-labelled twin and from its splits.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "gguf/gguf.hpp"
#include "gguf/split.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;

namespace {

std::string rt_dir() { return dianoia::test::fixtures_dir() + "/roundtrip/"; }

json_value manifest() { return json_parse(dianoia::test::read_file(rt_dir() + "manifest.json")); }

std::string to_hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

// One element of a packed scalar array, as the manifest writes it (64-bit integers as decimal strings).
std::string scalar_text(gguf::value_type t, const uint8_t* p) {
  auto rd = [&](auto v) {
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (t) {
    case gguf::value_type::u8: return std::to_string(rd(uint8_t{}));
    case gguf::value_type::i8: return std::to_string(rd(int8_t{}));
    case gguf::value_type::u16: return std::to_string(rd(uint16_t{}));
    case gguf::value_type::i16: return std::to_string(rd(int16_t{}));
    case gguf::value_type::u32: return std::to_string(rd(uint32_t{}));
    case gguf::value_type::i32: return std::to_string(rd(int32_t{}));
    case gguf::value_type::u64: return std::to_string(rd(uint64_t{}));
    case gguf::value_type::i64: return std::to_string(rd(int64_t{}));
    case gguf::value_type::f32: return fmt::format("{}", double{rd(float{})});
    case gguf::value_type::f64: return fmt::format("{}", rd(double{}));
    case gguf::value_type::boolean: return rd(uint8_t{}) ? "true" : "false";
    default: return "?";
  }
}
size_t scalar_bytes(gguf::value_type t) {
  switch (t) {
    case gguf::value_type::u8: case gguf::value_type::i8: case gguf::value_type::boolean: return 1;
    case gguf::value_type::u16: case gguf::value_type::i16: return 2;
    case gguf::value_type::u32: case gguf::value_type::i32: case gguf::value_type::f32: return 4;
    default: return 8;
  }
}
std::string json_text(const json_value& v) {
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_string()) return v.as_string();
  return fmt::format("{}", v.as_double());
}

// Strings of a packed string array.
std::vector<std::string> strings_of(const gguf::value& v) {
  std::vector<std::string> out;
  const uint8_t* p = v.elems;
  for (uint64_t i = 0; i < v.count; ++i) {
    uint64_t n;
    std::memcpy(&n, p, 8);
    out.emplace_back(reinterpret_cast<const char*>(p + 8), n);
    p += 8 + n;
  }
  return out;
}

void check_array(const gguf::value& v, const std::string& elem, const json_value& want, const std::string& key) {
  CAPTURE(key);
  REQUIRE(v.type == gguf::value_type::array);
  CHECK(gguf::type_name(v.elem_type) == elem);
  REQUIRE(v.count == want.as_array().size());
  if (v.elem_type == gguf::value_type::string) {
    auto s = strings_of(v);
    for (size_t i = 0; i < s.size(); ++i) CHECK(s[i] == want.as_array()[i].as_string());
    return;
  }
  const size_t es = scalar_bytes(v.elem_type);
  for (size_t i = 0; i < v.count; ++i) CHECK(scalar_text(v.elem_type, v.elems + i * es) == json_text(want.as_array()[i]));
}

void check_metadata(const gguf::file& f, const json_value& md, bool split = false) {
  for (const auto& e : md.as_array()) {
    const std::string& key = e.find("key")->as_string();
    const std::string& type = e.find("type")->as_string();
    CAPTURE(key);
    if (split && key == "general.alignment") {  // see tools/make_roundtrip_fixtures.py
      CHECK(f.find(key) == nullptr);
      continue;
    }
    const gguf::value* v = f.find(key);
    REQUIRE(v);
    CHECK(gguf::type_name(v->type) == type);
    if (type == "array") {
      const std::string& elem = e.find("elem")->as_string();
      if (elem == "array") {
        REQUIRE(v->elem_type == gguf::value_type::array);
        REQUIRE(v->nested.size() == e.find("value")->as_array().size());
        for (size_t i = 0; i < v->nested.size(); ++i)
          check_array(v->nested[i], e.find("inner")->as_string(), e.find("value")->as_array()[i], key);
      } else {
        check_array(*v, elem, *e.find("value"), key);
      }
    } else if (type == "string") {
      CHECK(v->str == e.find("value")->as_string());
    } else if (type == "bool") {
      CHECK(v->num.b == e.find("value")->as_bool());
    } else if (type == "f32" || type == "f64") {
      CHECK(v->num.f == e.find("value")->as_double());
    } else if (type[0] == 'u') {
      CHECK(std::to_string(v->num.u) == json_text(*e.find("value")));
    } else {
      CHECK(std::to_string(v->num.i) == json_text(*e.find("value")));
    }
  }
}

void check_tensors(const tensor_source& src, const json_value& tensors) {
  for (const auto& t : tensors.as_array()) {
    const std::string& name = t.find("name")->as_string();
    CAPTURE(name);
    const tensor_view* v = src.find_tensor(name);
    REQUIRE(v);
    CHECK(ggml_traits(v->type).name == t.find("type")->as_string());
    const auto& ne = t.find("ne")->as_array();
    CHECK(v->n_dims == ne.size());
    for (size_t d = 0; d < ne.size(); ++d) CHECK(v->ne[d] == static_cast<uint64_t>(ne[d].as_int()));
    CHECK(to_hex(v->data, v->nbytes) == t.find("hex")->as_string());
  }
  CHECK(src.all_tensors().size() == tensors.as_array().size());
}

}  // namespace

TEST_CASE("gguf round trip: every metadata type and every tensor type, v3 and v2") {
  const json_value m = manifest();
  const json_value& g = *m.find("gguf");
  for (const auto& name : g.find("files")->as_array()) {
    CAPTURE(name.as_string());
    auto f = gguf::file::open(rt_dir() + name.as_string());
    CHECK(f->version() == (name.as_string().find(".v2.") != std::string::npos ? 2u : 3u));
    CHECK(f->alignment() == 64);
    check_metadata(*f, *g.find("metadata"));
    check_tensors(*f, *g.find("tensors"));
    // Every byte of data: each tensor starts on the alignment.
    for (const auto& t : f->tensors()) CHECK(t.offset % 64 == 0);
  }
}

TEST_CASE("gguf round trip: a split file loads as one") {
  const json_value m = manifest();
  const json_value& g = *m.find("gguf");
  const auto& splits = g.find("splits")->as_array();
  REQUIRE(splits.size() == 3);
  auto s = gguf::split_set::open(rt_dir() + splits[0].as_string());
  CHECK(s->files().size() == 3);
  check_metadata(s->first(), *g.find("metadata"), true);
  check_tensors(*s, *g.find("tensors"));
  CHECK(s->first().get_uint("split.count") == 3u);
  // A plain file is a set of one.
  auto one = gguf::split_set::open(rt_dir() + "all_types.gguf");
  CHECK(one->files().size() == 1);
  CHECK(one->all_tensors().size() == s->all_tensors().size());
}

TEST_CASE("gguf split: a later split, a missing split and a renamed first split are named") {
  const json_value m = manifest();
  const auto& splits = m.find("gguf")->find("splits")->as_array();
  CHECK_THROWS_WITH_AS(gguf::split_set::open(rt_dir() + splits[1].as_string()), doctest::Contains("open the first split"),
                       error);
  // Copy only the first split elsewhere: the second is then missing.
  const std::string tmp = "/tmp/dianoia_split_test-00001-of-00003.gguf";
  {
    std::ofstream(tmp, std::ios::binary) << dianoia::test::read_file(rt_dir() + splits[0].as_string());
  }
  CHECK_THROWS_WITH_AS(gguf::split_set::open(tmp), doctest::Contains("dianoia_split_test-00002-of-00003.gguf"), error);
  const std::string renamed = "/tmp/dianoia_split_renamed.gguf";
  {
    std::ofstream(renamed, std::ios::binary) << dianoia::test::read_file(rt_dir() + splits[0].as_string());
  }
  CHECK_THROWS_WITH_AS(gguf::split_set::open(renamed), doctest::Contains("not named like a first split"), error);
  std::remove(tmp.c_str());
  std::remove(renamed.c_str());
}

TEST_CASE("gguf split: names") {
  CHECK(gguf::split_path("/m/x-00001-of-00004.gguf", 3, 4) == "/m/x-00003-of-00004.gguf");
  CHECK(!gguf::split_path("/m/x.gguf", 2, 4));
  CHECK(!gguf::split_path("/m/x-00001-of-00003.gguf", 2, 4));
}

TEST_CASE("gguf: the newest ggml types are recognised with their block sizes") {
  CHECK(ggml_traits(40).name == "NVFP4");
  CHECK(ggml_traits(40).block_elems == 64);
  CHECK(ggml_traits(41).block_bytes == 18);
  CHECK(ggml_traits(39).name == "MXFP4");
}
