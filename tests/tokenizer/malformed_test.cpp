// Vocabularies built in memory: a tiny well-formed one checks the algorithms on hand-computed cases, and
// broken variants must be rejected with error(format) / error(unsupported), never crash.
#include <doctest/doctest.h>

#include <cstring>
#include <functional>

#include "core/error.hpp"
#include "gguf/gguf.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace dianoia;
using detail::errc;

namespace {

// Writes a GGUF v3 image with metadata only.
class gguf_writer {
 public:
  gguf_writer& str(const std::string& k, const std::string& v) { return key(k, 8).s(v); }
  gguf_writer& u32(const std::string& k, uint32_t v) { return key(k, 4).raw(&v, 4); }
  gguf_writer& i32(const std::string& k, int32_t v) { return key(k, 5).raw(&v, 4); }
  gguf_writer& boolean(const std::string& k, bool v) {
    const uint8_t b = v;
    return key(k, 7).raw(&b, 1);
  }
  gguf_writer& strs(const std::string& k, const std::vector<std::string>& v) {
    key(k, 9).u32v(8).u64v(v.size());
    for (const auto& x : v) s(x);
    return *this;
  }
  gguf_writer& f32s(const std::string& k, const std::vector<float>& v) {
    key(k, 9).u32v(6).u64v(v.size());
    for (float x : v) raw(&x, 4);
    return *this;
  }
  gguf_writer& i32s(const std::string& k, const std::vector<int32_t>& v) {
    key(k, 9).u32v(5).u64v(v.size());
    for (int32_t x : v) raw(&x, 4);
    return *this;
  }
  std::vector<uint8_t> bytes() const {
    gguf_writer h;
    h.raw("GGUF", 4).u32v(3).u64v(0).u64v(n_kv_);
    std::vector<uint8_t> out = h.body_;
    out.insert(out.end(), body_.begin(), body_.end());
    while (out.size() % 32) out.push_back(0);
    return out;
  }

 private:
  gguf_writer& raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    body_.insert(body_.end(), b, b + n);
    return *this;
  }
  gguf_writer& u32v(uint32_t v) { return raw(&v, 4); }
  gguf_writer& u64v(uint64_t v) { return raw(&v, 8); }
  gguf_writer& s(const std::string& x) { return u64v(x.size()).raw(x.data(), x.size()); }
  gguf_writer& key(const std::string& k, uint32_t type) {
    ++n_kv_;
    return s(k).u32v(type);
  }
  std::vector<uint8_t> body_;
  uint64_t n_kv_ = 0;
};

// A byte-level BPE vocabulary: the 256 byte characters, then merges building "Ġthe" and "ab".
struct tiny_bpe {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges = {"a b", "Ġ t", "h e", "Ġt he"};
  tiny_bpe() {
    uint32_t next = 256;
    for (unsigned b = 0; b < 256; ++b) {
      uint32_t cp = b;
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      if (!printable) cp = next++;
      std::string u;
      if (cp < 0x80) u += char(cp);
      else {
        u += char(0xC0 | (cp >> 6));
        u += char(0x80 | (cp & 0x3F));
      }
      tokens.push_back(u);
    }
    for (const char* t : {"ab", "Ġt", "he", "Ġthe", "<|end|>"}) tokens.push_back(t);
    types.assign(tokens.size(), 1);
    types.back() = 3;
  }
  gguf_writer writer() const {
    gguf_writer w;
    w.str("tokenizer.ggml.model", "gpt2").str("tokenizer.ggml.pre", "gpt-2").strs("tokenizer.ggml.tokens", tokens);
    w.i32s("tokenizer.ggml.token_type", types).strs("tokenizer.ggml.merges", merges);
    w.u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tokens.size() - 1));
    return w;
  }
};

std::unique_ptr<detail::tokenizer> build(const gguf_writer& w, std::vector<uint8_t>& storage) {
  storage = w.bytes();
  auto f = detail::gguf::file::parse(storage);
  return detail::tokenizer::from_gguf(*f);
}

errc error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const detail::error& e) {
    MESSAGE("  rejected: " << std::string(e.what()));
    return e.code();
  }
  return errc::ok;
}

}  // namespace

TEST_CASE("tiny in-memory BPE vocabulary") {
  tiny_bpe v;
  std::vector<uint8_t> buf;
  auto tok = build(v.writer(), buf);
  const int32_t ab = 256, the = 259, end = 260;
  CHECK(tok->encode("ab", false, false) == std::vector<int32_t>{ab});
  // " the" -> Ġ t h e -> (Ġt)(he) -> Ġthe; "c" has no merge.
  CHECK(tok->encode("c the", false, false) == std::vector<int32_t>{'c', the});
  CHECK(tok->encode("<|end|>", false, true) == std::vector<int32_t>{end});
  CHECK(tok->is_eog(end));
  CHECK(tok->decode(tok->encode("x ab the\n", false, false), false) == "x ab the\n");
}

