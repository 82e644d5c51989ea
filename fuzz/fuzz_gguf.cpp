// GGUF: gguf::file::parse on any bytes, then everything a loader would touch — every metadata value
// through each typed getter, every array element, every tensor's bytes — and finally tokenizer::from_gguf
// (vocabulary loading from hostile tokenizer.ggml.* metadata) with a short encode/decode on what loads.
// Oracles: views (strings, arrays, tensor data) lie inside the input; typed getters agree with the value.
#include <algorithm>
#include <span>
#include <string>

#include "fuzz_common.hpp"
#include "gguf/gguf.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

namespace gguf = dianoia::detail::gguf;
using dianoia::fuzz::expect_ok;
using dianoia::fuzz::violated;

struct bounds {
  const uint8_t* begin;
  const uint8_t* end;
  void check(const void* p, size_t n, const char* what) const {
    const auto* b = static_cast<const uint8_t*>(p);
    if (n == 0) return;
    if (b < begin || b > end || n > static_cast<size_t>(end - b)) violated(what);
  }
};

// Reads every byte of a view so that ASan sees any access past the input; the sum keeps it from being
// optimised away.
volatile uint32_t g_sink;
void touch(const void* p, size_t n) {
  uint32_t s = 0;
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) s += b[i];
  g_sink = g_sink + s;
}

void walk_value(const gguf::value& v, const bounds& in) {
  (void)gguf::type_name(v.type);
  if (v.type == gguf::value_type::string) {
    in.check(v.str.data(), v.str.size(), "gguf string outside the input");
    touch(v.str.data(), v.str.size());
  }
  if (v.type != gguf::value_type::array) return;
  (void)gguf::type_name(v.elem_type);
  in.check(v.elems, v.elems_bytes, "gguf array outside the input");
  touch(v.elems, v.elems_bytes);
  if (v.elem_type == gguf::value_type::array && v.nested.size() != v.count) violated("gguf nested array count");
  for (const gguf::value& e : v.nested) walk_value(e, in);
}

void walk_getters(const gguf::file& f, const std::string& key, const gguf::value& v, const bounds& in) {
  if (f.find(key) != &v) violated("gguf find() does not return the first value of a key");
  expect_ok([&] { (void)f.get_uint(key); });
  expect_ok([&] { (void)f.get_int(key); });
  expect_ok([&] { (void)f.get_float(key); });
  expect_ok([&] { (void)f.get_bool(key); });
  expect_ok([&] {
    const auto s = f.get_string(key);
    if (s && v.type != gguf::value_type::string) violated("gguf get_string on a non-string");
  });
  expect_ok([&] {
    const auto a = f.get_string_array(key);
    if (!a) return;
    if (a->size() != v.count) violated("gguf get_string_array size differs from the count");
    for (std::string_view s : *a) in.check(s.data(), s.size(), "gguf array string outside the input");
  });
  expect_ok([&] {
    const auto a = f.get_f32_array(key);
    if (a && a->size() != v.count) violated("gguf get_f32_array size differs from the count");
  });
  expect_ok([&] {
    const auto a = f.get_i32_array(key);
    if (a && a->size() != v.count) violated("gguf get_i32_array size differs from the count");
  });
}

void exercise_tokenizer(const gguf::file& f) {
  std::unique_ptr<dianoia::detail::tokenizer> tok;
  if (!expect_ok([&] { tok = dianoia::detail::tokenizer::from_gguf(f); })) return;
  // A loaded vocabulary was validated: encoding anything and decoding any in-range id must work.
  static const char* const texts[] = {"Hello world", " <s>\n\t 12345 </s><|endoftext|>", "\xc3\xa9\xe2\x82\xac\xff"};
  for (const char* t : texts) {
    for (bool special : {false, true}) {
      const auto ids = tok->encode(t, special, special);
      for (int32_t id : ids)
        if (id < 0 || id >= tok->n_vocab()) violated("tokenizer from gguf produced an id out of range");
      (void)tok->decode(ids, !special);
    }
  }
  const int32_t n = std::min<int32_t>(tok->n_vocab(), 512);
  for (int32_t id = 0; id < n; ++id) {
    (void)tok->token_bytes(id, true);
    (void)tok->token_text(id);
    (void)tok->is_eog(id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<gguf::file> f;
  if (!expect_ok([&] { f = gguf::file::parse(std::span<const uint8_t>(data, size), "<fuzz>"); })) return 0;
  const bounds in{data, data + size};
  if (f->file_size() != size) violated("gguf file_size differs from the input size");

  for (const auto& [key, v] : f->metadata()) {
    walk_value(v, in);
    walk_getters(*f, key, v, in);
  }
  for (const auto& t : f->tensors()) {
    in.check(t.data, t.nbytes, "gguf tensor data outside the input");
    if (t.nbytes && !t.data) violated("gguf tensor without data");
    touch(t.data, t.nbytes);
    if (f->find_tensor(t.name) != &t) violated("gguf find_tensor does not return the tensor");
    (void)dianoia::detail::ggml_traits(t.type);
  }
  if (f->all_tensors().size() != f->tensors().size()) violated("gguf all_tensors size");

  exercise_tokenizer(*f);
  return 0;
}
