// safetensors headers, valid and hostile: each damage gives an error that names it.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "safetensors/header.hpp"
#include "safetensors/index.hpp"

using namespace dianoia::detail;
namespace st = dianoia::detail::safetensors;

namespace {

// A file image: length prefix, the header text as given (padded with spaces to 8), then `data` bytes.
std::vector<uint8_t> image(const std::string& json, size_t data_bytes, bool pad = true) {
  std::string h = json;
  while (pad && h.size() % 8) h += ' ';
  std::vector<uint8_t> b(8);
  const uint64_t n = h.size();
  std::memcpy(b.data(), &n, 8);
  b.insert(b.end(), h.begin(), h.end());
  for (size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<uint8_t>(i));
  return b;
}

std::string error_of(const std::vector<uint8_t>& img) {
  try {
    st::parse_header(img);
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

const std::string k_valid =
    R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
    R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}})";

}  // namespace

TEST_CASE("safetensors: a valid header parses exactly") {
  auto img = image(k_valid, 32);
  const st::header h = st::parse_header(img);
  REQUIRE(h.tensors.size() == 2);
  CHECK(h.tensors[0].name == "a");
  CHECK(h.tensors[0].type == st::dtype::f32);
  CHECK(h.tensors[0].shape == std::vector<uint64_t>{2, 3});
  CHECK(h.tensors[1].begin == 24);
  CHECK(h.tensors[1].end == 32);
  CHECK(h.data_offset == 8 + h.json_bytes);
  REQUIRE(h.metadata.size() == 1);
  CHECK(h.metadata[0].second == "pt");
  CHECK(st::dtype_name(st::dtype::f8_e4m3) == "F8_E4M3");
  CHECK(st::dtype_size(st::dtype::u64) == 8);
}

TEST_CASE("safetensors: every truncation is an error, never a crash") {
  auto img = image(k_valid, 32);
  for (size_t n = 0; n < img.size(); ++n) {
    std::vector<uint8_t> cut(img.begin(), img.begin() + static_cast<long>(n));
    CAPTURE(n);
    CHECK(!error_of(cut).empty());
  }
}

