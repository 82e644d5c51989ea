// Text <-> token ids for the vocabularies GGUF files carry: SentencePiece-style ("llama") and byte-level
// BPE ("gpt2"), reproducing llama.cpp's llama_tokenize / llama_detokenize (which match HF tokenizers on
// llama.cpp's test vectors), and for tokenizer.json files (byte-level BPE, or SentencePiece-style BPE
// with byte fallback), reproducing HF tokenizers (normalizer included; checked on a 2.3 MB corpus). Immutable after construction; encode/decode are
// safe to call concurrently (encode's word cache is per thread). Incremental decoding: stream_decoder.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "tokenizer/token_index.hpp"
#include "tokenizer/vocab.hpp"

namespace dianoia::detail {

namespace gguf {
class file;
}
class bpe_model;
class spm_model;
class regex_splitter;
class special_matcher;

class tokenizer {
 public:
  // Reads tokenizer.ggml.* metadata. Unknown model/pre names -> error(unsupported); malformed data ->
  // error(format).
  static std::unique_ptr<tokenizer> from_gguf(const gguf::file& f);
  // From data another loader filled (validated here), e.g. load_vocab_hf() for a tokenizer.json.
  static std::unique_ptr<tokenizer> from_vocab(vocab_data v);
  ~tokenizer();
  tokenizer(const tokenizer&) = delete;
  tokenizer& operator=(const tokenizer&) = delete;

  int32_t n_vocab() const { return static_cast<int32_t>(v_.tokens.size()); }

  // add_special: BOS/EOS as the vocabulary asks (add_bos_token / add_eos_token). parse_special: control
  // token texts in `text` become those tokens; user-defined (added) tokens are matched either way, as in
  // llama.cpp and HF. Any byte string is accepted; invalid UTF-8 bytes are encoded as bytes.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes token `id` stands for. Control and unknown tokens yield their text only if render_special.
  // error(invalid_argument) for an id out of range.
  std::string token_bytes(int32_t id, bool render_special) const;
  // token_bytes appended to `out` (no allocation when out has room). For SentencePiece vocabularies with a
  // space prefix, strip_prefix_space removes the space the encoder put before the first word (what
  // decode() does for the first piece); returns whether the token yielded any bytes.
  bool append_bytes(int32_t id, bool render_special, bool strip_prefix_space, std::string& out) const;
  // Concatenated bytes of `ids`, made valid UTF-8 (U+FFFD for broken sequences). For SentencePiece
  // vocabularies with a space prefix, the space the encoder added before the first word is removed.
  std::string decode(std::span<const int32_t> ids, bool skip_special) const;

  // The text after the vocabulary's normalizers (tokenizer.json's NFC etc.; the identity for GGUF
  // vocabularies): what encode() tokenizes between special tokens, and so what decode() gives back.
  std::string normalize(std::string_view text) const;

  // Byte-level BPE memoizes pre-token -> ids per thread (on by default). Switching it off is for
  // measurements; call it before the tokenizer is shared between threads.
  void set_cache_enabled(bool on) { cache_enabled_ = on; }

  std::string_view token_text(int32_t id) const;
  std::optional<int32_t> find(std::string_view text) const;
  const vocab_data& vocab() const { return v_; }

  int32_t bos() const { return v_.bos; }
  int32_t eos() const { return v_.eos; }
  // tokenizer.ggml.eot_token_id, else (as llama.cpp) the first end-of-turn text the vocabulary has:
  // <|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>, <|endoftext|>, <EOT>, _<EOT>, <｜end▁of▁sentence｜>.
  int32_t eot() const { return v_.eot; }
  bool add_bos() const { return v_.add_bos; }
  bool add_eos() const { return v_.add_eos; }
  // End of generation: eos, eot, eom and every token spelled as one of the end-of-turn texts above
  // (or <|eom_id|>), so that e.g. both <|im_end|> and <|endoftext|> stop a ChatML model.
  bool is_eog(int32_t id) const { return eog_.count(id) != 0; }
  bool is_control(int32_t id) const { return type(id) == token_type::control; }
  token_type type(int32_t id) const {
    return v_.types.empty() || id < 0 || id >= n_vocab() ? token_type::normal : v_.types[static_cast<size_t>(id)];
  }

 private:
  explicit tokenizer(vocab_data v);
  struct encode_state;
  // Encodes text that holds no special token (already normalized).
  void encode_plain(std::string_view text, encode_state& st) const;
  void check_id(int32_t id) const;
  std::string_view normalize(std::string_view text, std::string (&bufs)[2], std::vector<uint32_t>& cps) const;
  // token_bytes without the range check, appending to `out`.
  void append_piece(int32_t id, bool render_special, std::string& out) const;

  vocab_data v_;
  token_index index_;
  bool space_prefix_ = false;
  bool cache_enabled_ = true;
  uint64_t serial_ = 0;  // tells per-thread caches which tokenizer filled them
  std::unique_ptr<bpe_model> bpe_;
  std::unique_ptr<spm_model> spm_;
  std::unique_ptr<regex_splitter> splitter_;
  std::unique_ptr<special_matcher> specials_;
  std::unordered_set<int32_t> eog_;
};

}  // namespace dianoia::detail
