// Tokenizers on real vocabularies, any bytes in. The first input byte chooses:
//   bits 0-1  vocabulary: 0 gpt-2 (byte-level BPE, GGUF), 1 llama-spm (SentencePiece, GGUF),
//             2/3 qwen3 (byte-level BPE from tokenizer.json, with added tokens)
//   bit 2     parse_special     bit 3  add_special
//   bit 4     decode: the rest is a list of 16-bit ids (reduced modulo n_vocab + 2, shifted by -1, so that
//             both ends of the range and just past them occur) instead of text to encode.
// Oracles: every id encode returns is in range; decode output is valid UTF-8; without special-token
// parsing, for valid UTF-8 text, decode(encode(text)) == text on gpt-2 and is a fixed point on qwen3 (NFC).
#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/utf8.hpp"
#include "fuzz_common.hpp"
#include "gguf/gguf.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

using dianoia::detail::tokenizer;
using dianoia::fuzz::violated;

struct vocabularies {
  std::string gpt2_bytes, spm_bytes;
  std::unique_ptr<dianoia::detail::gguf::file> gpt2_file, spm_file;
  std::unique_ptr<tokenizer> tok[3];
};

const vocabularies& vocabs() {
  static const vocabularies* v = [] {
    auto* r = new vocabularies;
    r->gpt2_bytes = dianoia::fuzz::read_data_file("vocab/ggml-vocab-gpt-2.gguf");
    r->spm_bytes = dianoia::fuzz::read_data_file("vocab/ggml-vocab-llama-spm.gguf");
    auto span_of = [](const std::string& s) {
      return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    };
    r->gpt2_file = dianoia::detail::gguf::file::parse(span_of(r->gpt2_bytes), "gpt-2");
    r->spm_file = dianoia::detail::gguf::file::parse(span_of(r->spm_bytes), "llama-spm");
    r->tok[0] = tokenizer::from_gguf(*r->gpt2_file);
    r->tok[1] = tokenizer::from_gguf(*r->spm_file);
    r->tok[2] = tokenizer::from_vocab(dianoia::detail::load_vocab_hf(
        dianoia::fuzz::read_data_file("tokenizers/qwen3/tokenizer.json"),
        dianoia::fuzz::read_data_file("tokenizers/qwen3/tokenizer_config.json")));
    return r;
  }();
  return *v;
}

bool valid_utf8(std::string_view s) { return dianoia::detail::utf8_valid(s); }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)vocabs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const int which = std::min(mode & 3, 2);
  const bool parse_special = mode & 4, add_special = mode & 8, decode = mode & 16;
  const tokenizer& tok = *vocabs().tok[which];
  const std::string_view rest = dianoia::fuzz::as_text(data + 1, size - 1);

  if (decode) {
    std::vector<int32_t> ids;
    const uint32_t range = static_cast<uint32_t>(tok.n_vocab()) + 2;
    for (size_t i = 0; i + 1 < rest.size(); i += 2) {
      const uint32_t raw = static_cast<uint8_t>(rest[i]) | static_cast<uint32_t>(static_cast<uint8_t>(rest[i + 1])) << 8;
      ids.push_back(static_cast<int32_t>(raw * 37u % range) - 1);
    }
    std::string out;
    const bool in_range = dianoia::fuzz::expect_ok([&] { out = tok.decode(ids, parse_special); });
    bool all_valid = true;
    for (int32_t id : ids) all_valid &= id >= 0 && id < tok.n_vocab();
    if (in_range != all_valid) violated("decode accepted an id out of range or rejected a valid one");
    if (in_range && !valid_utf8(out)) violated("decode returned invalid UTF-8");
    for (int32_t id : ids) {
      if (id < 0 || id >= tok.n_vocab()) continue;
      (void)tok.token_bytes(id, add_special);
      (void)tok.type(id);
    }
    return 0;
  }

  const std::vector<int32_t> ids = tok.encode(rest, add_special, parse_special);
  for (int32_t id : ids)
    if (id < 0 || id >= tok.n_vocab()) violated("encode produced an id out of range");
  const std::string back = tok.decode(ids, false);
  if (!valid_utf8(back)) violated("decode returned invalid UTF-8");
  if (parse_special || add_special || !valid_utf8(rest)) return 0;
  // gpt-2 has no normalizer: its byte-level BPE must give the text back. qwen3's tokenizer.json asks for
  // NFC, so there the text comes back normalized: a second round must change nothing.
  if (which == 0 && back != rest) violated("byte-level BPE: decode(encode(text)) != text");
  if (which == 2 && tok.decode(tok.encode(back, false, false), false) != back)
    violated("byte-level BPE + NFC: decode(encode(.)) is not idempotent");
  return 0;
}
