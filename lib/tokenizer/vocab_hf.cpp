// Hugging Face tokenizer.json (+ tokenizer_config.json) -> vocab_data, for byte-level BPE tokenizers and
// SentencePiece-style (Llama-2 family) BPE files, which run on the SPM path with scores derived from merges.
// The pre-tokenizer is not compiled from the file: its regexes are recognised and mapped to the
// llama.cpp pre-tokenizer that reproduces them, because those are the patterns checked against HF's
// output (HF's regex engine and PCRE2 differ in details that a pattern copied verbatim would expose).
#include <algorithm>
#include <limits>
#include <string>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/utf8.hpp"
#include "tokenizer/pre_tokenizer.hpp"
#include "tokenizer/vocab.hpp"

namespace dianoia::detail {

namespace {

constexpr std::string_view k_tok = "tokenizer.json";
constexpr std::string_view k_cfg = "tokenizer_config.json";

// What a tokenizer file may cost to parse. The largest real tokenizer.json files (256k-token vocabularies
// with their merges) are ~35 MB and under 2M values, nested under 10 levels; a tokenizer_config.json is
// kilobytes (a few MB where it lists every added token). Past these a file is refused before its tree is
// built any bigger: a tree costs ~48 bytes per value on top of the text.
json_limits file_limits(std::string_view name) {
  json_limits lim;
  lim.max_depth = 32;
  if (name == k_cfg) {
    lim.max_bytes = size_t{32} << 20;
    lim.max_values = size_t{1} << 20;
  } else {
    lim.max_bytes = size_t{128} << 20;
    lim.max_values = size_t{1} << 22;
  }
  return lim;
}

// One parsed file: accessors that name the file, the field and the byte offset in their errors.
struct doc {
  std::string_view file;
  json_value root;

  doc(std::string_view text, std::string_view name) : file(name) {
    try {
      root = json_parse(text, file_limits(name));
    } catch (const error& e) {
      fail(e.code(), "{}: {}", file, e.what());
    }
    if (!root.is_object()) wrong_type(root, "the document", "an object");
  }

