// load_vocab_hf on small synthetic tokenizer.json files: what a real byte-level BPE file holds is read
// (pre-tokenizer recognition, merges in both spellings, added tokens, special tokens from the config or
// the post-processor), and every malformed or hostile variant is a clean error(format) or
// error(unsupported), never a crash or a huge allocation.
#include <doctest/doctest.h>

#include <string>

#include "core/error.hpp"
#include "tok_test_util.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/pre_tokenizer.hpp"

using namespace dianoia;
using namespace dianoia::detail;

namespace {

std::string quote(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    if (c == '\r') {
      o += "\\r";
      continue;
    }
    o += c;
  }
  return o + "\"";
}

constexpr std::string_view k_qwen2_split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view k_llama3_split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string split_then_byte_level(std::string_view regex) {
  return R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": )" + quote(regex) +
         R"(}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, )"
         R"("trim_offsets": false, "use_regex": false}]})";
}

// A tokenizer.json with the 256 byte tokens (ids 0-255), "ab" (256), "abc" (257) and an added token.
struct spec {
  std::string extra_vocab;  // appended inside model.vocab, starting with ','
  std::string merges = R"(["a b", ["ab", "c"]])";
  std::string added = R"([{"id": 258, "content": "<|x|>", "special": true}, {"id": 259, "content": "<y>", "special": false}])";
  std::string pre = split_then_byte_level(k_qwen2_split);
  std::string model_extra;  // appended inside model, starting with ','
  std::string root_extra;   // appended inside the document, starting with ','
};

std::string make(const spec& s) {
  std::string vocab;
  for (unsigned b = 0; b < 256; ++b) {
    std::string t;
    const char c = static_cast<char>(b);
    byte_level_encode(std::string_view(&c, 1), t);
    vocab += (b ? ", " : "") + quote(t) + ": " + std::to_string(b);
  }
  vocab += R"(, "ab": 256, "abc": 257)" + s.extra_vocab;
  return R"({"version": "1.0", "added_tokens": )" + s.added + R"(, "normalizer": null, "pre_tokenizer": )" + s.pre +
         R"(, "post_processor": null, "decoder": {"type": "ByteLevel"}, "model": {"type": "BPE", "dropout": null, )"
         R"("unk_token": null, "byte_fallback": false, "vocab": {)" +
         vocab + R"(}, "merges": )" + s.merges + s.model_extra + "}" + s.root_extra + "}";
}

// Loads and builds the tokenizer (merges are checked there); returns the error code, or ok.
errc load_code(const std::string& json, std::optional<std::string> config = std::nullopt, std::string* msg = nullptr) {
  try {
    auto v = load_vocab_hf(json, config ? std::optional<std::string_view>(*config) : std::nullopt);
    tokenizer::from_vocab(std::move(v));
  } catch (const error& e) {
    if (msg) *msg = e.what();
    return e.code();
  }
  return errc::ok;
}

void check_fails(const std::string& json, errc want, std::string_view in_message,
                 std::optional<std::string> config = std::nullopt) {
  std::string msg;
  CHECK(load_code(json, config, &msg) == want);
  CHECK_MESSAGE(msg.find(in_message) != std::string::npos, msg);
}

}  // namespace

