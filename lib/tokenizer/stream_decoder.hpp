// Incremental detokenization for streaming output: ids arrive one at a time, text leaves as whole UTF-8
// characters. Bytes of a character split across tokens (byte-fallback pieces, byte-level BPE tokens
// that end mid-character) are held back until the character completes; invalid sequences become
// U+FFFD exactly as decode() makes them, so the concatenated output of push() and flush() equals
// decode(all ids, skip_special).
#pragma once
#include <cstdint>
#include <string>

#include "core/utf8.hpp"
#include "tokenizer/tokenizer.hpp"

namespace dianoia::detail {

class stream_decoder {
 public:
  // skip_special: control and unknown tokens yield nothing (as decode's skip_special).
  stream_decoder(const tokenizer& tok, bool skip_special) : tok_(tok), skip_special_(skip_special) {}

  // Appends the text `id` completes to `out`. error(invalid_argument) for an id out of range.
  void push(int32_t id, std::string& out);
  // Appends what is held back (an unfinished character becomes U+FFFD) and starts a new stream.
  void flush(std::string& out);
  // Bytes held back, waiting for the rest of a character.
  bool pending() const { return utf8_.pending(); }

 private:
  const tokenizer& tok_;
  bool skip_special_;
  bool first_ = true;
  std::string piece_;  // reused for each token's bytes
  utf8_stream utf8_;
};

}  // namespace dianoia::detail
