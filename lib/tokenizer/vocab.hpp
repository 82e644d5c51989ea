// Tokenizer vocabulary as plain data. Loaders (GGUF today, tokenizer.json later) fill a vocab_data;
// validate_vocab() checks it once, so the algorithms downstream can trust every id and size.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dianoia::detail {

namespace gguf {
class file;
}

// "llama" in GGUF: SentencePiece-style merges driven by token scores, with <0xAB> byte fallback.
// "gpt2" in GGUF: byte-level BPE driven by a ranked merge list.
enum class vocab_model { spm, bpe };

// Values of tokenizer.ggml.token_type (the same numbering as SentencePiece / llama.cpp).
enum class token_type : int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

struct vocab_data {
  vocab_model model = vocab_model::spm;
  std::string pre = "default";  // pre-tokenizer name (tokenizer.ggml.pre); ignored for spm
  std::vector<std::string> tokens;
  std::vector<float> scores;      // empty (all 0) or one per token
  std::vector<token_type> types;  // empty (all normal) or one per token
  std::vector<std::pair<std::string, std::string>> merges;  // bpe only, in rank order
  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // spm: prepend ' ' to the text (and after each special token)
};

// Throws error(format) for inconsistent data: count mismatches, ids out of range, unknown token types,
// byte tokens that are not "<0xHH>". (Merges naming unknown tokens are rejected when the BPE model indexes
// them, so every tokenizer construction checks them too.)
void validate_vocab(const vocab_data& v);

// Reads the tokenizer.ggml.* keys. error(unsupported) for an unknown model or pre-tokenizer name,
// error(format) for missing/malformed keys.
vocab_data load_vocab_gguf(const gguf::file& f);

}  // namespace dianoia::detail
