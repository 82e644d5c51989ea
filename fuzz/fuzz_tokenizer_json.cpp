// Loading a Hugging Face tokenizer from hostile files: the input is "<tokenizer.json>" or
// "<tokenizer.json>\0<tokenizer_config.json>". load_vocab_hf + tokenizer::from_vocab must load or throw
// error; a tokenizer that loads must encode and decode a few texts; the config's chat template is read too.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "fuzz_common.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/vocab.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dianoia::detail;
  using dianoia::fuzz::expect_ok;
  bool has_config = false;
  const auto parts = dianoia::fuzz::split_at_nul(dianoia::fuzz::as_text(data, size), &has_config);
  const std::string_view tok_json = parts.first, cfg_json = parts.second;
  const std::optional<std::string_view> cfg = has_config ? std::optional<std::string_view>(cfg_json) : std::nullopt;

  if (cfg) expect_ok([&] { (void)load_chat_template_hf(*cfg); });

  std::unique_ptr<tokenizer> tok;
  if (!expect_ok([&] { tok = tokenizer::from_vocab(load_vocab_hf(tok_json, cfg)); })) return 0;
  static const char* const texts[] = {"Hello world", " <|im_start|>user\n 12345 <think>", "\xc3\xa9\xe2\x82\xac\xff"};
  for (const char* t : texts) {
    for (bool special : {false, true}) {
      const auto ids = tok->encode(t, special, special);
      for (int32_t id : ids)
        if (id < 0 || id >= tok->n_vocab()) dianoia::fuzz::violated("tokenizer.json: id out of range");
      (void)tok->decode(ids, !special);
    }
  }
  for (int32_t id = 0; id < std::min<int32_t>(tok->n_vocab(), 512); ++id) (void)tok->token_bytes(id, true);
  return 0;
}
