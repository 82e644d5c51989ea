// Finds special-token texts in the input before any other processing, as llama.cpp does: each control,
// user-defined or unknown token text, longest first, is cut out of the raw spans that remain. Control and
// unknown tokens are only looked for when the caller asks to parse special tokens; user-defined (HF
// "added") tokens always are, since HF matches them in any text and the reference tokenizations expect it.
#pragma once
#include <cstdint>
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
  explicit special_matcher(const vocab_data& v);
  void partition(std::string_view text, bool parse_special, std::vector<fragment>& out) const;

 private:
  struct entry {
    int32_t id;
    bool control;  // control or unknown: only with parse_special
    std::string_view text;
  };
  std::vector<entry> entries_;
};

}  // namespace dianoia::detail