TEST_CASE("tokenizer.json: a small byte-level BPE file") {
  const std::string json = make({});
  auto v = load_vocab_hf(json, std::nullopt);
  CHECK(v.pre == "qwen2");
  REQUIRE(v.tokens.size() == 260);
  CHECK(v.types[258] == token_type::control);
  CHECK(v.types[259] == token_type::user_defined);
  CHECK(v.types[256] == token_type::normal);
  CHECK(v.merges.size() == 2);
  CHECK(v.merges[1] == std::pair<std::string, std::string>("ab", "c"));
  CHECK(v.bos == -1);
  CHECK_FALSE(v.add_bos);
  auto tok = tokenizer::from_vocab(std::move(v));
  // Byte tokens have the byte's value as id here. <y> (user-defined) is matched without parse_special,
  // <|x|> (control) only with it.
  CHECK(tok->encode("abc ab<y><|x|>", false, false) == std::vector<int32_t>{257, 32, 256, 259, 60, 124, 120, 124, 62});
  CHECK(tok->encode("<|x|>", false, true) == std::vector<int32_t>{258});

  // Config: special tokens as strings or {content} objects, add_bos_token, the chat template.
  const std::string config = R"({"bos_token": {"content": "<|x|>", "lstrip": false}, "eos_token": "<y>",)"
                             R"( "add_bos_token": true, "chat_template": "{{ messages }}"})";
  v = load_vocab_hf(json, config);
  CHECK(v.bos == 258);
  CHECK(v.eos == 259);
  CHECK(v.add_bos);
  CHECK_FALSE(v.add_eos);
  CHECK(load_chat_template_hf(config) == "{{ messages }}");
  CHECK(load_chat_template_hf(R"({"chat_template": [{"name": "tool_use", "template": "T"},)"
                              R"( {"name": "default", "template": "D"}]})") == "D");
  CHECK(load_chat_template_hf(R"({"bos_token": null})").empty());

  // Without a config, a TemplateProcessing post-processor names BOS and asks for it (Llama-3).
  std::string with_pp = make({});
  const std::string pp = R"("post_processor": {"type": "Sequence", "processors": [{"type": "ByteLevel"}, )"
                         R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|x|>", "type_id": 0}},)"
                         R"( {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {}}]})";
  with_pp.replace(with_pp.find(R"("post_processor": null)"), 22, pp);
  v = load_vocab_hf(with_pp, std::nullopt);
  CHECK(v.bos == 258);
  CHECK(v.add_bos);
  v = load_vocab_hf(with_pp, std::string(R"({"add_bos_token": false})"));
  CHECK_FALSE(v.add_bos);
}

TEST_CASE("tokenizer.json: pre-tokenizer recognition") {
  spec s;
  s.pre = split_then_byte_level(k_llama3_split);
  s.model_extra = R"(, "ignore_merges": true)";
  CHECK(load_vocab_hf(make(s), std::nullopt).pre == "llama3");
  s.model_extra = R"(, "ignore_merges": false)";
  CHECK(load_vocab_hf(make(s), std::nullopt).pre == "dbrx");  // llama.cpp's name for the same regex, no ignore_merges
  s.model_extra.clear();
  s.pre = R"({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true})";
  CHECK(load_vocab_hf(make(s), std::nullopt).pre == "gpt-2");
  s.pre = R"({"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true},)"
          R"( {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}]})";
  CHECK(load_vocab_hf(make(s), std::nullopt).pre == "smollm");
  // DeepSeek-V3's three Splits, spelled as in its tokenizer.json.
  const pre_tokenizer_spec* v3 = find_pre_tokenizer("deepseek-v3");
  s.pre = R"({"type": "Sequence", "pretokenizers": [)";
  for (std::string_view p : v3->patterns)
    s.pre += R"({"type": "Split", "pattern": {"Regex": )" + quote(p) + R"(}, "behavior": "Isolated"}, )";
  s.pre += R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]})";
  CHECK(load_vocab_hf(make(s), std::nullopt).pre == "deepseek-v3");

  // Unknown regex, wrong Split behaviour, prefix space, ByteLevel missing or not last, Metaspace.
  s = {};
  s.pre = split_then_byte_level(R"(\p{L}+|\s+)");
  check_fails(make(s), errc::unsupported, R"(Split(regex '\p{L}+|\s+', Isolated))");
  s.pre = split_then_byte_level(k_qwen2_split);
  s.pre.replace(s.pre.find("Isolated"), 8, "Removed");
  check_fails(make(s), errc::unsupported, "Isolated");
  s.pre = R"({"type": "ByteLevel", "add_prefix_space": true})";
  check_fails(make(s), errc::unsupported, "add_prefix_space");
  s.pre = R"({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Isolated"})";
  check_fails(make(s), errc::unsupported, "ByteLevel");
  s.pre = R"({"type": "Sequence", "pretokenizers": [{"type": "ByteLevel", "add_prefix_space": false}, {"type": "Digits"}]})";
  check_fails(make(s), errc::unsupported, "the last");
  s.pre = R"({"type": "Metaspace", "replacement": "▁"})";
  check_fails(make(s), errc::unsupported, "SentencePiece");
  s.pre = R"({"type": "BertPreTokenizer"})";
  check_fails(make(s), errc::unsupported, "BertPreTokenizer");
  s.pre = "null";
  check_fails(make(s), errc::unsupported, "no pre_tokenizer");
  s.pre = split_then_byte_level(k_qwen2_split);
  s.model_extra = R"(, "ignore_merges": true)";
  check_fails(make(s), errc::unsupported, "ignore_merges");
}

