// Tokenizer vocabulary as plain data. Loaders (GGUF, Hugging Face tokenizer.json) fill a vocab_data;
// validate_vocab() checks it once, so the algorithms downstream can trust every id and size.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/unicode_norm.hpp"

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

// Flags of HF added tokens (tokenizer.json "added_tokens"), bit values of vocab_data::token_flags.
enum token_flag : uint8_t {
  token_lstrip = 1,      // the match takes the whitespace before it
  token_rstrip = 2,      // ... and after it
  token_normalized = 4,  // matched in the normalized text instead of the raw text
};

struct vocab_data {
  vocab_model model = vocab_model::spm;
  std::string pre = "default";  // pre-tokenizer name (tokenizer.ggml.pre); ignored for spm
  std::vector<std::string> tokens;
  std::vector<float> scores;      // empty (all 0) or one per token
  std::vector<token_type> types;  // empty (all normal) or one per token
  std::vector<uint8_t> token_flags;  // empty (none) or one per token: token_flag bits
  std::vector<std::pair<std::string, std::string>> merges;  // bpe only, in rank order
  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // spm: prepend ' ' to the text (and after each special token)
  // Unicode normalizations applied in turn to the text between special tokens (tokenizer.json's
  // normalizer; GGUF files have none).
  std::vector<normal_form> normalizers;
};

// Throws error(format) for inconsistent data: count mismatches, ids out of range, unknown token types,
// byte tokens that are not "<0xHH>". (Merges naming unknown tokens are rejected when the BPE model indexes
// them, so every tokenizer construction checks them too.)
void validate_vocab(const vocab_data& v);
inline constexpr size_t max_token_bytes = size_t{1} << 16;  // validate_vocab refuses longer token texts

// Reads the tokenizer.ggml.* keys. error(unsupported) for an unknown model or pre-tokenizer name,
// error(format) for missing/malformed keys.
vocab_data load_vocab_gguf(const gguf::file& f);

// Hugging Face tokenizer.json text, with tokenizer_config.json text if there is one (BOS/EOS/PAD/UNK
// names and add_bos_token/add_eos_token; without it they come from the post-processor's template).
// Byte-level BPE (Qwen2/2.5/3, DeepSeek-R1 distills and V3, Llama-3, SmolLM2, GPT-2): the pre-tokenizer's
// regexes must be those of a known llama.cpp pre-tokenizer; NFC/NFD/NFKC/NFKD normalizers (alone or in a
// Sequence) are applied. SentencePiece-style BPE with byte fallback (Llama-2's Prepend/Replace normalizer,
// or Metaspace with prepend_scheme "never") loads as an spm vocabulary with token scores from the merge
// ranks. Added tokens keep their ids: special ones become control tokens, the others user-defined.
// error(unsupported) for another model type, pre-tokenizer, normalizer or Metaspace scheme,
// error(format) for malformed JSON or inconsistent data (ids out of range or repeated, wrong types,
// special tokens that are not in the vocabulary). Merges naming unknown tokens are rejected when the
// tokenizer is built (see validate_vocab).
vocab_data load_vocab_hf(std::string_view tokenizer_json, std::optional<std::string_view> tokenizer_config_json);

// The chat template of a tokenizer_config.json: "chat_template" as a string, or the entry named
// "default" of a list of {name, template}; "" if there is none. error(format) if malformed.
std::string load_chat_template_hf(std::string_view tokenizer_config_json);

}  // namespace dianoia::detail
