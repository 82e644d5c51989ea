// Incremental detokenization: pushing ids one at a time gives exactly decode()'s text, never a partial
// UTF-8 character in between, for byte-level BPE (Qwen3) and SentencePiece with byte fallback (llama-spm).
#include <doctest/doctest.h>

#include "core/utf8.hpp"
#include "tok_test_util.hpp"
#include "tokenizer/stream_decoder.hpp"

using namespace dianoia;
using namespace dianoia::test;

namespace {

// Streams `ids`; checks every chunk is whole valid UTF-8 and the total equals decode(). Returns the
// chunks.
std::vector<std::string> stream(const detail::tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special) {
  detail::stream_decoder dec(tok, skip_special);
  std::vector<std::string> chunks;
  std::string all;
  for (int32_t id : ids) {
    std::string out;
    dec.push(id, out);
    CHECK(detail::utf8_valid(out));
    all += out;
    chunks.push_back(out);
  }
  std::string tail;
  dec.flush(tail);
  all += tail;
  chunks.push_back(tail);
  CHECK(all == tok.decode(ids, skip_special));
  return chunks;
}

const char* const k_texts[] = {
    "Hello world",
    "emoji 👨‍👩‍👧 and flags 🇫🇷🇯🇵, math ∑ᵢ xᵢ² ≤ ∞",
    "中文文本，日本語のテキスト、한국어 텍스트",
    "  leading spaces\n\n\ttabs  ",
    "broken \xF0\x9F\x98 bytes \xFF\xFE and a lone \xC3 at the end \xE2\x82",
    "combining e\xCC\x81 and \xE1\x84\x80\xE1\x85\xA1",
};

}  // namespace

TEST_CASE("stream_decoder: Qwen3 byte-level BPE") {
  const std::string dir = data_dir() + "/tokenizers/qwen3";
  auto tok = detail::tokenizer::from_vocab(
      detail::load_vocab_hf(read_file(dir + "/tokenizer.json"), read_file(dir + "/tokenizer_config.json")));
  for (const char* text : k_texts) {
    const auto ids = tok->encode(text, false, false);
    stream(*tok, ids, false);
    stream(*tok, ids, true);
  }
  // A 4-byte emoji spelled by tokens that each hold part of it: nothing until the last byte arrives.
  const int32_t b1 = tok->encode("\xF0", false, false).at(0), b2 = tok->encode("\x9F", false, false).at(0),
                b3 = tok->encode("\x98", false, false).at(0), b4 = tok->encode("\x80", false, false).at(0);
  const auto chunks = stream(*tok, {b1, b2, b3, b4}, false);
  CHECK(chunks[0].empty());
  CHECK(chunks[1].empty());
  CHECK(chunks[2].empty());
  CHECK(chunks[3] == "😀");
  // An unfinished character at the end becomes U+FFFD on flush, as decode() makes it.
  const auto cut = stream(*tok, {b1, b2}, false);
  CHECK(cut.back() == "\xEF\xBF\xBD");

  // Special tokens: rendered, or skipped.
  const auto chat = tok->encode("<|im_start|>user\nhé<|im_end|>", false, true);
  std::string shown, skipped;
  for (const auto& c : stream(*tok, chat, false)) shown += c;
  for (const auto& c : stream(*tok, chat, true)) skipped += c;
  CHECK(shown == "<|im_start|>user\nhé<|im_end|>");
  CHECK(skipped == "user\nhé");
}

TEST_CASE("stream_decoder: SentencePiece with byte fallback (llama-spm)") {
  auto t = load_tokenizer(vocab_dir() + "/ggml-vocab-llama-spm.gguf");
  for (const char* text : k_texts) {
    const auto ids = t.tok->encode(text, true, false);
    stream(*t.tok, ids, true);
    stream(*t.tok, ids, false);
  }
  // 🦙 is not in the vocabulary: four <0xHH> byte tokens, held back until the last one.
  const auto ids = t.tok->encode("🦙", false, false);
  REQUIRE(ids.size() >= 4);
  const auto chunks = stream(*t.tok, ids, true);
  std::string joined;
  for (size_t i = 0; i + 2 < chunks.size(); ++i) CHECK(chunks[i].find("\xF0") == std::string::npos);
  for (const auto& c : chunks) joined += c;
  CHECK(joined == "🦙");  // the encoder's space prefix is dropped, as decode() drops it
}
