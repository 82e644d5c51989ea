// Grammar-constrained decoding: a grammar or JSON schema turned into a mask over the vocabulary, token
// by token. The engine is llguidance (Rust, crates.io; see docs/decisions.md), built in when the build
// has DIANOIA_WITH_LLGUIDANCE; without it every constructor here fails with errc::unsupported.
//
// Two pieces: grammar_vocab adapts a tokenizer's vocabulary to the engine once (token bytes, the
// end-of-generation ids, a tokenize callback) and is shared by every matcher over that vocabulary;
// grammar_matcher follows one generation (one per sample) and says which tokens may come next.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace dianoia::detail {

class tokenizer;

// Numbered as DIANOIA_GRAMMAR_* in capi/dianoia.h.
enum class grammar_kind : int32_t { none = 0, json_schema = 1, lark = 2, regex = 3 };

struct grammar_spec {
  grammar_kind kind = grammar_kind::none;
  std::string text;  // the JSON schema, the Lark grammar (llguidance's dialect) or the regular expression
  bool active() const { return kind != grammar_kind::none; }
};

// "JSON schema", "Lark grammar", "regular expression": for messages.
std::string_view grammar_kind_name(grammar_kind k);

// Whether this build has a grammar engine.
bool grammar_engine_available();

// A vocabulary as the engine sees it. Immutable, thread-safe; the tokenizer must outlive it.
class grammar_vocab {
 public:
  // `eog_ids`: the tokens that end a generation (the engine allows them once the grammar accepts).
  // error(unsupported) without an engine; error(internal) if the engine refuses the vocabulary.
  grammar_vocab(const tokenizer& tok, std::span<const int32_t> eog_ids);
  ~grammar_vocab();
  grammar_vocab(const grammar_vocab&) = delete;
  grammar_vocab& operator=(const grammar_vocab&) = delete;
  int32_t n_vocab() const { return n_vocab_; }

 private:
  friend class grammar_matcher;
  struct impl;
  std::unique_ptr<impl> p_;
  int32_t n_vocab_ = 0;
};

// The adapter for `tok`, shared by every session on it while any holds it: building one takes about
// half a second on a 150k vocabulary (Qwen2.5), so sessions of one model build it once. Thread-safe.
std::shared_ptr<const grammar_vocab> shared_grammar_vocab(const tokenizer& tok, std::span<const int32_t> eog_ids);

// One generation's position in the grammar. Not thread-safe; copy it to follow another sequence.
class grammar_matcher {
 public:
  // Compiles `g` (which must be active). A grammar the engine refuses is error(invalid_argument) with
  // the engine's message; error(unsupported) without an engine.
  grammar_matcher(std::shared_ptr<const grammar_vocab> vocab, const grammar_spec& g);
  grammar_matcher(const grammar_matcher& other);  // the same grammar at the same position
  grammar_matcher& operator=(const grammar_matcher&) = delete;
  ~grammar_matcher();

  // Sets the logits of tokens the grammar does not allow next to -infinity (ids past the vocabulary
  // too). error(internal) if the engine fails (e.g. a resource limit).
  void mask(std::span<float> logits);
  // Advances past `id`, which must have been allowed by the last mask. error(internal) otherwise.
  void accept(int32_t id);
  // Nothing but an end-of-generation token can follow: the answer is complete.
  bool stopped() const;

 private:
  struct impl;
  std::shared_ptr<const grammar_vocab> vocab_;
  std::unique_ptr<impl> p_;
};

}  // namespace dianoia::detail
