// Regex pre-tokenization for byte-level BPE: splits text into the words that BPE merges never cross.
// Each named pre-tokenizer is a sequence of regexes applied in turn, every one to each piece the previous
// one produced; both the matches and the text between them become pieces (HF's Split "isolated"
// behaviour, which llama.cpp reproduces). The patterns are those llama.cpp uses for each
// tokenizer.ggml.pre value.
#pragma once
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace dianoia::detail {

struct pre_tokenizer_spec {
  std::vector<std::string_view> patterns;
  bool ignore_merges = false;  // a whole word that is already a token is taken as is (llama3)
  bool add_bos = false;        // default of add_bos_token when the key is absent
};

// nullptr for a name we do not know.
const pre_tokenizer_spec* find_pre_tokenizer(std::string_view name);

struct text_span {
  size_t offset, length;
};

// Compiled (PCRE2, UTF + UCP, JIT) form of one spec. Thread-safe: split() keeps its scratch state per
// thread. Invalid UTF-8 in the input is allowed: invalid bytes never match, so they end up in the
// pieces between matches and reach byte-level BPE unchanged.
class regex_splitter {
 public:
  explicit regex_splitter(const pre_tokenizer_spec& spec);
  ~regex_splitter();
  regex_splitter(const regex_splitter&) = delete;
  regex_splitter& operator=(const regex_splitter&) = delete;

  // Buffers reused across the split() calls of one encode.
  struct scratch {
    std::vector<text_span> cur, next;
  };

  // Appends the pieces of `text` (offsets relative to text) to `out`, in order; they tile the text.
  void split(std::string_view text, std::vector<text_span>& out, scratch& buffers) const;
  void split(std::string_view text, std::vector<text_span>& out) const {
    scratch s;
    split(text, out, s);
  }

 private:
  struct compiled;
  std::vector<std::unique_ptr<compiled>> regexes_;
};

}  // namespace dianoia::detail