TEST_CASE("tokenizer.json: hostile files") {
  struct bad_case {
    const char* what;
    spec s;
    errc code;
    const char* message;
  };
  auto with = [](auto&& edit) {
    spec s;
    edit(s);
    return s;
  };
  const bad_case cases[] = {
      {"merge of unknown tokens", with([](spec& s) { s.merges = R"(["a zz"])"; }), errc::format, "not in the vocabulary"},
      {"merge result unknown", with([](spec& s) { s.merges = R"(["b c"])"; }), errc::format, "not in the vocabulary"},
      {"merge without space", with([](spec& s) { s.merges = R"(["ab"])"; }), errc::format, "has no space"},
      {"merge of three", with([](spec& s) { s.merges = R"([["a", "b", "c"]])"; }), errc::format, "merge 0"},
      {"merge as number", with([](spec& s) { s.merges = "[7]"; }), errc::format, "merge 0"},
      {"merges not an array", with([](spec& s) { s.merges = "{}"; }), errc::format, "model.merges must be an array"},
      {"id far out of range", with([](spec& s) { s.extra_vocab = R"(, "zz": 2000000000)"; }), errc::format, "out of range"},
      {"negative id", with([](spec& s) { s.extra_vocab = R"(, "zz": -1)"; }), errc::format, "out of range"},
      {"duplicated id", with([](spec& s) { s.extra_vocab = R"(, "zz": 7)"; }), errc::format, "gives id 7 to both"},
      {"id as string", with([](spec& s) { s.extra_vocab = R"(, "zz": "260")"; }), errc::format, "an integer id"},
      {"id as real", with([](spec& s) { s.extra_vocab = R"(, "zz": 260.0)"; }), errc::format, "an integer id"},
      {"duplicate vocab key", with([](spec& s) { s.extra_vocab = R"(, "ab": 260)"; }), errc::format, "duplicate object key"},
      {"added id out of range", with([](spec& s) { s.added = R"([{"id": 99999999, "content": "<z>"}])"; }), errc::format, "out of range"},
      {"added ids repeated", with([](spec& s) { s.added = R"([{"id": 258, "content": "<a>"}, {"id": 258, "content": "<b>"}])"; }), errc::format, "reuses id 258"},
      {"added content repeated", with([](spec& s) { s.added = R"([{"id": 258, "content": "<a>"}, {"id": 259, "content": "<a>"}])"; }), errc::format, "repeats"},
      {"added content empty", with([](spec& s) { s.added = R"([{"id": 258, "content": ""}])"; }), errc::format, "empty content"},
      {"added content not a string", with([](spec& s) { s.added = R"([{"id": 258, "content": 5}])"; }), errc::format, "content must be a string"},
      {"added special not a boolean", with([](spec& s) { s.added = R"([{"id": 258, "content": "<a>", "special": "yes"}])"; }), errc::format, "a boolean"},
      {"added token is a vocab token", with([](spec& s) { s.added = R"([{"id": 258, "content": "ab"}])"; }), errc::format, "vocab token 256 and added token 258"},
      {"added_tokens not an array", with([](spec& s) { s.added = "{}"; }), errc::format, "added_tokens must be an array"},
      {"subword prefix", with([](spec& s) { s.model_extra = R"(, "continuing_subword_prefix": "##")"; }), errc::unsupported, "continuing_subword_prefix"},
      {"no merges", with([](spec& s) { s.merges = "[], \"m\": null"; s.model_extra = ""; }), errc::ok, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.what));
    check_fails(make(c.s), c.code, c.message);
  }

  std::string j = make({});
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string r = j;
    r.replace(r.find(from), from.size(), to);
    return r;
  };
  check_fails(replace(R"("type": "BPE")", R"("type": "WordPiece")"), errc::unsupported, "WordPiece");
  check_fails(replace(R"("byte_fallback": false)", R"("byte_fallback": true)"), errc::unsupported, "SentencePiece");
  check_fails(replace(R"("dropout": null)", R"("dropout": 0.1)"), errc::unsupported, "dropout");
  check_fails(replace(R"("merges": )", R"("merges_": )"), errc::format, "has no \"merges\"");
  check_fails(replace(R"("normalizer": null)", R"("normalizer": {"type": "Lowercase"})"), errc::unsupported, "Lowercase");
  CHECK(load_code(replace(R"("normalizer": null)", R"("normalizer": {"type": "NFC"})")) == errc::ok);
  check_fails(replace(R"("model": {)", R"("modelx": {)"), errc::format, "has no \"model\"");
  check_fails(replace(R"("vocab": {)", R"("vocab": [{)"), errc::format, "json: ");
  check_fails("[]", errc::format, "the document must be an object");
  check_fails(j + ",", errc::format, "tokenizer.json: json: unexpected character ','");

  // Config problems: unknown token names, wrong types, malformed JSON.
  check_fails(j, errc::format, "bos_token '<s>' is not a token", std::string(R"({"bos_token": "<s>"})"));
  check_fails(j, errc::format, "tokenizer_config.json: eos_token must be", std::string(R"({"eos_token": 5})"));
  check_fails(j, errc::format, "tokenizer_config.json: add_bos_token", std::string(R"({"add_bos_token": "yes"})"));
  check_fails(j, errc::format, "tokenizer_config.json: json:", std::string(R"({"bos_token": "<|x|>",})"));
  CHECK_THROWS_AS(load_chat_template_hf(R"({"chat_template": 3})"), error);
  CHECK_THROWS_AS(load_chat_template_hf(R"({"chat_template": [{"name": "default"}]})"), error);

  // Every truncation is a clean error.
  for (size_t n = 0; n < j.size(); n += 97) {
    CAPTURE(n);
    CHECK(load_code(j.substr(0, n)) == errc::format);
  }
}

TEST_CASE("tokenizer.json / tokenizer_config.json: size, nesting and token-length budgets") {
  // Nesting: real files stay under 10 levels; 33 is refused by the parser, with the file's name.
  std::string deep = "null";
  for (int i = 0; i < 33; ++i) deep = "[" + deep + "]";
  spec s;
  s.root_extra = R"(, "truncation": )" + deep;
  check_fails(make(s), errc::format, "tokenizer.json: json: nesting deeper than 32 levels");
  s.root_extra = R"(, "truncation": )" + deep.substr(1, deep.size() - 2);  // 32 levels inside the root: 33
  check_fails(make(s), errc::format, "nesting deeper than 32 levels");
  std::string ok_deep = "null";
  for (int i = 0; i < 30; ++i) ok_deep = "[" + ok_deep + "]";
  s.root_extra = R"(, "truncation": )" + ok_deep;
  CHECK(load_code(make(s)) == errc::ok);
  check_fails(make({}), errc::format, "tokenizer_config.json: json: nesting deeper than 32 levels",
              R"({"x": )" + deep + "}");
  // Values: a tokenizer_config.json of a million and one values is refused before its tree grows more.
  std::string many = R"({"x": [)";
  for (size_t i = 0; i < (size_t{1} << 20); ++i) many += "0,";
  many += "0]}";
  check_fails(make({}), errc::format, "tokenizer_config.json: json: more than 1048576 values", many);
  // Size: a config past 32 MiB is refused from its length alone.
  const std::string big = R"({"chat_template": ")" + std::string((size_t{32} << 20) + 1, 'x') + "\"}";
  check_fails(make({}), errc::format, "exceeds the limit of 33554432 bytes", big);
  // A token text of 64 KiB + 1 bytes.
  spec t;
  t.extra_vocab = ", " + quote(std::string(65537, 'a')) + ": 258";
  t.added = "[]";
  check_fails(make(t), errc::format, "token 258 is 65537 bytes long (the limit is 65536)");
  t.extra_vocab = ", " + quote(std::string(65536, 'a')) + ": 258";
  CHECK(load_code(make(t)) == errc::ok);
}
