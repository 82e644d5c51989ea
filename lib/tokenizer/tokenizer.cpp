#include "tokenizer/tokenizer.hpp"

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "gguf/gguf.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/pre_tokenizer.hpp"
#include "tokenizer/special.hpp"
#include "tokenizer/spm.hpp"
#include "tokenizer/word_cache.hpp"

#include <atomic>

namespace dianoia::detail {

namespace {

constexpr std::string_view k_space_marker = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// Token texts that end a turn in common chat formats (llama.cpp's list). The first one present becomes
// eot() when the vocabulary names no EOT token.
constexpr std::string_view k_eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
    "<｜end▁of▁sentence｜>", "<|eom_id|>",
};

int hex_digit(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

}  // namespace

std::unique_ptr<tokenizer> tokenizer::from_gguf(const gguf::file& f) {
  return std::unique_ptr<tokenizer>(new tokenizer(load_vocab_gguf(f)));
}

std::unique_ptr<tokenizer> tokenizer::from_vocab(vocab_data v) {
  validate_vocab(v);
  return std::unique_ptr<tokenizer>(new tokenizer(std::move(v)));
}

tokenizer::tokenizer(vocab_data v) : v_(std::move(v)), index_(v_.tokens) {
  static std::atomic<uint64_t> serial{0};
  serial_ = ++serial;
  if (v_.model == vocab_model::bpe) {
    const pre_tokenizer_spec* spec = find_pre_tokenizer(v_.pre);
    if (!spec) fail(errc::unsupported, "tokenizer: pre-tokenizer '{}' is not supported", v_.pre);
    splitter_ = std::make_unique<regex_splitter>(*spec);
    bpe_ = std::make_unique<bpe_model>(v_, index_, spec->ignore_merges);
  } else {
    spm_ = std::make_unique<spm_model>(v_, index_);
    space_prefix_ = v_.add_space_prefix;
  }
  specials_ = std::make_unique<special_matcher>(v_, [this](std::string_view t) { return normalize(t); });

  if (v_.eot < 0) {
    for (std::string_view t : k_eog_texts) {
      if (t == "<|eom_id|>") continue;
      if (const int32_t id = index_.find(t); id >= 0) {
        v_.eot = id;
        break;
      }
    }
  }
  for (int32_t id : {v_.eos, v_.eot, v_.eom})
    if (id >= 0) eog_.insert(id);
  for (std::string_view t : k_eog_texts)
    if (const int32_t id = index_.find(t); id >= 0) eog_.insert(id);
}

tokenizer::~tokenizer() = default;

void tokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= n_vocab())
    fail(errc::invalid_argument, "token id {} is out of range (vocabulary has {} tokens)", id, n_vocab());
}

std::string_view tokenizer::token_text(int32_t id) const {
  check_id(id);
  return v_.tokens[static_cast<size_t>(id)];
}

std::optional<int32_t> tokenizer::find(std::string_view text) const {
  const int32_t id = index_.find(text);
  return id < 0 ? std::nullopt : std::optional<int32_t>(id);
}

// Buffers for one encode() call, reused across its fragments and words.
struct tokenizer::encode_state {
  explicit encode_state(std::vector<int32_t>& o) : out(o) {}
  std::vector<int32_t>& out;
  std::vector<fragment> frags, sub_frags;
  std::string norm_buf[2], spm_buf;
  std::vector<uint32_t> cps;
  std::vector<text_span> words;
  bpe_model::scratch bpe;
  regex_splitter::scratch split;
  spm_model::scratch spm;
  word_cache* cache = nullptr;
  // Like SentencePiece's dummy prefix, llama.cpp adds the space at the start and after every special
  // token, so that the word following it is spelled as a word start.
  bool after_special = true;
};

std::vector<int32_t> tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  // Symbol tables index bytes with 32-bit offsets.
  if (text.size() > 0x7FFFFFFF) fail(errc::invalid_argument, "text of {} bytes is too long to tokenize", text.size());
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_special && v_.add_bos) out.push_back(v_.bos);

  encode_state st(out);
  if (bpe_ && cache_enabled_) st.cache = &word_cache::for_thread(serial_);
  specials_->partition(text, parse_special, special_matcher::pass::raw, st.frags);
  for (const fragment& f : st.frags) {
    if (f.token >= 0) {
      out.push_back(f.token);
      st.after_special = true;
      continue;
    }
    const std::string_view norm = normalize(text.substr(f.offset, f.length), st.norm_buf, st.cps);
    if (!specials_->has_normalized()) {
      encode_plain(norm, st);
      continue;
    }
    // HF looks for "normalized" added tokens in the normalized text.
    specials_->partition(norm, parse_special, special_matcher::pass::normalized, st.sub_frags);
    for (const fragment& g : st.sub_frags) {
      if (g.token >= 0) {
        out.push_back(g.token);
        st.after_special = true;
      } else {
        encode_plain(norm.substr(g.offset, g.length), st);
      }
    }
  }
  if (add_special && v_.add_eos) out.push_back(v_.eos);
  return out;
}

