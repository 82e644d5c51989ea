#include "grammar/grammar.hpp"

#include <cmath>
#include <map>
#include <mutex>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/vocab.hpp"

#ifdef DIANOIA_HAVE_LLGUIDANCE
#include <llguidance.h>
#endif

namespace dianoia::detail {

std::string_view grammar_kind_name(grammar_kind k) {
  switch (k) {
    case grammar_kind::json_schema: return "JSON schema";
    case grammar_kind::lark: return "Lark grammar";
    case grammar_kind::regex: return "regular expression";
    case grammar_kind::none: break;
  }
  return "grammar";
}

std::shared_ptr<const grammar_vocab> shared_grammar_vocab(const tokenizer& tok, std::span<const int32_t> eog_ids) {
  // Keyed by address: a tokenizer outlives every session on it, so an entry whose tokenizer is gone has
  // expired (no session holds it) before the address can be reused.
  static std::mutex m;
  static std::map<const tokenizer*, std::weak_ptr<const grammar_vocab>> cache;
  std::lock_guard lock(m);
  for (auto it = cache.begin(); it != cache.end();) it = it->second.expired() ? cache.erase(it) : std::next(it);
  if (auto hit = cache[&tok].lock()) return hit;
  auto v = std::make_shared<const grammar_vocab>(tok, eog_ids);
  cache[&tok] = v;
  return v;
}

#ifdef DIANOIA_HAVE_LLGUIDANCE

bool grammar_engine_available() { return true; }

namespace {

// llguidance's tokenize callback: plain text, no special tokens (it must work on any bytes; ours does,
// and is safe to call from several threads).
size_t tokenize_cb(const void* user, const uint8_t* bytes, size_t n, uint32_t* out, size_t cap) {
  const auto& tok = *static_cast<const tokenizer*>(user);
  const auto ids = tok.encode(std::string_view(reinterpret_cast<const char*>(bytes), n), false, false);
  for (size_t i = 0; i < ids.size() && i < cap; ++i) out[i] = static_cast<uint32_t>(ids[i]);
  return ids.size();
}

LlgConstraintInit constraint_init(const LlgTokenizer* t) {
  LlgConstraintInit init{};
  llg_constraint_init_set_defaults(&init, t);
  // Errors come back through llg_matcher_get_error, never on stderr.
  init.log_stderr_level = 0;
  init.log_buffer_level = 0;
  return init;
}

const char* engine_kind(grammar_kind k) {
  switch (k) {
    case grammar_kind::json_schema: return "json_schema";
    case grammar_kind::lark: return "lark";
    case grammar_kind::regex: return "regex";
    case grammar_kind::none: break;
  }
  fail(errc::invalid_argument, "no grammar given");
}

// JSON schemas: the engine lets whitespace run on between tokens, and a small model can fill its whole
// budget with blank lines. Unless the schema sets the engine's own options ("x-guidance"), whitespace is
// bounded as llama.cpp's schema converter bounds it: one space, or one or two newlines and at most 20
// spaces or tabs of indentation.
std::string bounded_whitespace(const std::string& schema) {
  if (schema.find("\"x-guidance\"") != std::string::npos) return schema;
  try {
    (void)json_parse(schema);
  } catch (const error&) {
    return schema;  // the engine says what is wrong, at the right place
  }
  const size_t open = schema.find_first_not_of(" \t\r\n");
  if (open == std::string::npos || schema[open] != '{') return schema;  // e.g. `true`: left to the engine
  const size_t next = schema.find_first_not_of(" \t\r\n", open + 1);
  const bool empty = next != std::string::npos && schema[next] == '}';
  std::string out = schema.substr(0, open + 1);
  out += R"js("x-guidance":{"whitespace_pattern":"(\\x20|\\x0A{1,2}[\\x20\\x09]{0,20})"})js";
  if (!empty) out += ',';
  out += schema.substr(open + 1);
  return out;
}

}  // namespace

struct grammar_vocab::impl {
  LlgTokenizer* t = nullptr;
  ~impl() { llg_free_tokenizer(t); }
};

grammar_vocab::grammar_vocab(const tokenizer& tok, std::span<const int32_t> eog_ids) : p_(std::make_unique<impl>()) {
  n_vocab_ = tok.n_vocab();
  // Token bytes as llguidance expects them: a normal token's bytes; a control token's text behind a
  // 0xFF byte, which no text contains, so that grammars can only reach it as "end of generation".
  std::vector<uint32_t> lens(static_cast<size_t>(n_vocab_));
  std::string bytes;
  for (int32_t i = 0; i < n_vocab_; ++i) {
    std::string b = tok.token_bytes(i, false);
    if (b.empty()) {
      b = tok.token_bytes(i, true);
      if (!b.empty()) b.insert(b.begin(), '\xff');
    }
    lens[static_cast<size_t>(i)] = static_cast<uint32_t>(b.size());
    bytes += b;
  }
  std::vector<uint32_t> extra;
  for (size_t i = 1; i < eog_ids.size(); ++i) extra.push_back(static_cast<uint32_t>(eog_ids[i]));
  LlgTokenizerInitV2 init{};
  init.struct_size = sizeof init;
  init.vocab_size = static_cast<uint32_t>(n_vocab_);
  init.tok_eos = static_cast<uint32_t>(!eog_ids.empty() ? eog_ids[0] : std::max(tok.eos(), 0));
  init.token_lens = lens.data();
  init.token_bytes = reinterpret_cast<const uint8_t*>(bytes.data());
  // The engine tokenizes forced text with our encoder, which must add nothing. A SentencePiece vocabulary
  // that prefixes a space to the text's first word would put that space into every forced piece: there
  // the engine tokenizes greedily on its own instead.
  if (tok.vocab().model == vocab_model::spm && tok.vocab().add_space_prefix) {
    init.use_approximate_greedy_tokenize_fn = true;
  } else {
    init.tokenize_fn = tokenize_cb;
    init.tokenize_user_data = &tok;
  }
  init.tok_eos_extra = extra.empty() ? nullptr : extra.data();
  init.tok_eos_extra_count = static_cast<uint32_t>(extra.size());
  char err[1024] = {};
  p_->t = llg_new_tokenizer_v2(&init, err, sizeof err);
  if (!p_->t) fail(errc::internal, "the grammar engine refused the vocabulary: {}", err);
}

grammar_vocab::~grammar_vocab() = default;

struct grammar_matcher::impl {
  LlgMatcher* m = nullptr;
  std::vector<uint32_t> mask;
  ~impl() { llg_free_matcher(m); }
  [[noreturn]] void engine_failed(const char* what) const {
    const char* e = llg_matcher_get_error(m);
    fail(errc::internal, "the grammar engine failed to {}: {}", what, e ? e : "(no message)");
  }
};

grammar_matcher::grammar_matcher(std::shared_ptr<const grammar_vocab> vocab, const grammar_spec& g)
    : vocab_(std::move(vocab)), p_(std::make_unique<impl>()) {
  const char* kind = engine_kind(g.kind);
  if (g.text.find('\0') != std::string::npos)
    fail(errc::invalid_argument, "the {} contains a NUL byte", grammar_kind_name(g.kind));
  const LlgConstraintInit init = constraint_init(vocab_->p_->t);
  const std::string text = g.kind == grammar_kind::json_schema ? bounded_whitespace(g.text) : g.text;
  p_->m = llg_new_matcher(&init, kind, text.c_str());
  if (const char* e = llg_matcher_get_error(p_->m))
    fail(errc::invalid_argument, "invalid {}: {}", grammar_kind_name(g.kind), e);
  p_->mask.resize(llg_matcher_get_mask_byte_size(p_->m) / sizeof(uint32_t));
}

grammar_matcher::grammar_matcher(const grammar_matcher& o) : vocab_(o.vocab_), p_(std::make_unique<impl>()) {
  p_->m = llg_clone_matcher(o.p_->m);
  p_->mask.resize(o.p_->mask.size());
}

grammar_matcher::~grammar_matcher() = default;

void grammar_matcher::mask(std::span<float> logits) {
  auto& w = p_->mask;
  if (llg_matcher_compute_mask_into(p_->m, w.data(), w.size() * sizeof(uint32_t)) != 0 ||
      llg_matcher_is_error(p_->m))
    p_->engine_failed("compute the token mask");
  const size_t n = std::min(logits.size(), static_cast<size_t>(vocab_->n_vocab()));
  // Whole words at a time: most of a mask is all-allowed or all-refused runs.
  for (size_t base = 0; base < n; base += 32) {
    const uint32_t bits = w[base / 32];
    if (bits == 0xffffffffu) continue;
    const size_t end = std::min(n, base + 32);
    for (size_t i = base; i < end; ++i)
      if (!((bits >> (i - base)) & 1u)) logits[i] = -INFINITY;
  }
  for (size_t i = n; i < logits.size(); ++i) logits[i] = -INFINITY;
}

void grammar_matcher::accept(int32_t id) {
  if (llg_matcher_consume_token(p_->m, static_cast<uint32_t>(id)) != 0) p_->engine_failed("accept a token");
}

bool grammar_matcher::stopped() const { return llg_matcher_is_stopped(p_->m); }

#else  // no engine in this build

bool grammar_engine_available() { return false; }

namespace {
[[noreturn]] void no_engine() {
  fail(errc::unsupported,
       "this build of dianoia has no grammar engine (it was configured with DIANOIA_WITH_LLGUIDANCE=OFF or "
       "without cargo): grammars and JSON schemas cannot be used");
}
}  // namespace

struct grammar_vocab::impl {};
grammar_vocab::grammar_vocab(const tokenizer&, std::span<const int32_t>) { no_engine(); }
grammar_vocab::~grammar_vocab() = default;
struct grammar_matcher::impl {};
grammar_matcher::grammar_matcher(std::shared_ptr<const grammar_vocab>, const grammar_spec&) { no_engine(); }
grammar_matcher::grammar_matcher(const grammar_matcher&) { no_engine(); }
grammar_matcher::~grammar_matcher() = default;
void grammar_matcher::mask(std::span<float>) { no_engine(); }
void grammar_matcher::accept(int32_t) { no_engine(); }
bool grammar_matcher::stopped() const { return false; }

#endif

}  // namespace dianoia::detail
