#include "tokenizer/vocab.hpp"

#include <limits>
#include <string_view>

#include "core/error.hpp"

namespace dianoia::detail {

namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }

void check_id(int32_t id, size_t n, const char* what) {
  if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= n))
    fail(errc::format, "tokenizer: {} token id {} is out of range (vocabulary has {} tokens)", what, id, n);
}

}  // namespace

void validate_vocab(const vocab_data& v) {
  const size_t n = v.tokens.size();
  if (n == 0) fail(errc::format, "tokenizer: the vocabulary is empty");
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    fail(errc::format, "tokenizer: vocabulary of {} tokens is too large", n);
  if (!v.scores.empty() && v.scores.size() != n)
    fail(errc::format, "tokenizer: {} scores for {} tokens", v.scores.size(), n);
  if (!v.token_flags.empty() && v.token_flags.size() != n)
    fail(errc::format, "tokenizer: {} token flags for {} tokens", v.token_flags.size(), n);
  if (!v.types.empty() && v.types.size() != n)
    fail(errc::format, "tokenizer: {} token types for {} tokens", v.types.size(), n);
  // No real token is longer than a few hundred bytes; a longer one only makes every lookup and special-token
  // scan that touches it slow.
  for (size_t i = 0; i < n; ++i)
    if (v.tokens[i].size() > max_token_bytes)
      fail(errc::format, "tokenizer: token {} is {} bytes long (the limit is {})", i, v.tokens[i].size(), max_token_bytes);
  for (size_t i = 0; i < v.types.size(); ++i) {
    const auto t = static_cast<int32_t>(v.types[i]);
    if (t < 0 || t > static_cast<int32_t>(token_type::byte))
      fail(errc::format, "tokenizer: token {} has unknown type {}", i, t);
    if (v.types[i] == token_type::byte) {
      const std::string& s = v.tokens[i];
      // SPM byte tokens are decoded from their text; anything else there would decode to garbage.
      if (v.model == vocab_model::spm &&
          !(s.size() == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && is_hex(s[3]) && is_hex(s[4]) && s[5] == '>'))
        fail(errc::format, "tokenizer: byte token {} has text '{}', expected <0xHH>", i, s);
    }
  }
  check_id(v.bos, n, "BOS");
  check_id(v.eos, n, "EOS");
  check_id(v.eot, n, "EOT");
  check_id(v.eom, n, "EOM");
  check_id(v.unk, n, "unknown");
  check_id(v.pad, n, "padding");
  if (v.add_bos && v.bos < 0) fail(errc::format, "tokenizer: add_bos_token is set but there is no BOS token");
  if (v.add_eos && v.eos < 0) fail(errc::format, "tokenizer: add_eos_token is set but there is no EOS token");

  // Merges are checked where they are indexed (bpe_model), to avoid a second pass over them.
  if (v.model == vocab_model::spm && !v.merges.empty())
    fail(errc::format, "tokenizer: a SentencePiece vocabulary does not take merges");
}

}  // namespace dianoia::detail
