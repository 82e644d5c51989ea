// tokenizer.ggml.* -> vocab_data, with llama.cpp's defaults for keys a converter may leave out.
#include <string>

#include "core/error.hpp"
#include "gguf/gguf.hpp"
#include "tokenizer/pre_tokenizer.hpp"
#include "tokenizer/vocab.hpp"

namespace dianoia::detail {

namespace {

// Special token ids: absent, negative or 0xFFFFFFFF (how converters write "none") mean no such token.
// Any other value is kept as is, so that validate_vocab() rejects it if it is out of range.
int32_t read_id(const gguf::file& f, const char* key, int32_t fallback) {
  const auto v = f.get_int(key);
  if (!v) return fallback;
  if (*v < 0 || *v == 0xFFFFFFFFll) return -1;
  if (*v > 0x7FFFFFFF) fail(errc::format, "tokenizer: {} = {} is out of range", key, *v);
  return static_cast<int32_t>(*v);
}

}  // namespace

vocab_data load_vocab_gguf(const gguf::file& f) {
  vocab_data v;
  const auto model = f.get_string("tokenizer.ggml.model");
  if (!model) fail(errc::format, "{}: no tokenizer.ggml.model key", f.name());
  if (*model == "llama") {
    v.model = vocab_model::spm;
  } else if (*model == "gpt2") {
    v.model = vocab_model::bpe;
  } else {
    fail(errc::unsupported, "{}: tokenizer model '{}' is not supported (only 'llama' and 'gpt2')", f.name(), *model);
  }
  if (const auto pre = f.get_string("tokenizer.ggml.pre"); pre && !pre->empty()) v.pre = std::string(*pre);

  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (!tokens) fail(errc::format, "{}: no tokenizer.ggml.tokens key", f.name());
  v.tokens.assign(tokens->begin(), tokens->end());
  if (auto scores = f.get_f32_array("tokenizer.ggml.scores")) v.scores = std::move(*scores);
  if (const auto types = f.get_i32_array("tokenizer.ggml.token_type")) {
    v.types.reserve(types->size());
    for (int32_t t : *types) v.types.push_back(static_cast<token_type>(t));
  }

  const auto n = static_cast<int64_t>(v.tokens.size());
  // llama.cpp's defaults: SentencePiece vocabularies of the LLaMA family put <unk>, <s>, </s> at 0, 1, 2.
  const bool spm = v.model == vocab_model::spm;
  v.bos = read_id(f, "tokenizer.ggml.bos_token_id", spm && n > 1 ? 1 : -1);
  v.eos = read_id(f, "tokenizer.ggml.eos_token_id", spm && n > 2 ? 2 : -1);
  v.unk = read_id(f, "tokenizer.ggml.unknown_token_id", spm && n > 0 ? 0 : -1);
  v.eot = read_id(f, "tokenizer.ggml.eot_token_id", -1);
  v.eom = read_id(f, "tokenizer.ggml.eom_token_id", -1);
  v.pad = read_id(f, "tokenizer.ggml.padding_token_id", -1);

  if (spm) {
    v.add_space_prefix = true;
    v.add_bos = true;
  } else {
    const pre_tokenizer_spec* spec = find_pre_tokenizer(v.pre);
    if (!spec) fail(errc::unsupported, "{}: pre-tokenizer '{}' is not supported", f.name(), v.pre);
    v.add_bos = spec->add_bos;
    // GGUF drops tokenizer.json's normalizer, but the Qwen family's is NFC: Hugging Face (the reference)
    // applies it, llama.cpp does not. Text that is already NFC (nearly all) tokenizes the same either way.
    if (v.pre == "qwen2" || v.pre == "deepseek-r1-qwen") v.normalizers.push_back(normal_form::nfc);
    const auto merges = f.get_string_array("tokenizer.ggml.merges");
    if (!merges) fail(errc::format, "{}: byte-level BPE vocabulary without tokenizer.ggml.merges", f.name());
    v.merges.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
      const std::string_view m = (*merges)[i];
      // Search from 1: a merge's left part is never empty, and may itself be a lone space.
      const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
      if (sp == std::string_view::npos) fail(errc::format, "{}: merge {} ('{}') has no space", f.name(), i, m);
      v.merges.emplace_back(std::string(m.substr(0, sp)), std::string(m.substr(sp + 1)));
    }
  }
  if (const auto b = f.get_bool("tokenizer.ggml.add_bos_token")) v.add_bos = *b;
  if (const auto b = f.get_bool("tokenizer.ggml.add_eos_token")) v.add_eos = *b;
  if (const auto b = f.get_bool("tokenizer.ggml.add_space_prefix")) v.add_space_prefix = *b;
  // A vocabulary that asks for BOS but has none: follow the data rather than fail (llama.cpp asserts).
  if (v.add_bos && v.bos < 0) v.add_bos = false;
  if (v.add_eos && v.eos < 0) v.add_eos = false;
  validate_vocab(v);
  return v;
}

}  // namespace dianoia::detail