void tokenizer::encode_plain(std::string_view text, encode_state& st) const {
  if (spm_) {
    st.spm_buf.clear();
    if (space_prefix_ && st.after_special) st.spm_buf += k_space_marker;
    for (char c : text) {
      if (c == ' ')
        st.spm_buf += k_space_marker;
      else
        st.spm_buf += c;
    }
    spm_->encode(st.spm_buf, st.out, st.spm);
    st.after_special = false;
    return;
  }
  st.words.clear();
  splitter_->split(text, st.words, st.split);
  for (const text_span w : st.words) {
    const std::string_view word = text.substr(w.offset, w.length);
    if (!st.cache || word.size() > word_cache::k_max_key) {
      bpe_->encode_word(word, st.out, st.bpe);
      continue;
    }
    const uint64_t h = word_cache::hash_of(word);
    if (st.cache->lookup(word, h, st.out)) continue;
    const size_t before = st.out.size();
    bpe_->encode_word(word, st.out, st.bpe);
    st.cache->insert(word, h, st.out.data() + before, st.out.size() - before);
  }
}

std::string_view tokenizer::normalize(std::string_view text, std::string (&bufs)[2],
                                     std::vector<uint32_t>& cps) const {
  // Forms apply in turn; each result goes to the buffer the input does not live in.
  for (size_t i = 0; i < v_.normalizers.size(); ++i) {
    std::string& buf = bufs[text.data() == bufs[0].data() ? 1 : 0];
    text = unicode_normalizer::apply(text, v_.normalizers[i], buf, cps);
  }
  return text;
}

std::string tokenizer::normalize(std::string_view text) const {
  std::string bufs[2];
  std::vector<uint32_t> cps;
  return std::string(normalize(text, bufs, cps));
}

void tokenizer::append_piece(int32_t id, bool render_special, std::string& out) const {
  const std::string& text = v_.tokens[static_cast<size_t>(id)];
  switch (type(id)) {
    case token_type::control:
    case token_type::unknown:
      if (render_special) out += text;
      return;
    case token_type::user_defined:
      out += text;  // added tokens are stored as plain text in both kinds of vocabulary
      return;
    case token_type::unused:
      return;
    case token_type::byte:
      if (spm_) {
        out += static_cast<char>(hex_digit(text[3]) * 16 + hex_digit(text[4]));
        return;
      }
      break;
    case token_type::normal:
    case token_type::undefined:
      break;
  }
  if (bpe_) {
    byte_level_decode(text, out);
    return;
  }
  for (size_t pos = 0;;) {
    const size_t hit = text.find(k_space_marker, pos);
    out.append(text, pos, hit == std::string::npos ? std::string::npos : hit - pos);
    if (hit == std::string::npos) break;
    out += ' ';
    pos = hit + k_space_marker.size();
  }
}

std::string tokenizer::token_bytes(int32_t id, bool render_special) const {
  check_id(id);
  std::string out;
  append_piece(id, render_special, out);
  return out;
}

bool tokenizer::append_bytes(int32_t id, bool render_special, bool strip_prefix_space, std::string& out) const {
  check_id(id);
  const size_t before = out.size();
  append_piece(id, render_special, out);
  if (out.size() == before) return false;
  // The encoder's space prefix sits on the first word; drop it so that decode(encode(x)) == x.
  if (strip_prefix_space && space_prefix_ && out[before] == ' ') {
    const token_type t = type(id);
    if (t == token_type::normal || t == token_type::undefined) out.erase(before, 1);
  }
  return true;
}

std::string tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  for (int32_t id : ids) check_id(id);
  std::string out;
  bool first = true;
  for (int32_t id : ids)
    if (append_bytes(id, !skip_special, first, out)) first = false;
  return utf8_sanitize(out);
}

}  // namespace dianoia::detail
