// A file from the official safetensors writer reads back exactly (every dtype, metadata, scalar, empty,
// 4-D); tensor_set's mapping, repacking and binding rules on hand-made files.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "safetensors/convert.hpp"
#include "safetensors/file.hpp"
#include "safetensors/tensor_set.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
namespace st = dianoia::detail::safetensors;

namespace {

std::string to_hex(std::span<const uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

// Builds a safetensors image from (name, dtype, shape, bytes), in order, with an optional extra header
// prefix length to misalign the data section.
struct builder {
  struct item {
    std::string name, dtype;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<item> items;
  size_t header_pad_to = 8;
  std::vector<uint8_t> build() const {
    std::string h = "{";
    uint64_t at = 0;
    std::vector<uint8_t> data;
    for (const auto& it : items) {
      if (h.size() > 1) h += ",";
      h += "\"" + it.name + "\":{\"dtype\":\"" + it.dtype + "\",\"shape\":[";
      for (size_t i = 0; i < it.shape.size(); ++i) h += (i ? "," : "") + std::to_string(it.shape[i]);
      h += "],\"data_offsets\":[" + std::to_string(at) + "," + std::to_string(at + it.bytes.size()) + "]}";
      at += it.bytes.size();
      data.insert(data.end(), it.bytes.begin(), it.bytes.end());
    }
    h += "}";
    while ((8 + h.size()) % header_pad_to) h += ' ';
    std::vector<uint8_t> out(8);
    const uint64_t n = h.size();
    std::memcpy(out.data(), &n, 8);
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
  }
};

template <class T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

st::binder keep_all() {
  return [](const st::tensor_entry& t) { return std::optional(st::binding{t.name, 0}); };
}

std::unique_ptr<st::tensor_set> set_of(const std::vector<uint8_t>& img, const st::binder& b = keep_all()) {
  std::vector<std::unique_ptr<st::file>> files;
  files.push_back(st::file::parse(img));
  return st::tensor_set::from_files(std::move(files), b, "<memory>");
}

}  // namespace

TEST_CASE("safetensors round trip: every dtype from the official writer") {
  const std::string dir = dianoia::test::fixtures_dir() + "/roundtrip/";
  const json_value m = json_parse(dianoia::test::read_file(dir + "manifest.json"));
  const json_value& s = *m.find("safetensors");
  auto f = st::file::open(dir + s.find("file")->as_string());
  const auto& want_md = s.find("metadata")->as_object();
  REQUIRE(f->hdr().metadata.size() == want_md.size());
  for (const auto& kv : want_md) {
    bool found = false;
    for (const auto& [k, v] : f->hdr().metadata)
      if (k == kv.key) found = v == kv.value.as_string();
    CHECK_MESSAGE(found, kv.key);
  }
  const auto& tensors = s.find("tensors")->as_array();
  CHECK(f->tensors().size() == tensors.size());
  for (const auto& t : tensors) {
    const std::string& name = t.find("name")->as_string();
    CAPTURE(name);
    const st::tensor_entry* e = f->find(name);
    REQUIRE(e);
    CHECK(st::dtype_name(e->type) == t.find("dtype")->as_string());
    const auto& shape = t.find("shape")->as_array();
    REQUIRE(e->shape.size() == shape.size());
    for (size_t i = 0; i < shape.size(); ++i) CHECK(e->shape[i] == static_cast<uint64_t>(shape[i].as_int()));
    CHECK(to_hex(f->data(*e)) == t.find("hex")->as_string());
  }
}

TEST_CASE("safetensors conversions are exact") {
  CHECK(st::f16_to_f32(0x3c00) == 1.0f);
  CHECK(st::f16_to_f32(0xc000) == -2.0f);
  CHECK(st::f16_to_f32(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(st::f16_to_f32(0x7bff) == 65504.0f);
  CHECK(std::isinf(st::f16_to_f32(0x7c00)));
  CHECK(st::bf16_to_f32(0x3f80) == 1.0f);
  CHECK(st::f32_to_bf16(1.0f) == 0x3f80);
  CHECK(st::f32_to_bf16(1.00390625f) == 0x3f80);  // tie to even
  CHECK(st::f32_to_bf16(1.01171875f) == 0x3f82);  // tie to even, upwards
  CHECK(st::f8_e4m3_to_f32(0x38) == 1.0f);
  CHECK(st::f8_e4m3_to_f32(0x7e) == 448.0f);        // largest finite
  CHECK(st::f8_e4m3_to_f32(0x01) == std::ldexp(1.0f, -9));  // smallest subnormal
  CHECK(st::f8_e4m3_to_f32(0xb8) == -1.0f);
  CHECK(std::isnan(st::f8_e4m3_to_f32(0x7f)));
}

TEST_CASE("tensor_set: mapped in place, shapes reversed into ggml order") {
  builder b;
  b.items.push_back({"w", "F32", {2, 3}, bytes_of(std::vector<float>{1, 2, 3, 4, 5, 6})});
  b.items.push_back({"h", "F16", {2, 2}, bytes_of(std::vector<uint16_t>{0x3c00, 0x4000, 0x4200, 0x4400})});
  auto img = b.build();
  auto s = set_of(img);
  const tensor_view* w = s->find_tensor("w");
  REQUIRE(w);
  CHECK(w->type == ggml_type::f32);
  CHECK(w->ne[0] == 3);
  CHECK(w->ne[1] == 2);
  CHECK(w->nbytes == 24);
  CHECK(w->data == s->files()[0]->data(*s->files()[0]->find("w")).data());  // zero-copy
  CHECK(s->find_tensor("h")->type == ggml_type::f16);
  CHECK(s->n_repacked() == 0);
  CHECK(s->mapped_bytes() == 32);
}

TEST_CASE("tensor_set: 1-D half tensors become F32; fp8 with block scales becomes BF16") {
  builder b;
  b.items.push_back({"norm", "BF16", {3}, bytes_of(std::vector<uint16_t>{0x3f80, 0xc000, 0x3e80})});
  b.items.push_back({"bias", "F16", {2}, bytes_of(std::vector<uint16_t>{0x3c00, 0xbc00})});
  // A 130 x 2 fp8 weight: rows 0..127 in scale block 0 (x 2), rows 128..129 in block 1 (x 0.5).
  std::vector<uint8_t> w8(260, 0x38);  // 1.0
  w8[1] = 0xc0;                        // -2.0
  b.items.push_back({"w", "F8_E4M3", {130, 2}, w8});
  b.items.push_back({"w_scale_inv", "F32", {2, 1}, bytes_of(std::vector<float>{2.0f, 0.5f})});
  auto img = b.build();
  auto s = set_of(img);
  CHECK(s->find_tensor("w_scale_inv") == nullptr);  // consumed by its weight
  CHECK(s->n_repacked() == 3);
  CHECK(s->owned_bytes() >= 12 + 8 + 520);
  s->materialize();
  const tensor_view* n = s->find_tensor("norm");
  REQUIRE(n);
  CHECK(n->type == ggml_type::f32);
  const float* nf = reinterpret_cast<const float*>(n->data);
  CHECK(nf[0] == 1.0f);
  CHECK(nf[1] == -2.0f);
  CHECK(nf[2] == 0.25f);
  const float* bf = reinterpret_cast<const float*>(s->find_tensor("bias")->data);
  CHECK(bf[1] == -1.0f);
  const tensor_view* w = s->find_tensor("w");
  CHECK(w->type == ggml_type::bf16);
  const uint16_t* wb = reinterpret_cast<const uint16_t*>(w->data);
  CHECK(st::bf16_to_f32(wb[0]) == 2.0f);
  CHECK(st::bf16_to_f32(wb[1]) == -4.0f);
  CHECK(st::bf16_to_f32(wb[128 * 2]) == 0.5f);
  CHECK(reinterpret_cast<uintptr_t>(w->data) % 64 == 0);
}

TEST_CASE("tensor_set: a wrong scale shape is named") {
  builder b;
  b.items.push_back({"w", "F8_E4M3", {4, 4}, std::vector<uint8_t>(16, 0x38)});
  b.items.push_back({"w_scale_inv", "F32", {2, 1}, bytes_of(std::vector<float>{1, 1})});
  auto img = b.build();
  CHECK_THROWS_WITH_AS(set_of(img), doctest::Contains("must be F32 [1, 1]"), error);
}

TEST_CASE("tensor_set: q/k rows permuted per head into adjacent pairs") {
  // 2 heads of 4 rows, 1 column: HF rows h*4 + {0,1,2,3} = halves {x0,x1 | y0,y1}; GGUF wants x0,y0,x1,y1.
  builder b;
  b.items.push_back({"q", "F32", {8, 1}, bytes_of(std::vector<float>{0, 1, 2, 3, 10, 11, 12, 13})});
  auto img = b.build();
  auto s = set_of(img, [](const st::tensor_entry& t) { return std::optional(st::binding{t.name, 2}); });
  CHECK(s->is_repacked("q"));
  s->materialize();
  const float* q = reinterpret_cast<const float*>(s->find_tensor("q")->data);
  CHECK(std::vector<float>(q, q + 8) == std::vector<float>{0, 2, 1, 3, 10, 12, 11, 13});
  builder bad;
  bad.items.push_back({"q", "F32", {6, 1}, bytes_of(std::vector<float>(6, 0))});
  auto img2 = bad.build();
  CHECK_THROWS_WITH_AS(set_of(img2, [](const st::tensor_entry& t) { return std::optional(st::binding{t.name, 2}); }),
                       doctest::Contains("cannot be split into 2 RoPE heads"), error);
}

TEST_CASE("tensor_set: misaligned data is copied, not read misaligned") {
  builder b;
  b.items.push_back({"pad", "U8", {2}, {7, 7}});
  b.items.push_back({"w", "F32", {2}, bytes_of(std::vector<float>{1.5f, -3.0f})});
  auto img = b.build();
  auto s = set_of(img, [](const st::tensor_entry& t) {
    return t.name == "pad" ? std::nullopt : std::optional(st::binding{t.name, 0});
  });
  CHECK(s->is_repacked("w"));
  s->materialize();
  const tensor_view* w = s->find_tensor("w");
  CHECK(reinterpret_cast<uintptr_t>(w->data) % 4 == 0);
  float v[2];
  std::memcpy(v, w->data, 8);
  CHECK(v[0] == 1.5f);
  CHECK(v[1] == -3.0f);
}

TEST_CASE("tensor_set: binding errors are named") {
  builder b;
  b.items.push_back({"u", "U8", {4}, {1, 2, 3, 4}});
  auto img = b.build();
  CHECK_THROWS_WITH_AS(set_of(img), doctest::Contains("dtype U8"), error);
  builder two;
  two.items.push_back({"a", "F32", {1}, bytes_of(std::vector<float>{1})});
  two.items.push_back({"b", "F32", {1}, bytes_of(std::vector<float>{2})});
  auto img2 = two.build();
  CHECK_THROWS_WITH_AS(set_of(img2, [](const st::tensor_entry&) { return std::optional(st::binding{"same", 0}); }),
                       doctest::Contains("two tensors map to 'same'"), error);
  builder five;
  five.items.push_back({"x", "F32", {1, 1, 1, 1, 1}, bytes_of(std::vector<float>{1})});
  auto img3 = five.build();
  CHECK_THROWS_WITH_AS(set_of(img3), doctest::Contains("5 dimensions"), error);
  // The same name in two shards.
  std::vector<std::unique_ptr<st::file>> files;
  files.push_back(st::file::parse(img2));
  files.push_back(st::file::parse(img2));
  CHECK_THROWS_WITH_AS(st::tensor_set::from_files(std::move(files), keep_all(), "x"),
                       doctest::Contains("more than one shard"), error);
}
