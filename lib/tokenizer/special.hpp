// Finds special-token texts in the input before any other processing, as llama.cpp does: each control,
// user-defined or unknown token text, longest first, is cut out of the raw spans that remain. Control and
// unknown tokens are only looked for when the caller asks to parse special tokens; user-defined (HF
// "added") tokens always are, since HF matches them in any text and the reference tokenizations expect it.
// HF's added-token flags are honoured: lstrip/rstrip tokens take the whitespace before/after them, and
// "normalized" tokens are looked for in a second pass over the normalized text (as HF does), with their
// text normalized the same way.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.hpp"

namespace dianoia::detail {

struct fragment {
  int32_t token;  // >= 0: this special token; -1: raw text [offset, offset + length)
  size_t offset, length;
};

class special_matcher {
 public:
  // normalize: the vocabulary's normalizer, applied to the text of "normalized" tokens.
  special_matcher(const vocab_data& v, const std::function<std::string(std::string_view)>& normalize);

  enum class pass { raw, normalized };
  // Splits `text` into fragments: tokens of the given pass, and the text between them.
  void partition(std::string_view text, bool parse_special, pass which, std::vector<fragment>& out) const;
  bool has_normalized() const { return has_normalized_; }

 private:
  struct entry {
    int32_t id;
    bool control;  // control or unknown: only with parse_special
    bool normalized;
    bool lstrip, rstrip;
    std::string text;
  };
  std::vector<entry> entries_;
  bool has_normalized_ = false;
};

}  // namespace dianoia::detail