  [[noreturn]] void wrong_type(const json_value& v, std::string_view what, std::string_view want) const {
    fail(errc::format, "{}: {} must be {}, not {} (byte {})", file, what, want, json_type_name(v.type()), v.offset());
  }
  [[noreturn]] void bad(const json_value& at, std::string_view what) const {
    fail(errc::format, "{}: {} (byte {})", file, what, at.offset());
  }
  const json_value& need(const json_value& obj, std::string_view key, std::string_view where) const {
    if (!obj.is_object()) wrong_type(obj, where, "an object");
    const json_value* v = obj.find(key);
    if (!v) bad(obj, fmt::format("{} has no \"{}\"", where, key));
    return *v;
  }
  const std::string& str(const json_value& v, std::string_view what) const {
    if (!v.is_string()) wrong_type(v, what, "a string");
    return v.as_string();
  }
  const json_value::array& arr(const json_value& v, std::string_view what) const {
    if (!v.is_array()) wrong_type(v, what, "an array");
    return v.as_array();
  }
  bool flag(const json_value& obj, std::string_view key, bool fallback, std::string_view where) const {
    const json_value* v = opt(obj, key);
    if (!v) return fallback;
    if (!v->is_bool()) wrong_type(*v, where.empty() ? std::string(key) : fmt::format("{}.{}", where, key), "a boolean");
    return v->as_bool();
  }
  // Absent and null are the same to HF.
  static const json_value* opt(const json_value& obj, std::string_view key) {
    const json_value* v = obj.find(key);
    return v && !v->is_null() ? v : nullptr;
  }
};

// ---- pre-tokenizer recognition -----------------------------------------------------------------

// Pattern text in a canonical spelling, so that HF's and llama.cpp's spellings of the same regex compare
// equal: \r and \n escapes become the characters, \x{...} escapes become UTF-8, and HF's case-insensitive
// contraction group becomes llama.cpp's expansion of it.
std::string canonical_pattern(std::string_view p) {
  std::string out;
  out.reserve(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '\\' || i + 1 == p.size()) {
      out += p[i];
      continue;
    }
    const char n = p[i + 1];
    if (n == 'r' || n == 'n') {
      out += n == 'r' ? '\r' : '\n';
      ++i;
      continue;
    }
    if (n == 'x' && i + 2 < p.size() && p[i + 2] == '{') {
      const size_t close = p.find('}', i + 3);
      uint32_t cp = 0;
      bool ok = close != std::string_view::npos && close > i + 3 && close - (i + 3) <= 6;
      for (size_t k = i + 3; ok && k < close; ++k) {
        const char c = p[k];
        const int h = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        ok = h >= 0;
        cp = cp * 16 + static_cast<uint32_t>(h);
      }
      if (ok && cp <= 0x10FFFF) {
        utf8_append(out, cp);
        i = close;
        continue;
      }
    }
    out += p[i];
    out += n;
    ++i;
  }
  constexpr std::string_view hf = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  constexpr std::string_view expanded = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
  for (size_t at = out.find(hf); at != std::string::npos; at = out.find(hf, at + expanded.size()))
    out.replace(at, hf.size(), expanded);
  return out;
}

struct hf_pre {
  std::vector<std::string> patterns;  // canonical spelling, in the order they apply
  std::string description;            // names the pre-tokenizer in errors
  int byte_level = 0;                 // ByteLevel steps seen
  bool byte_level_last = false;       // ... and whether the last step was one
};

// Text from the file quoted in a message: bounded, and cut on a character boundary.
std::string short_text(std::string_view s) {
  if (s.size() <= 60) return std::string(s);
  size_t n = 57;
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

[[noreturn]] void unsupported_pre(const json_value& at, std::string_view what) {
  fail(errc::unsupported, "{}: pre-tokenizer {} is not supported (byte {})", k_tok, what, at.offset());
}

void collect_pre(const doc& d, const json_value& pt, hf_pre& out, int depth) {
  const std::string& type = d.str(d.need(pt, "type", "pre_tokenizer"), "pre_tokenizer.type");
  if (!out.description.empty() && out.description.back() != '[') out.description += ", ";
  out.byte_level_last = false;
  if (type == "Sequence") {
    if (depth > 4) unsupported_pre(pt, "'nested Sequence'");
    const auto& list = d.arr(d.need(pt, "pretokenizers", "pre_tokenizer Sequence"), "pre_tokenizer.pretokenizers");
    out.description += "Sequence[";
    for (const json_value& p : list) collect_pre(d, p, out, depth + 1);
    out.description += "]";
    return;
  }
  if (type == "Split") {
    const json_value& pat = d.need(pt, "pattern", "Split pre-tokenizer");
    const json_value* behavior = doc::opt(pt, "behavior");
    const std::string how = behavior ? d.str(*behavior, "Split.behavior") : "";
    const json_value* re = pat.find("Regex");
    const std::string text = re ? d.str(*re, "Split.pattern.Regex") : "";
    out.description += fmt::format("Split({} '{}', {})", re ? "regex" : "string", short_text(text), how);
    if (!re) unsupported_pre(pt, fmt::format("'{}' (a Split on a literal string)", out.description));
    if (how != "Isolated" || d.flag(pt, "invert", false, "Split"))
      unsupported_pre(pt, fmt::format("'{}' (a Split must be Isolated, not inverted)", out.description));
    out.patterns.push_back(canonical_pattern(text));
    return;
  }
  if (type == "Digits") {
    const bool each = d.flag(pt, "individual_digits", false, "Digits");
    out.description += each ? "Digits(individual)" : "Digits";
    out.patterns.push_back(each ? R"(\p{N})" : R"(\p{N}+)");
    return;
  }
  if (type == "ByteLevel") {
    // HF's defaults: add_prefix_space and use_regex are true when absent.
    const bool prefix = d.flag(pt, "add_prefix_space", true, "ByteLevel");
    const bool regex = d.flag(pt, "use_regex", true, "ByteLevel");
    out.description += fmt::format("ByteLevel(add_prefix_space={}, use_regex={})", prefix, regex);
    if (prefix) unsupported_pre(pt, fmt::format("'{}' (add_prefix_space)", out.description));
    // Its regex is GPT-2's, which llama.cpp's "gpt-2" pre-tokenizer holds.
    if (regex) out.patterns.push_back(canonical_pattern(find_pre_tokenizer("gpt-2")->patterns.at(0)));
    ++out.byte_level;
    out.byte_level_last = true;
    return;
  }
  if (type == "Metaspace")
    fail(errc::unsupported,
         "{}: SentencePiece-style tokenizer.json (Metaspace pre-tokenizer) is not supported yet; use a GGUF file",
         k_tok);
  unsupported_pre(pt, fmt::format("type '{}'", short_text(type)));
}

// The llama.cpp names tried, preferred first among names that share a spec (qwen2 before
// deepseek-r1-qwen, gpt-2 before mpt, ...). llama3 and dbrx share patterns and differ in ignore_merges.
constexpr std::string_view k_pre_names[] = {"qwen2",          "llama3", "dbrx",  "deepseek-v3", "deepseek-llm",
                                            "deepseek-coder", "gpt-2",  "smollm"};

std::string recognise_pre(const doc& d, bool ignore_merges) {
  const json_value* pt = doc::opt(d.root, "pre_tokenizer");
  if (!pt) fail(errc::unsupported, "{}: no pre_tokenizer (only byte-level BPE tokenizers are supported)", k_tok);
  hf_pre hf;
  collect_pre(d, *pt, hf, 0);
  if (hf.byte_level != 1 || !hf.byte_level_last)
    unsupported_pre(*pt, fmt::format("'{}' (byte-level BPE needs one ByteLevel step, the last)", hf.description));
  bool patterns_known = false;
  for (std::string_view name : k_pre_names) {
    const pre_tokenizer_spec* spec = find_pre_tokenizer(name);
    if (!spec || spec->patterns.size() != hf.patterns.size()) continue;
    bool same = true;
    for (size_t i = 0; same && i < hf.patterns.size(); ++i)
      same = canonical_pattern(spec->patterns[i]) == hf.patterns[i];
    if (!same) continue;
    patterns_known = true;
    if (spec->ignore_merges == ignore_merges) return std::string(name);
  }
  if (patterns_known)
    fail(errc::unsupported, "{}: pre-tokenizer '{}' with model.ignore_merges={} is not supported", k_tok,
         hf.description, ignore_merges);
  unsupported_pre(*pt, fmt::format("'{}' (not one of the known byte-level BPE pre-tokenizers)", hf.description));
}

void collect_normalizers(const doc& d, const json_value& n, std::vector<normal_form>& out, int depth) {
  const std::string& type = d.str(d.need(n, "type", "normalizer"), "normalizer.type");
  if (type == "NFC") return out.push_back(normal_form::nfc);
  if (type == "NFD") return out.push_back(normal_form::nfd);
  if (type == "NFKC") return out.push_back(normal_form::nfkc);
  if (type == "NFKD") return out.push_back(normal_form::nfkd);
  if (type == "Sequence" && depth < 4) {
    for (const json_value& sub : d.arr(d.need(n, "normalizers", "normalizer Sequence"), "normalizer.normalizers"))
      collect_normalizers(d, sub, out, depth + 1);
    return;
  }
  fail(errc::unsupported, "{}: normalizer '{}' is not supported (byte {})", k_tok, short_text(type), n.offset());
}

// ---- SentencePiece-style layout ----------------------------------------------------------------------

constexpr std::string_view k_marker = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

bool is_type(const json_value* v, std::string_view type) {
  const json_value* t = v && v->is_object() ? v->find("type") : nullptr;
  return t && t->is_string() && t->as_string() == type;
}

// A Llama-2 style file: BPE with byte_fallback, or spaces turned into U+2581 by the normalizer or a
// Metaspace pre-tokenizer.
bool is_spm_layout(const doc& d, const json_value& model) {
  if (d.flag(model, "byte_fallback", false, "model")) return true;
  if (is_type(doc::opt(d.root, "pre_tokenizer"), "Metaspace")) return true;
  const json_value* n = doc::opt(d.root, "normalizer");
  if (is_type(n, "Prepend") || is_type(n, "Replace")) return true;
  if (is_type(n, "Sequence"))
    if (const json_value* list = n->find("normalizers"); list && list->is_array())
      for (const json_value& sub : list->as_array())
        if (is_type(&sub, "Prepend") || is_type(&sub, "Replace")) return true;
  return false;
}

bool is_byte_piece(std::string_view s) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return s.size() == 6 && s.substr(0, 3) == "<0x" && hex(s[3]) && hex(s[4]) && s[5] == '>';
}

[[noreturn]] void unsupported_spm(const json_value& at, std::string_view what) {
  fail(errc::unsupported, "{}: SentencePiece-style tokenizer.json: {} is not supported (byte {})", k_tok, what,
       at.offset());
}

// dianoia's SPM path replaces every space with U+2581 and optionally puts one U+2581 before the text and
// after each special token (llama.cpp's add_space_prefix). Two HF layouts say exactly that:
//  - Llama-2's: normalizer Sequence[Prepend("▁"), Replace(" ", "▁")] (HF normalizes each piece between
//    added tokens, so the prefix follows special tokens too), no pre-tokenizer;
//  - Metaspace(prepend_scheme="never", split=false) with no normalizer (no prefix).
// Metaspace "first"/"always" (transformers 5's default) prepend only where the text does not already
// start with U+2581, which the SPM path cannot express: rejected rather than tokenized differently.
void read_spm_layout(const doc& d, vocab_data& v) {
  bool prepend = false, replace = false;
  if (const json_value* n = doc::opt(d.root, "normalizer")) {
    std::vector<const json_value*> steps;
    if (is_type(n, "Sequence")) {
      for (const json_value& sub : d.arr(d.need(*n, "normalizers", "normalizer Sequence"), "normalizer.normalizers"))
        steps.push_back(&sub);
    } else {
      steps.push_back(n);
    }
    for (const json_value* step : steps) {
      const std::string& type = d.str(d.need(*step, "type", "normalizer"), "normalizer.type");
      if (type == "Prepend" && !prepend && !replace) {
        if (d.str(d.need(*step, "prepend", "Prepend normalizer"), "Prepend.prepend") != k_marker)
          unsupported_spm(*step, "a Prepend normalizer of another text than U+2581");
        prepend = true;
      } else if (type == "Replace" && !replace) {
        const json_value& pat = d.need(*step, "pattern", "Replace normalizer");
        const json_value* lit = pat.is_object() ? pat.find("String") : nullptr;
        if (!lit || d.str(*lit, "Replace.pattern.String") != " " ||
            d.str(d.need(*step, "content", "Replace normalizer"), "Replace.content") != k_marker)
          unsupported_spm(*step, "a Replace normalizer other than ' ' -> U+2581");
        replace = true;
      } else {
        unsupported_spm(*step, fmt::format("normalizer step '{}' (only Prepend(U+2581) then Replace(' ', U+2581) are)", short_text(type)));
      }
    }
  }
  if (const json_value* pt = doc::opt(d.root, "pre_tokenizer")) {
    const std::string& type = d.str(d.need(*pt, "type", "pre_tokenizer"), "pre_tokenizer.type");
    if (type != "Metaspace") unsupported_spm(*pt, fmt::format("pre-tokenizer '{}'", short_text(type)));
    if (replace || prepend) unsupported_spm(*pt, "a Metaspace pre-tokenizer after a Prepend/Replace normalizer");
    const json_value* r = doc::opt(*pt, "replacement");
    if (r && d.str(*r, "Metaspace.replacement") != k_marker) unsupported_spm(*pt, "a Metaspace replacement other than U+2581");
    // Older files spell the scheme as add_prefix_space (true = "always").
    const json_value* scheme = doc::opt(*pt, "prepend_scheme");
    const std::string how = scheme ? d.str(*scheme, "Metaspace.prepend_scheme")
                                   : (d.flag(*pt, "add_prefix_space", true, "Metaspace") ? "always" : "never");
    if (how != "never")
      unsupported_spm(*pt, fmt::format("Metaspace prepend_scheme '{}' (only 'never', or Llama-2's Prepend/Replace "
                                       "normalizer, match the SentencePiece path)",
                                       short_text(how)));
    if (d.flag(*pt, "split", true, "Metaspace")) unsupported_spm(*pt, "Metaspace with split=true");
    replace = true;
  }
  if (!replace) fail(errc::unsupported, "{}: SentencePiece-style tokenizer.json that keeps spaces as spaces is not supported", k_tok);
  v.model = vocab_model::spm;
  v.add_space_prefix = prepend;
}

// The SPM path merges the adjacent pair whose concatenation has the highest score; HF's BPE merges the
// pair of lowest merge rank. A token's score is minus the rank of the first merge that makes it, so both
// pick the same pair. (SentencePiece conversions list every split of a piece into two pieces as a merge,
// so "a concatenation is a token" and "there is a merge for it" agree; tokens no merge makes rank last.)
void spm_scores_from_merges(const doc& d, const json_value& merges_at, vocab_data& v) {
  std::unordered_map<std::string_view, size_t> ids;
  ids.reserve(v.tokens.size());
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.types[i] != token_type::unused) ids.emplace(v.tokens[i], i);
  const float last = -static_cast<float>(v.merges.size());
  v.scores.assign(v.tokens.size(), last);
  std::vector<uint8_t> scored(v.tokens.size(), 0);
  std::string joined;
  for (size_t r = 0; r < v.merges.size(); ++r) {
    const auto& [a, b] = v.merges[r];
    joined.assign(a).append(b);
    const auto it = ids.find(joined);
    if (!ids.count(a) || !ids.count(b) || it == ids.end())
      d.bad(merges_at, fmt::format("merge {} ('{}' '{}') names a text that is not a token", r, short_text(a), short_text(b)));
    if (scored[it->second]) continue;
    scored[it->second] = 1;
    // Exact in float for ranks below 2^24; beyond that, neighbouring ranks could tie.
    v.scores[it->second] = -static_cast<float>(r);
  }
  v.merges.clear();
  v.merges.shrink_to_fit();
}

