// Test doubles for the decode loop: a byte-level vocabulary with reasoning tags, and models whose next
// token the test decides (by forward call, or by the context so far).
#pragma once
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "model/model.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/tokenizer.hpp"

namespace dianoia::detail::testing {

// Byte-level vocabulary: ids 0..255 are the single bytes, then the tags, an end token and a few words.
struct test_vocab {
  std::unique_ptr<tokenizer> tok;
  int32_t think, end_think, eos;
  std::vector<std::string> extra = {"<think>", "</think>", "<|end|>", "Hello", " world", "</", "think", ">"};
  // `more`: further tokens after the fixed ones, as control tokens (special markers).
  explicit test_vocab(const std::vector<std::string>& more = {}) {
    vocab_data v;
    v.model = vocab_model::bpe;
    v.pre = "gpt-2";
    for (int b = 0; b < 256; ++b) {
      std::string s;
      byte_level_encode(std::string_view(reinterpret_cast<const char*>(&b), 1), s);
      v.tokens.push_back(s);
      v.types.push_back(token_type::normal);
    }
    for (auto& e : extra) {
      std::string s;
      const bool special = e[0] == '<' && e.size() > 2 && e.back() == '>' && e != "</";
      if (special)
        s = e;
      else
        byte_level_encode(e, s);
      v.tokens.push_back(s);
      v.types.push_back(e == "<|end|>" ? token_type::control : special ? token_type::user_defined : token_type::normal);
    }
    for (const auto& e : more) {
      v.tokens.push_back(e);
      v.types.push_back(token_type::control);
    }
    think = 256;
    end_think = 257;
    eos = 258;
    v.eos = eos;
    tok = tokenizer::from_vocab(std::move(v));
  }
  int32_t id(const std::string& piece) const { return *tok->find(tok_text(piece)); }
  std::string tok_text(const std::string& piece) const {
    if (piece[0] == '<' && piece.back() == '>' && piece.size() > 2) return piece;
    std::string s;
    byte_level_encode(piece, s);
    return s;
  }
  std::vector<int32_t> bytes(std::string_view s) const {
    std::vector<int32_t> out;
    for (unsigned char c : s) out.push_back(c);
    return out;
  }
};

// Emits script[k] after the k-th forward call; after the script, the end token. Records every token
// the decode loop feeds it, so tests can see injections.
class scripted_model final : public model {
 public:
  scripted_model(int32_t n_vocab, int32_t eos) : eos_(eos) {
    hp_.arch = "scripted";
    hp_.n_vocab = static_cast<uint32_t>(n_vocab);
  }
  std::vector<int32_t> script;
  mutable std::vector<int32_t> fed;
  mutable size_t calls = 0;
  std::function<void(size_t)> on_forward;

  const hparams& hp() const override { return hp_; }
  std::unique_ptr<forward_state> new_state(uint32_t n_ctx, int, bool) const override {
    return std::make_unique<state>(n_ctx);
  }
  void forward(forward_state& st, std::span<const int32_t> tokens, uint32_t pos, float* logits, bool) const override {
    if (pos + tokens.size() > st.n_ctx()) fail(errc::context_full, "context full");
    fed.insert(fed.end(), tokens.begin(), tokens.end());
    if (on_forward) on_forward(calls);
    const int32_t next = calls < script.size() ? script[calls] : eos_;
    ++calls;
    for (uint32_t i = 0; i < hp_.n_vocab; ++i) logits[i] = 0.0f;
    logits[next] = 10.0f;
  }

 private:
  struct state final : forward_state {
    explicit state(uint32_t n) : n_(n) {}
    uint32_t n_ctx() const override { return n_; }
    int n_threads() const override { return 1; }
    uint32_t n_;
  };
  hparams hp_;
  int32_t eos_;
};


// Next-token logits as a function of the whole context (positions [0, pos + n)): survives rewinds and
// prefix reuse, unlike scripted_model. `next` fills the logits row (all zero on entry).
class context_model final : public model {
 public:
  context_model(int32_t n_vocab) {
    hp_.arch = "context";
    hp_.n_vocab = static_cast<uint32_t>(n_vocab);
  }
  std::function<void(const std::vector<int32_t>& ctx, float* logits)> next;
  mutable std::vector<int32_t> ctx;
  mutable size_t evaluated = 0;  // tokens passed to forward() in all

  const hparams& hp() const override { return hp_; }
  std::unique_ptr<forward_state> new_state(uint32_t n_ctx, int, bool) const override {
    return std::make_unique<state>(n_ctx);
  }
  void forward(forward_state& st, std::span<const int32_t> tokens, uint32_t pos, float* logits, bool) const override {
    if (pos + tokens.size() > st.n_ctx()) fail(errc::context_full, "context full");
    auto& s = static_cast<state&>(st);
    if (pos > s.ctx.size()) fail(errc::invalid_argument, "forward at {} after {} cached", pos, s.ctx.size());
    s.ctx.resize(pos);
    s.ctx.insert(s.ctx.end(), tokens.begin(), tokens.end());
    evaluated += tokens.size();
    ctx = s.ctx;
    for (uint32_t i = 0; i < hp_.n_vocab; ++i) logits[i] = 0.0f;
    next(s.ctx, logits);
  }

 private:
  struct state final : forward_state {
    explicit state(uint32_t n) : n_(n) {}
    uint32_t n_ctx() const override { return n_; }
    int n_threads() const override { return 1; }
    // The "KV cache" of this double is the context itself: 4 bytes per position.
    size_t kv_bytes(uint32_t n) const override { return size_t{n} * 4; }
    void kv_save(uint32_t n, uint8_t* out) const override {
      if (n > ctx.size()) fail(errc::invalid_argument, "kv_save past the context");
      std::memcpy(out, ctx.data(), size_t{n} * 4);
    }
    void kv_load(uint32_t n, const uint8_t* in) override {
      ctx.resize(n);
      std::memcpy(ctx.data(), in, size_t{n} * 4);
    }
    uint32_t n_;
    std::vector<int32_t> ctx;
  };
  hparams hp_;
};

}  // namespace dianoia::detail::testing