TEST_CASE("malformed vocabularies are rejected") {
  std::vector<uint8_t> buf;
  auto expect = [&](errc want, const gguf_writer& w) { CHECK(error_of([&] { build(w, buf); }) == want); };

  {  // merge naming an unknown token
    tiny_bpe v;
    v.merges.push_back("x nosuch");
    expect(errc::format, v.writer());
  }
  {  // merge whose result is not a token
    tiny_bpe v;
    v.merges.push_back("x y");
    expect(errc::format, v.writer());
  }
  {  // merge without a space
    tiny_bpe v;
    v.merges.push_back("xy");
    expect(errc::format, v.writer());
  }
  {  // token_type count mismatch
    tiny_bpe v;
    v.types.pop_back();
    expect(errc::format, v.writer());
  }
  {  // unknown token type value
    tiny_bpe v;
    v.types[3] = 42;
    expect(errc::format, v.writer());
  }
  {  // special id out of range
    tiny_bpe v;
    expect(errc::format, v.writer().u32("tokenizer.ggml.bos_token_id", 100000));
  }
  {  // no merges for a BPE vocabulary
    tiny_bpe v;
    gguf_writer w;
    w.str("tokenizer.ggml.model", "gpt2").strs("tokenizer.ggml.tokens", v.tokens);
    expect(errc::format, w);
  }
  {  // unknown pre-tokenizer
    tiny_bpe v;
    gguf_writer w;
    w.str("tokenizer.ggml.model", "gpt2").str("tokenizer.ggml.pre", "no-such-pre").strs("tokenizer.ggml.tokens", v.tokens);
    w.strs("tokenizer.ggml.merges", v.merges);
    expect(errc::unsupported, w);
  }
  {  // unknown model
    gguf_writer w;
    w.str("tokenizer.ggml.model", "t5").strs("tokenizer.ggml.tokens", {"a"});
    expect(errc::unsupported, w);
  }
  {  // tokens of the wrong type, and no tokens at all
    gguf_writer w;
    w.str("tokenizer.ggml.model", "llama").i32s("tokenizer.ggml.tokens", {1, 2});
    expect(errc::format, w);
    gguf_writer w2;
    w2.str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", {});
    expect(errc::format, w2);
    gguf_writer w3;
    w3.str("tokenizer.ggml.model", "llama");
    expect(errc::format, w3);
  }
  {  // SPM: score count mismatch, malformed byte token
    gguf_writer w;
    w.str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
    w.f32s("tokenizer.ggml.scores", {0, 0, 0});
    expect(errc::format, w);
    gguf_writer w2;
    w2.str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0xZZ>"});
    w2.i32s("tokenizer.ggml.token_type", {2, 3, 3, 6});
    expect(errc::format, w2);
  }
}

TEST_CASE("tiny in-memory SPM vocabulary") {
  // Scores decide: "▁ab" (score -1) beats "ab" (-2) only if "▁a" forms first; here "ab" wins, then "▁ab".
  gguf_writer w;
  w.str("tokenizer.ggml.model", "llama");
  w.strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0x21>", "\xE2\x96\x81", "a", "b", "ab", "\xE2\x96\x81" "ab"});
  w.f32s("tokenizer.ggml.scores", {0, 0, 0, 0, -5, -5, -5, -2, -1});
  w.i32s("tokenizer.ggml.token_type", {2, 3, 3, 6, 1, 1, 1, 1, 1});
  std::vector<uint8_t> buf;
  auto tok = build(w, buf);
  CHECK(tok->add_bos());
  CHECK(tok->encode("ab", true, false) == std::vector<int32_t>{1, 8});
  CHECK(tok->encode("ab ba!", false, false) == std::vector<int32_t>{8, 4, 6, 5, 3});
  // '?' has no token and no byte token: it becomes <unk>.
  CHECK(tok->encode("a?", false, false) == std::vector<int32_t>{4, 5, 0});
  CHECK(tok->decode(tok->encode("ab ba!", true, false), true) == "ab ba!");
}

TEST_CASE("GGUF: a Qwen-family vocabulary normalizes to NFC (as its tokenizer.json); GPT-2's does not") {
  tiny_bpe v;
  std::vector<uint8_t> s1, s2;
  gguf_writer q;
  q.str("tokenizer.ggml.model", "gpt2").str("tokenizer.ggml.pre", "qwen2").strs("tokenizer.ggml.tokens", v.tokens);
  q.i32s("tokenizer.ggml.token_type", v.types).strs("tokenizer.ggml.merges", v.merges);
  auto qwen = build(q, s1);
  auto gpt2 = build(v.writer(), s2);
  const std::string composed = "caf\xC3\xA9", decomposed = "caf\x65\xCC\x81";
  CHECK(qwen->encode(decomposed, false, false) == qwen->encode(composed, false, false));
  CHECK(gpt2->encode(decomposed, false, false) != gpt2->encode(composed, false, false));
}