// ---- special tokens --------------------------------------------------------------------------------

// tokenizer_config.json writes a special token as "text", as {"content": "text", ...} or as null.
std::optional<std::string> config_token(const doc& d, std::string_view key) {
  const json_value* v = doc::opt(d.root, key);
  if (!v) return std::nullopt;
  if (v->is_string()) return v->as_string();
  if (v->is_object()) return d.str(d.need(*v, "content", key), fmt::format("{}.content", key));
  d.wrong_type(*v, key, "a string or an object with \"content\"");
}

// The texts of the special tokens a TemplateProcessing post-processor puts around a single sequence:
// {first, last}, empty where the template starts or ends with the text itself ($A).
std::pair<std::string, std::string> template_specials(const doc& d, const json_value* pp, int depth = 0) {
  if (!pp || !pp->is_object() || depth > 4) return {};
  const json_value* type = pp->find("type");
  if (!type || !type->is_string()) return {};
  if (type->as_string() == "Sequence") {
    const json_value* list = pp->find("processors");
    if (!list || !list->is_array()) return {};
    for (const json_value& p : list->as_array())
      if (auto r = template_specials(d, &p, depth + 1); !r.first.empty() || !r.second.empty()) return r;
    return {};
  }
  if (type->as_string() != "TemplateProcessing") return {};
  const auto& single = d.arr(d.need(*pp, "single", "post_processor"), "post_processor.single");
  auto special_text = [&](const json_value& piece) -> std::string {
    const json_value* s = piece.find("SpecialToken");
    return s ? d.str(d.need(*s, "id", "SpecialToken"), "SpecialToken.id") : std::string();
  };
  if (single.empty()) return {};
  return {special_text(single.front()), single.size() > 1 ? special_text(single.back()) : std::string()};
}

}  // namespace

