#include "model/hparams_hf.hpp"

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"

namespace dianoia::detail {
namespace {

json_limits config_limits() {
  json_limits lim;
  lim.max_bytes = size_t{4} << 20;  // real configs are a few KB; some embed id2label tables
  lim.max_depth = 16;
  lim.max_values = size_t{1} << 16;
  return lim;
}

// Fields that may also be null (transformers writes null for "not set").
const json_value* field(const json_value& o, std::string_view k) {
  const json_value* v = o.find(k);
  return v && !v->is_null() ? v : nullptr;
}

struct config_reader {
  const json_value& o;

  uint32_t count(std::string_view k, std::optional<uint32_t> dflt = std::nullopt, bool zero_ok = false) const {
    const json_value* v = field(o, k);
    if (!v) {
      if (dflt) return *dflt;
      fail(errc::format, "config.json: '{}' is missing", k);
    }
    if (!v->is_int()) fail(errc::format, "config.json: '{}' must be an integer, got {}", k, json_type_name(v->type()));
    const int64_t x = v->as_int();
    if (x < (zero_ok ? 0 : 1) || x > (int64_t{1} << 24)) fail(errc::format, "config.json: '{}' = {} is out of range", k, x);
    return static_cast<uint32_t>(x);
  }
  float real(std::string_view k, double dflt) const { return real_in(o, k, dflt); }
  static float real_in(const json_value& obj, std::string_view k, double dflt) {
    const json_value* v = field(obj, k);
    if (!v) return static_cast<float>(dflt);
    if (!v->is_number()) fail(errc::format, "config.json: '{}' must be a number, got {}", k, json_type_name(v->type()));
    const double x = v->as_double();
    if (!std::isfinite(x) || std::fabs(x) > 3.0e38) fail(errc::format, "config.json: '{}' = {} is out of range", k, x);
    return static_cast<float>(x);
  }
  bool flag(std::string_view k, bool dflt) const {
    const json_value* v = field(o, k);
    if (!v) return dflt;
    if (!v->is_bool()) fail(errc::format, "config.json: '{}' must be true or false", k);
    return v->as_bool();
  }
  std::string str(std::string_view k) const {
    const json_value* v = field(o, k);
    if (!v) return {};
    if (!v->is_string()) fail(errc::format, "config.json: '{}' must be a string", k);
    return v->as_string();
  }
};

// rope_scaling (transformers 4) or rope_parameters (transformers 5, which also moves rope_theta there).
void read_rope(const json_value& root, hparams& hp) {
  const json_value* rs = field(root, "rope_scaling");
  if (!rs) rs = field(root, "rope_parameters");
  if (!rs) return;
  if (!rs->is_object()) fail(errc::format, "config.json: rope_scaling must be an object");
  hp.rope_base = config_reader::real_in(*rs, "rope_theta", hp.rope_base);
  std::string type;
  for (const char* k : {"rope_type", "type"})
    if (const json_value* t = field(*rs, k)) {
      if (!t->is_string()) fail(errc::format, "config.json: rope_scaling.{} must be a string", k);
      type = t->as_string();
      break;
    }
  auto& s = hp.scaling;
  auto rd = [&](std::string_view k, double d) { return config_reader::real_in(*rs, k, d); };
  if (type.empty() || type == "default") return;
  if (type == "linear") {
    s.kind = rope_scaling_kind::linear;
  } else if (type == "llama3") {
    s.kind = rope_scaling_kind::llama3;
    s.low_freq_factor = rd("low_freq_factor", 1.0);
    s.high_freq_factor = rd("high_freq_factor", 4.0);
  } else if (type == "yarn") {
    s.kind = rope_scaling_kind::yarn;
    s.yarn_beta_fast = rd("beta_fast", 32.0);
    s.yarn_beta_slow = rd("beta_slow", 1.0);
    s.yarn_mscale = rd("mscale", 1.0);
    s.yarn_mscale_all_dim = rd("mscale_all_dim", 0.0);
  } else {
    fail(errc::unsupported, "config.json: rope scaling '{}' is not supported (linear, llama3, yarn)", type);
  }
  s.factor = rd("factor", 1.0);
  if (!(s.factor > 0)) fail(errc::format, "config.json: rope scaling factor {} must be positive", s.factor);
  const config_reader r{*rs};
  s.original_ctx = r.count("original_max_position_embeddings", 0u, true);
  if (s.original_ctx == 0 && s.kind != rope_scaling_kind::linear) s.original_ctx = hp.n_ctx_train;
}

void read_deepseek(const config_reader& r, hparams& hp) {
  auto& m = hp.mla;
  // q_lora_rank is null in DeepSeek-V2-Lite: q is then a plain projection.
  m.q_lora_rank = r.count("q_lora_rank", 0u, true);
  m.kv_lora_rank = r.count("kv_lora_rank");
  m.qk_nope_head_dim = r.count("qk_nope_head_dim");
  m.qk_rope_head_dim = r.count("qk_rope_head_dim");
  m.v_head_dim = r.count("v_head_dim");
  hp.head_dim = m.qk_nope_head_dim + m.qk_rope_head_dim;
  hp.rope_dim = m.qk_rope_head_dim;

  auto& e = hp.moe;
  e.n_expert = r.count("n_routed_experts", 0u, true);
  e.n_expert_used = r.count("num_experts_per_tok", 0u, true);
  e.n_expert_shared = r.count("n_shared_experts", 0u, true);
  e.n_ff_expert = r.count("moe_intermediate_size", 0u, true);
  e.n_layer_dense_lead = r.count("first_k_dense_replace", 0u, true);
  hp.n_layer_nextn = r.count("num_nextn_predict_layers", 0u, true);
  e.n_expert_groups = r.count("n_group", 0u, true);
  e.n_group_used = r.count("topk_group", 0u, true);
  e.routed_scaling = r.real("routed_scaling_factor", 1.0);
  e.norm_topk_prob = r.flag("norm_topk_prob", false);
  const std::string scoring = r.str("scoring_func");
  if (scoring.empty() || scoring == "softmax") e.sigmoid_gating = false;
  else if (scoring == "sigmoid") e.sigmoid_gating = true;
  else fail(errc::unsupported, "config.json: scoring_func '{}' is not supported (softmax, sigmoid)", scoring);
  // V3 (noaux_tc) limits routing to the groups whose two best experts score highest; V2's
  // group_limited_greedy to those whose best does; greedy ignores the groups. V2 normalises the chosen
  // weights (norm_topk_prob) or scales them, V3 does both.
  const std::string method = r.str("topk_method");
  const bool v3 = r.str("model_type") == "deepseek_v3";
  if (method == "noaux_tc" || (method.empty() && v3)) e.group_scoring = expert_group_scoring::top2_sum;
  else if (method == "group_limited_greedy") e.group_scoring = expert_group_scoring::best;
  else if (method == "greedy" || method.empty()) e.group_scoring = expert_group_scoring::none;
  else fail(errc::unsupported, "config.json: topk_method '{}' is not supported (greedy, group_limited_greedy, noaux_tc)", method);
  e.scale_normalized = v3;
  if (e.n_expert && (e.n_expert_used == 0 || e.n_expert_used > e.n_expert))
    fail(errc::format, "config.json: num_experts_per_tok {} does not fit {} experts", e.n_expert_used, e.n_expert);
  if (e.n_expert_groups && (e.n_expert % e.n_expert_groups != 0 || e.n_group_used > e.n_expert_groups))
    fail(errc::format, "config.json: {} experts in {} groups (top {}) is inconsistent", e.n_expert, e.n_expert_groups,
         e.n_group_used);
}

}  // namespace

hparams hparams_from_config_json(std::string_view json) {
  const json_value root = json_parse(json, config_limits());
  if (!root.is_object()) fail(errc::format, "config.json: the document must be a JSON object");
  const config_reader r{root};
  const std::string type = r.str("model_type");
  hparams hp;
  hp.origin = hparams_origin::config_json;
  if (type == "llama" || type == "qwen2" || type == "qwen3") hp.arch = type;
  else if (type == "deepseek_v2" || type == "deepseek_v3") hp.arch = "deepseek2";
  else if (type.empty()) fail(errc::format, "config.json: 'model_type' is missing");
  else fail(errc::unsupported, "config.json: model_type '{}' is not supported (llama, qwen2, qwen3, deepseek_v2, deepseek_v3)", type);

  hp.n_vocab = r.count("vocab_size");
  hp.n_embd = r.count("hidden_size");
  hp.n_layer = r.count("num_hidden_layers");
  hp.n_head = r.count("num_attention_heads");
  hp.n_head_kv = r.count("num_key_value_heads", hp.n_head);
  hp.n_ff = r.count("intermediate_size");
  hp.n_ctx_train = r.count("max_position_embeddings", 2048u);
  hp.rms_eps = r.real("rms_norm_eps", 1e-6);
  hp.rope_base = r.real("rope_theta", 10000.0);
  // transformers' defaults: llama, qwen2/3 and deepseek configs all default to untied.
  hp.tied_output = r.flag("tie_word_embeddings", false);
  if (hp.n_head % hp.n_head_kv != 0) fail(errc::format, "config.json: {} heads cannot share {} KV heads", hp.n_head, hp.n_head_kv);

  if (hp.arch == "deepseek2") {
    read_deepseek(r, hp);
  } else {
    if (!field(root, "head_dim") && hp.n_embd % hp.n_head != 0)
      fail(errc::format, "config.json: hidden_size {} is not divisible by {} heads", hp.n_embd, hp.n_head);
    hp.head_dim = r.count("head_dim", hp.n_embd / hp.n_head);
    const float partial = r.real("partial_rotary_factor", 1.0);
    if (!(partial > 0 && partial <= 1)) fail(errc::format, "config.json: partial_rotary_factor {} is out of range", partial);
    hp.rope_dim = static_cast<uint32_t>(static_cast<float>(hp.head_dim) * partial);
  }
  if (hp.rope_dim == 0 || hp.rope_dim > hp.head_dim || hp.rope_dim % 2)
    fail(errc::format, "config.json: rope dimension {} does not fit head size {}", hp.rope_dim, hp.head_dim);
  read_rope(root, hp);
  if (!(hp.rope_base > 0)) fail(errc::format, "config.json: rope_theta must be positive");
  if (!(hp.rms_eps > 0)) fail(errc::format, "config.json: rms_norm_eps must be positive");
  // The loader permutes llama's q/k rows into GGUF's adjacent-pair layout; qwen keeps HF's halves.
  // DeepSeek rotates adjacent pairs of its RoPE dims (V2: complex pairs; V3: rope_interleave, the
  // default; without it V3 rotates halves).
  hp.rope = hp.arch == "llama" ? rope_kind::norm : rope_kind::neox;
  if (hp.arch == "deepseek2") hp.rope = r.flag("rope_interleave", true) ? rope_kind::norm : rope_kind::neox;
  return hp;
}

generation_defaults generation_defaults_from_json(std::string_view json) {
  const json_value root = json_parse(json, config_limits());
  if (!root.is_object()) fail(errc::format, "generation_config.json: the document must be a JSON object");
  generation_defaults g;
  auto num = [&](std::string_view k, float lo, float hi) -> std::optional<float> {
    const json_value* v = field(root, k);
    if (!v) return std::nullopt;
    if (!v->is_number()) fail(errc::format, "generation_config.json: '{}' must be a number", k);
    const double x = v->as_double();
    if (!(x >= lo && x <= hi)) fail(errc::format, "generation_config.json: '{}' = {} is out of range", k, x);
    return static_cast<float>(x);
  };
  g.temperature = num("temperature", 0.0f, 100.0f);
  g.top_p = num("top_p", 0.0f, 1.0f);
  g.min_p = num("min_p", 0.0f, 1.0f);
  if (const json_value* v = field(root, "do_sample")) {
    if (!v->is_bool()) fail(errc::format, "generation_config.json: 'do_sample' must be true or false");
    g.do_sample = v->as_bool();
  }
  if (auto k = num("top_k", 0.0f, 1e9f)) {
    if (*k != std::floor(*k)) fail(errc::format, "generation_config.json: 'top_k' must be an integer");
    g.top_k = static_cast<int32_t>(*k);
  }
  return g;
}

}  // namespace dianoia::detail