TEST_CASE("safetensors: hostile headers") {
  SUBCASE("header length past the end") {
    auto img = image(k_valid, 32);
    const uint64_t n = 1 << 20;
    std::memcpy(img.data(), &n, 8);
    CHECK(error_of(img).find("truncated") != std::string::npos);
  }
  SUBCASE("header length 2^63") {
    auto img = image(k_valid, 32);
    const uint64_t n = 1ull << 63;
    std::memcpy(img.data(), &n, 8);
    CHECK(error_of(img).find("cap") != std::string::npos);
  }
  SUBCASE("not an object") {
    CHECK(error_of(image("[1,2]", 0)).find("not a JSON object") != std::string::npos);
  }
  SUBCASE("duplicate tensor names") {
    auto e = error_of(image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2));
    CHECK(e.find("duplicate") != std::string::npos);
  }
  SUBCASE("non-UTF-8 key") {
    CHECK(error_of(image("{\"\xff\xfe\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1)).find("UTF-8") !=
          std::string::npos);
  }
  SUBCASE("unknown dtype is named") {
    auto e = error_of(image(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", 1));
    CHECK(e.find("'Q4'") != std::string::npos);
  }
  SUBCASE("unknown field") {
    auto e = error_of(image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}})", 1));
    CHECK(e.find("unknown field 'x'") != std::string::npos);
  }
  SUBCASE("missing field") {
    CHECK(error_of(image(R"({"a":{"dtype":"U8","shape":[1]}})", 1)).find("lacks data_offsets") != std::string::npos);
  }
  SUBCASE("element count overflows size_t") {
    auto e = error_of(image(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}})", 4));
    CHECK(e.find("overflow") != std::string::npos);
  }
  SUBCASE("byte count overflows size_t") {
    auto e = error_of(image(R"({"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})", 8));
    CHECK(e.find("overflow") != std::string::npos);
  }
  SUBCASE("a 2^40-element tensor in a tiny file") {
    auto e = error_of(image(R"({"a":{"dtype":"U8","shape":[1099511627776],"data_offsets":[0,1099511627776]}})", 8));
    CHECK(e.find("past the end") != std::string::npos);
  }
  SUBCASE("shape and range disagree") {
    auto e = error_of(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4));
    CHECK(e.find("need 8 bytes") != std::string::npos);
  }
  SUBCASE("offsets past the end") {
    auto e = error_of(image(R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[4096,4104]}})", 8));
    CHECK(!e.empty());
  }
  SUBCASE("offset 2^64-1 is out of range for JSON integers") {
    auto e = error_of(image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})", 1));
    CHECK(e.find("must be an integer") != std::string::npos);
  }
  SUBCASE("overlapping ranges") {
    auto e = error_of(image(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", 6));
    CHECK(e.find("overlaps") != std::string::npos);
  }
  SUBCASE("a hole between ranges") {
    auto e = error_of(image(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}})", 12));
    CHECK(e.find("unused bytes") != std::string::npos);
  }
  SUBCASE("trailing bytes") {
    auto e = error_of(image(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 9));
    CHECK(e.find("cover 4 data bytes but the file holds 9") != std::string::npos);
  }
  SUBCASE("reversed range") {
    CHECK(error_of(image(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4)).find("reversed") != std::string::npos);
  }
  SUBCASE("negative and fractional numbers") {
    CHECK(error_of(image(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", 1)).find("negative") != std::string::npos);
    CHECK(error_of(image(R"({"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", 1)).find("integer") != std::string::npos);
  }
  SUBCASE("too many dimensions") {
    auto e = error_of(image(R"({"a":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}})", 1));
    CHECK(e.find("dimensions") != std::string::npos);
  }
  SUBCASE("metadata values must be strings") {
    CHECK(error_of(image(R"({"__metadata__":{"n":1}})", 0)).find("must be a string") != std::string::npos);
  }
  SUBCASE("not JSON at all") {
    CHECK(!error_of(image("{\"a\":", 0)).empty());
    CHECK(!error_of(image("{\"a\":{}}\x01", 0, false)).empty());
  }
  SUBCASE("deeply nested metadata") {
    std::string deep = R"({"__metadata__":)";
    for (int i = 0; i < 100; ++i) deep += "[";
    CHECK(!error_of(image(deep, 0)).empty());
  }
}

TEST_CASE("safetensors: zero-size and scalar tensors are valid") {
  auto img = image(R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]}})", 4);
  const st::header h = st::parse_header(img);
  REQUIRE(h.tensors.size() == 2);
  CHECK(h.tensors[0].n_elements() == 1);
  CHECK(h.tensors[1].n_elements() == 0);
}

TEST_CASE("safetensors index: weight_map, shards, hostile names") {
  auto idx = st::parse_index_json(R"({"metadata":{"total_size":10},"weight_map":{"a":"m-1.safetensors","b":"m-2.safetensors","c":"m-1.safetensors"}})");
  CHECK(idx.weight_map.size() == 3);
  CHECK(idx.shards == std::vector<std::string>{"m-1.safetensors", "m-2.safetensors"});
  CHECK_THROWS_WITH_AS(st::parse_index_json(R"({"weight_map":{"a":"../../etc/passwd"}})"),
                       doctest::Contains("not a file name"), error);
  CHECK_THROWS_WITH_AS(st::parse_index_json(R"({"weight_map":{"a":"/abs.safetensors"}})"), doctest::Contains("not a file name"),
                       error);
  CHECK_THROWS_WITH_AS(st::parse_index_json(R"({"weight_map":{"a":".."}})"), doctest::Contains("not a file name"), error);
  CHECK_THROWS_WITH_AS(st::parse_index_json(R"({"weight_map":{"a":"x\u0000.safetensors"}})"),
                       doctest::Contains("not a file name"), error);
  CHECK_THROWS_WITH_AS(st::parse_index_json(R"({"weight_map":{"a":1}})"), doctest::Contains("file name string"), error);
  CHECK_THROWS_WITH_AS(st::parse_index_json(R"({"metadata":{}})"), doctest::Contains("weight_map"), error);
  CHECK_THROWS_WITH_AS(st::parse_index_json(R"({"weight_map":{"a":"x","a":"y"}})"), doctest::Contains("duplicate"), error);
  CHECK_THROWS_AS(st::parse_index_json("[]"), error);
}