vocab_data load_vocab_hf(std::string_view tokenizer_json, std::optional<std::string_view> tokenizer_config_json) {
  const doc d(tokenizer_json, k_tok);
  const json_value& model = d.need(d.root, "model", "the document");
  if (!model.is_object()) d.wrong_type(model, "model", "an object");
  if (const json_value* t = doc::opt(model, "type"); t && d.str(*t, "model.type") != "BPE")
    fail(errc::unsupported, "{}: model type '{}' is not supported (only BPE)", k_tok, short_text(t->as_string()));
  if (const json_value* p = doc::opt(model, "dropout"); p && (!p->is_number() || p->as_double() != 0.0))
    fail(errc::unsupported, "{}: BPE dropout is not supported (byte {})", k_tok, p->offset());
  for (std::string_view key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (const json_value* p = doc::opt(model, key); p && !d.str(*p, key).empty())
      fail(errc::unsupported, "{}: model.{} is not supported (byte {})", k_tok, key, p->offset());
  vocab_data v;
  const bool spm = is_spm_layout(d, model);
  if (spm) {
    if (d.flag(model, "ignore_merges", false, "model")) unsupported_spm(model, "model.ignore_merges");
    read_spm_layout(d, v);
  } else {
    if (const json_value* n = doc::opt(d.root, "normalizer")) collect_normalizers(d, *n, v.normalizers, 0);
    v.model = vocab_model::bpe;
    v.pre = recognise_pre(d, d.flag(model, "ignore_merges", false, "model"));
  }

  // Ids: every one below the number of entries (vocab + added tokens), so that a hostile id cannot make
  // us allocate for 2^31 tokens; gaps left by added tokens that reuse a vocab id stay unused tokens.
  const auto& vocab = d.need(model, "vocab", "model");
  if (!vocab.is_object()) d.wrong_type(vocab, "model.vocab", "an object");
  const json_value* added_v = doc::opt(d.root, "added_tokens");
  static const json_value::array k_none;
  const auto& added = added_v ? d.arr(*added_v, "added_tokens") : k_none;
  const size_t cap = vocab.as_object().size() + added.size();
  if (cap > static_cast<size_t>(std::numeric_limits<int32_t>::max())) d.bad(vocab, "too many tokens");
  // `what` names the field, built only for an error (this runs once per vocabulary entry).
  auto read_id = [&](const json_value& id, auto&& what) {
    if (!id.is_int()) d.wrong_type(id, what(), "an integer id");
    if (id.as_int() < 0 || static_cast<uint64_t>(id.as_int()) >= cap)
      d.bad(id, fmt::format("{} = {} is out of range (the file has {} tokens)", what(), id.as_int(), cap));
    return static_cast<size_t>(id.as_int());
  };

  v.tokens.resize(cap);
  v.types.assign(cap, token_type::unused);
  v.token_flags.assign(cap, 0);
  std::vector<uint8_t> from_vocab(cap, 0);
  size_t n = 0;
  for (const json_member& m : vocab.as_object()) {
    const size_t id = read_id(m.value, [&] { return fmt::format("model.vocab[\"{}\"]", short_text(m.key)); });
    if (from_vocab[id])
      d.bad(m.value, fmt::format("model.vocab gives id {} to both '{}' and '{}'", id, short_text(v.tokens[id]), short_text(m.key)));
    from_vocab[id] = 1;
    v.tokens[id] = m.key;
    v.types[id] = token_type::normal;
    n = std::max(n, id + 1);
  }

  // Added tokens keep their ids and take precedence over a vocab entry with the same id, as in HF. As
  // llama.cpp's converter does, special ones become control tokens (matched only with parse_special),
  // the others user-defined (always matched).
  std::unordered_map<std::string_view, size_t> added_ids;
  std::vector<uint8_t> is_added(cap, 0);
  for (size_t i = 0; i < added.size(); ++i) {
    const json_value& a = added[i];
    const std::string where = fmt::format("added_tokens[{}]", i);
    const size_t id = read_id(d.need(a, "id", where), [&] { return where + ".id"; });
    const std::string& content = d.str(d.need(a, "content", where), where + ".content");
    if (content.empty()) d.bad(a, where + " has empty content");
    if (is_added[id]) d.bad(a, fmt::format("{} reuses id {} of another added token", where, id));
    if (!added_ids.emplace(content, id).second)
      d.bad(a, fmt::format("{} repeats the added token '{}'", where, short_text(content)));
    is_added[id] = 1;
    v.tokens[id] = content;
    v.types[id] = d.flag(a, "special", false, where) ? token_type::control : token_type::user_defined;
    // HF's AddedToken defaults: normalized is true for non-special tokens when absent.
    v.token_flags[id] = static_cast<uint8_t>((d.flag(a, "lstrip", false, where) ? token_lstrip : 0) |
                                             (d.flag(a, "rstrip", false, where) ? token_rstrip : 0) |
                                             (d.flag(a, "normalized", v.types[id] != token_type::control, where)
                                                  ? token_normalized
                                                  : 0));
    n = std::max(n, id + 1);
  }
  // A text with two ids would make text -> id ambiguous.
  for (const json_member& m : vocab.as_object()) {
    const auto it = added_ids.find(m.key);
    if (it != added_ids.end() && it->second != static_cast<size_t>(m.value.as_int()))
      d.bad(m.value, fmt::format("'{}' is vocab token {} and added token {}", short_text(m.key), m.value.as_int(), it->second));
  }
  v.tokens.resize(n);
  v.types.resize(n);
  v.token_flags.resize(n);
  // byte_fallback spells bytes as <0xHH> vocabulary entries: byte tokens, decoded to the byte.
  if (spm && d.flag(model, "byte_fallback", false, "model"))
    for (size_t i = 0; i < n; ++i)
      if (v.types[i] == token_type::normal && is_byte_piece(v.tokens[i])) v.types[i] = token_type::byte;

  const json_value& merges_json = d.need(model, "merges", "model");
  const auto& merges = d.arr(merges_json, "model.merges");
  v.merges.reserve(merges.size());
  for (size_t r = 0; r < merges.size(); ++r) {
    const json_value& m = merges[r];
    if (m.is_string()) {
      const std::string& s = m.as_string();
      // Search from 1: a merge's left part is never empty, and may itself be a lone space.
      const size_t sp = s.size() > 1 ? s.find(' ', 1) : std::string::npos;
      if (sp == std::string::npos) d.bad(m, fmt::format("merge {} ('{}') has no space", r, short_text(s)));
      v.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (m.is_array() && m.as_array().size() == 2 && m.as_array()[0].is_string() &&
               m.as_array()[1].is_string()) {
      v.merges.emplace_back(m.as_array()[0].as_string(), m.as_array()[1].as_string());
    } else {
      d.wrong_type(m, fmt::format("merge {}", r), "\"a b\" or [\"a\", \"b\"]");
    }
  }

  if (spm) spm_scores_from_merges(d, merges_json, v);

  // Special token texts -> ids (a handful of lookups: a scan each is cheaper than an index).
  auto id_of = [&](const doc& from, std::string_view key, const std::string& text) -> int32_t {
    for (size_t i = 0; i < v.tokens.size(); ++i)
      if (v.types[i] != token_type::unused && v.tokens[i] == text) return static_cast<int32_t>(i);
    fail(errc::format, "{}: {} '{}' is not a token of {}", from.file, key, short_text(text), k_tok);
  };
  if (const json_value* u = doc::opt(model, "unk_token")) v.unk = id_of(d, "model.unk_token", d.str(*u, "model.unk_token"));

  std::optional<bool> add_bos, add_eos;
  if (tokenizer_config_json) {
    const doc c(*tokenizer_config_json, k_cfg);
    if (auto t = config_token(c, "bos_token")) v.bos = id_of(c, "bos_token", *t);
    if (auto t = config_token(c, "eos_token")) v.eos = id_of(c, "eos_token", *t);
    if (auto t = config_token(c, "pad_token")) v.pad = id_of(c, "pad_token", *t);
    if (auto t = config_token(c, "unk_token")) v.unk = id_of(c, "unk_token", *t);
    if (doc::opt(c.root, "add_bos_token")) add_bos = c.flag(c.root, "add_bos_token", false, "");
    if (doc::opt(c.root, "add_eos_token")) add_eos = c.flag(c.root, "add_eos_token", false, "");
  }
  // Without the config's word, the post-processor says what encode(add_special_tokens=True) adds.
  const auto [first, last] = template_specials(d, doc::opt(d.root, "post_processor"));
  if (!first.empty()) {
    const int32_t id = id_of(d, "post_processor special token", first);
    if (v.bos < 0) v.bos = id;
    if (!add_bos) add_bos = id == v.bos;
  }
  if (!last.empty()) {
    const int32_t id = id_of(d, "post_processor special token", last);
    if (v.eos < 0) v.eos = id;
    if (!add_eos) add_eos = id == v.eos;
  }
  v.add_bos = add_bos.value_or(false) && v.bos >= 0;
  v.add_eos = add_eos.value_or(false) && v.eos >= 0;
  // As in SentencePiece (and GGUF "llama" vocabularies), <unk> is an unknown token, not a control one.
  if (spm && v.unk >= 0 && v.types[static_cast<size_t>(v.unk)] == token_type::control)
    v.types[static_cast<size_t>(v.unk)] = token_type::unknown;

  validate_vocab(v);
  return v;
}

std::string load_chat_template_hf(std::string_view tokenizer_config_json) {
  const doc c(tokenizer_config_json, k_cfg);
  const json_value* t = doc::opt(c.root, "chat_template");
  if (!t) return {};
  if (t->is_string()) return t->as_string();
  // Several named templates: the one named "default" is the chat template (others are tool_use, rag, ...).
  if (t->is_array()) {
    for (const json_value& e : t->as_array()) {
      const std::string& name = c.str(c.need(e, "name", "chat_template entry"), "chat_template[].name");
      const std::string& body = c.str(c.need(e, "template", "chat_template entry"), "chat_template[].template");
      if (name == "default") return body;
    }
    return {};
  }
  c.wrong_type(*t, "chat_template", "a string or a list of {name, template}");
}

}  // namespace dianoia::detail
