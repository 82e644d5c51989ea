// Hugging Face config.json -> hparams, and generation_config.json -> sampling defaults, on any text.
// Oracle: accepted hyper-parameters are self-consistent (what the model code relies on without checking).
#include <cmath>

#include "fuzz_common.hpp"
#include "model/hparams_hf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dianoia::fuzz::violated;
  const std::string_view text = dianoia::fuzz::as_text(data, size);
  dianoia::detail::hparams hp;
  if (dianoia::fuzz::expect_ok([&] { hp = dianoia::detail::hparams_from_config_json(text); })) {
    if (hp.arch.empty()) violated("config.json: no architecture");
    if (!hp.n_vocab || !hp.n_embd || !hp.n_layer || !hp.n_head || !hp.n_head_kv || !hp.n_ff || !hp.head_dim)
      violated("config.json: a zero dimension was accepted");
    if (hp.n_head % hp.n_head_kv != 0) violated("config.json: heads do not divide into KV heads");
    if (hp.rope_dim == 0 || hp.rope_dim > hp.head_dim || hp.rope_dim % 2) violated("config.json: bad rope dimension");
    if (!(hp.rope_base > 0) || !std::isfinite(hp.rope_base) || !(hp.rms_eps > 0) || !std::isfinite(hp.rms_eps))
      violated("config.json: rope_theta / rms_norm_eps not positive and finite");
  }
  dianoia::fuzz::expect_ok([&] {
    const auto g = dianoia::detail::generation_defaults_from_json(text);
    if (g.temperature && !(*g.temperature >= 0)) violated("generation_config.json: negative temperature");
    if (g.top_p && !(*g.top_p >= 0 && *g.top_p <= 1)) violated("generation_config.json: top_p outside [0, 1]");
    if (g.top_k && *g.top_k < 0) violated("generation_config.json: negative top_k");
  });
  return 0;
}
