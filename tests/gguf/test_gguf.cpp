#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "gguf/gguf.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;

namespace {

// Builds GGUF images byte by byte, so that each hostile case is exactly the damage it names.
struct writer {
  std::vector<uint8_t> b;
  template <class T>
  void put(T v) {
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    b.insert(b.end(), tmp, tmp + sizeof(T));
  }
  void str(std::string_view s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
  void header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    put<uint32_t>(0x46554747);
    put<uint32_t>(version);
    put<uint64_t>(n_tensors);
    put<uint64_t>(n_kv);
  }
  void kv_u32(std::string_view k, uint32_t v) {
    str(k);
    put<uint32_t>(4);
    put<uint32_t>(v);
  }
  void kv_str(std::string_view k, std::string_view v) {
    str(k);
    put<uint32_t>(8);
    str(v);
  }
  void tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name);
    put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (auto n : ne) put<uint64_t>(n);
    put<uint32_t>(type);
    put<uint64_t>(offset);
  }
  void pad(size_t align = 32) {
    while (b.size() % align) b.push_back(0);
  }
};

std::string parse_error(const std::vector<uint8_t>& img) {
  try {
    gguf::file::parse(std::span<const uint8_t>(img.data(), img.size()));
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

// A valid file: 2 metadata keys, one 4x2 F32 tensor.
std::vector<uint8_t> small_valid() {
  writer w;
  w.header(1, 2);
  w.kv_str("general.architecture", "llama");
  w.kv_u32("llama.block_count", 2);
  w.tensor("t", {4, 2}, 0, 0);
  w.pad();
  for (int i = 0; i < 8; ++i) w.put<float>(static_cast<float>(i));
  return w.b;
}

}  // namespace

TEST_CASE("gguf: stories260K metadata and tensors") {
  auto f = gguf::file::open(dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf");
  CHECK(f->version() == 3);
  CHECK(f->get_string("general.architecture") == "llama");
  CHECK(f->get_uint("llama.context_length") == 128u);
  CHECK(f->get_uint("llama.embedding_length") == 64u);
  CHECK(f->tensors().size() == 48);
  auto toks = f->get_string_array("tokenizer.ggml.tokens");
  REQUIRE(toks);
  CHECK(toks->size() == 512);
  auto* emb = f->find_tensor("token_embd.weight");
  REQUIRE(emb);
  CHECK(emb->type == ggml_type::f32);
  CHECK(emb->ne[0] == 64);
  CHECK(emb->ne[1] == 512);
  CHECK(emb->nbytes == 64 * 512 * 4);
  // Type mismatches are reported, not coerced.
  CHECK_THROWS_AS(f->get_string("llama.context_length"), error);
}

TEST_CASE("gguf: a small hand-built file parses exactly") {
  auto img = small_valid();
  auto f = gguf::file::parse(std::span<const uint8_t>(img.data(), img.size()));
  CHECK(f->get_string("general.architecture") == "llama");
  CHECK(f->get_uint("llama.block_count") == 2u);
  auto* t = f->find_tensor("t");
  REQUIRE(t);
  float v[8];
  std::memcpy(v, t->data, sizeof v);
  CHECK(v[7] == 7.0f);
}

TEST_CASE("gguf: every truncation of a valid file is an error, never a crash") {
  auto img = small_valid();
  for (size_t n = 0; n < img.size(); ++n) {
    std::vector<uint8_t> cut(img.begin(), img.begin() + static_cast<long>(n));
    CAPTURE(n);
    CHECK(!parse_error(cut).empty());
  }
  // The real model too, cut at a spread of offsets including inside the header and the data.
  auto real = dianoia::test::read_file(dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf");
  for (size_t n : {0ul, 3ul, 8ul, 23ul, 24ul, 100ul, 1000ul, 20000ul, real.size() / 2, real.size() - 1}) {
    std::vector<uint8_t> cut(real.begin(), real.begin() + static_cast<long>(n));
    CAPTURE(n);
    CHECK(!parse_error(cut).empty());
  }
}

TEST_CASE("gguf: hostile headers") {
  SUBCASE("bad magic") {
    std::vector<uint8_t> img = {'G', 'G', 'M', 'L', 3, 0, 0, 0};
    CHECK(parse_error(img).find("magic") != std::string::npos);
  }
  SUBCASE("unknown version") {
    writer w;
    w.header(0, 0, 99);
    CHECK(parse_error(w.b).find("version 99") != std::string::npos);
  }
  SUBCASE("tensor offset past the end") {
    writer w;
    w.header(1, 0);
    w.tensor("w", {4}, 0, 4096);
    w.pad();
    w.put<float>(1);
    CHECK(parse_error(w.b).find("past the end") != std::string::npos);
  }
  SUBCASE("misaligned offset") {
    writer w;
    w.header(1, 0);
    w.tensor("w", {1}, 0, 4);
    w.pad();
    for (int i = 0; i < 16; ++i) w.put<float>(1);
    CHECK(parse_error(w.b).find("not aligned") != std::string::npos);
  }
  SUBCASE("element count overflows size_t") {
    writer w;
    w.header(1, 0);
    w.tensor("w", {1ull << 40, 1ull << 40, 1ull << 40}, 0, 0);
    w.pad();
    CHECK(parse_error(w.b).find("overflow") != std::string::npos);
  }
  SUBCASE("a 2^40-element tensor in a tiny file") {
    writer w;
    w.header(1, 0);
    w.tensor("w", {1ull << 40}, 0, 0);
    w.pad();
    CHECK(parse_error(w.b).find("past the end") != std::string::npos);
  }
  SUBCASE("string length 2^63") {
    writer w;
    w.header(0, 1);
    w.put<uint64_t>(1ull << 63);
    w.pad(64);
    CHECK(parse_error(w.b).find("implausible") != std::string::npos);
  }
  SUBCASE("array count that would overflow when multiplied") {
    writer w;
    w.header(0, 1);
    w.str("a");
    w.put<uint32_t>(9);
    w.put<uint32_t>(6);
    w.put<uint64_t>(1ull << 62);
    CHECK(parse_error(w.b).find("exceeds") != std::string::npos);
  }
  SUBCASE("huge tensor and key counts") {
    writer w;
    w.header(1ull << 60, 1ull << 60);
    CHECK(parse_error(w.b).find("exceeds") != std::string::npos);
  }
  SUBCASE("non-UTF-8 key") {
    writer w;
    w.header(0, 1);
    w.str("\xff\xfe");
    w.put<uint32_t>(4);
    w.put<uint32_t>(1);
    CHECK(parse_error(w.b).find("UTF-8") != std::string::npos);
  }
  SUBCASE("duplicate tensor names") {
    writer w;
    w.header(2, 0);
    w.tensor("w", {8}, 0, 0);
    w.tensor("w", {8}, 0, 32);
    w.pad();
    for (int i = 0; i < 16; ++i) w.put<float>(1);
    CHECK(parse_error(w.b).find("duplicate tensor") != std::string::npos);
  }
  SUBCASE("unknown tensor type is named") {
    writer w;
    w.header(1, 0);
    w.tensor("w", {32}, 5, 0);
    w.pad();
    CHECK(parse_error(w.b).find("unknown ggml type id 5") != std::string::npos);
  }
  SUBCASE("unknown value type") {
    writer w;
    w.header(0, 1);
    w.str("k");
    w.put<uint32_t>(77);
    CHECK(parse_error(w.b).find("unknown value type") != std::string::npos);
  }
  SUBCASE("nonexistent path") {
    CHECK_THROWS_WITH_AS(gguf::file::open("/nonexistent/model.gguf"), doctest::Contains("cannot open"), error);
  }
}
