// config.json -> hparams for every supported architecture, generation_config.json, HF tensor names.
#include <doctest/doctest.h>

#include <string>

#include "core/error.hpp"
#include "model/hf_names.hpp"
#include "model/hparams_hf.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;

namespace {

// DeepSeek-V3's published config.json (the fields dianoia reads, values as released).
const char* k_deepseek_v3 = R"({
  "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "vocab_size": 129280,
  "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048, "num_hidden_layers": 61,
  "num_attention_heads": 128, "num_key_value_heads": 128, "n_shared_experts": 1, "n_routed_experts": 256,
  "routed_scaling_factor": 2.5, "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64,
  "v_head_dim": 128, "qk_nope_head_dim": 128, "topk_method": "noaux_tc", "n_group": 8, "topk_group": 4,
  "num_experts_per_tok": 8, "first_k_dense_replace": 3, "norm_topk_prob": true, "scoring_func": "sigmoid",
  "max_position_embeddings": 163840, "rms_norm_eps": 1e-06, "rope_theta": 10000, "tie_word_embeddings": false,
  "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                   "original_max_position_embeddings": 4096, "type": "yarn"},
  "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128]}
})";

std::string err(std::string_view json) {
  try {
    hparams_from_config_json(json);
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config.json: qwen2 (DeepSeek-R1-Distill-Qwen-1.5B)") {
  const hparams hp = hparams_from_config_json(dianoia::test::read_file(
      dianoia::test::data_dir() + "/configs/DeepSeek-R1-Distill-Qwen-1.5B/config.modified-copy.json"));
  CHECK(hp.arch == "qwen2");
  CHECK(hp.n_vocab == 151936);
  CHECK(hp.n_embd == 1536);
  CHECK(hp.n_layer == 28);
  CHECK(hp.n_head == 12);
  CHECK(hp.n_head_kv == 2);
  CHECK(hp.head_dim == 128);
  CHECK(hp.rope_dim == 128);
  CHECK(hp.n_ff == 8960);
  CHECK(hp.n_ctx_train == 131072);
  CHECK(hp.rms_eps == 1e-6f);
  CHECK(hp.rope_base == 10000.0f);
  CHECK(hp.rope == rope_kind::neox);
  CHECK(!hp.tied_output);
  CHECK(hp.scaling.kind == rope_scaling_kind::none);
}

TEST_CASE("config.json: qwen3 declares its head size") {
  const hparams hp = hparams_from_config_json(R"({"model_type":"qwen3","vocab_size":151936,"hidden_size":1024,
    "intermediate_size":3072,"num_hidden_layers":28,"num_attention_heads":16,"num_key_value_heads":8,"head_dim":128,
    "max_position_embeddings":40960,"rms_norm_eps":1e-06,"rope_theta":1000000,"tie_word_embeddings":true,"rope_scaling":null})");
  CHECK(hp.arch == "qwen3");
  CHECK(hp.head_dim == 128);
  CHECK(hp.rope_base == 1000000.0f);
  CHECK(hp.tied_output);
  CHECK(hp.rope == rope_kind::neox);
}

TEST_CASE("config.json: deepseek_v3 (MLA, MoE, YaRN)") {
  const hparams hp = hparams_from_config_json(k_deepseek_v3);
  CHECK(hp.arch == "deepseek2");
  CHECK(hp.n_layer == 61);
  CHECK(hp.mla.q_lora_rank == 1536);
  CHECK(hp.mla.kv_lora_rank == 512);
  CHECK(hp.mla.qk_nope_head_dim == 128);
  CHECK(hp.mla.qk_rope_head_dim == 64);
  CHECK(hp.mla.v_head_dim == 128);
  CHECK(hp.head_dim == 192);
  CHECK(hp.rope_dim == 64);
  CHECK(hp.moe.n_expert == 256);
  CHECK(hp.moe.n_expert_used == 8);
  CHECK(hp.moe.n_expert_shared == 1);
  CHECK(hp.moe.n_ff_expert == 2048);
  CHECK(hp.moe.n_layer_dense_lead == 3);
  CHECK(hp.moe.n_expert_groups == 8);
  CHECK(hp.moe.n_group_used == 4);
  CHECK(hp.moe.routed_scaling == 2.5f);
  CHECK(hp.moe.norm_topk_prob);
  CHECK(hp.moe.sigmoid_gating);
  CHECK(hp.scaling.kind == rope_scaling_kind::yarn);
  CHECK(hp.scaling.factor == 40.0f);
  CHECK(hp.scaling.original_ctx == 4096);
  CHECK(hp.scaling.yarn_beta_fast == 32.0f);
  CHECK(hp.scaling.yarn_mscale_all_dim == 1.0f);
  // DeepSeek rotates adjacent pairs (rope_interleave, default true); the tiny models' parity decides it.
  CHECK(hp.rope == rope_kind::norm);
  CHECK(hp.moe.group_scoring == expert_group_scoring::top2_sum);
  CHECK(hp.moe.scale_normalized);
}

TEST_CASE("config.json: deepseek_v2-lite has no q_lora_rank; llama3 and linear rope scaling") {
  const hparams lite = hparams_from_config_json(R"({"model_type":"deepseek_v2","vocab_size":102400,"hidden_size":2048,
    "intermediate_size":10944,"num_hidden_layers":27,"num_attention_heads":16,"num_key_value_heads":16,"q_lora_rank":null,
    "kv_lora_rank":512,"qk_nope_head_dim":128,"qk_rope_head_dim":64,"v_head_dim":128,"n_routed_experts":64,
    "num_experts_per_tok":6,"n_shared_experts":2,"moe_intermediate_size":1408,"first_k_dense_replace":1,
    "scoring_func":"softmax","n_group":1,"topk_group":1,"routed_scaling_factor":1.0})");
  CHECK(lite.arch == "deepseek2");
  CHECK(lite.mla.q_lora_rank == 0);
  CHECK(!lite.moe.sigmoid_gating);
  CHECK(lite.moe.group_scoring == expert_group_scoring::none);  // topk_method greedy (its default)
  CHECK(!lite.moe.scale_normalized);
  const hparams l3 = hparams_from_config_json(R"({"model_type":"llama","vocab_size":128256,"hidden_size":2048,
    "intermediate_size":8192,"num_hidden_layers":16,"num_attention_heads":32,"num_key_value_heads":8,
    "max_position_embeddings":131072,"rope_theta":500000.0,"tie_word_embeddings":true,
    "rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"}})");
  CHECK(l3.scaling.kind == rope_scaling_kind::llama3);
  CHECK(l3.scaling.factor == 32.0f);
  CHECK(l3.scaling.original_ctx == 8192);
  CHECK(l3.rope == rope_kind::norm);
  CHECK(l3.head_dim == 64);
  // transformers 5 writes rope_parameters, with rope_theta inside.
  const hparams t5 = hparams_from_config_json(R"({"model_type":"llama","vocab_size":10,"hidden_size":64,
    "intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":4,
    "rope_parameters":{"rope_type":"linear","factor":2.0,"rope_theta":20000.0}})");
  CHECK(t5.scaling.kind == rope_scaling_kind::linear);
  CHECK(t5.rope_base == 20000.0f);
}

TEST_CASE("config.json: bad ones are named") {
  CHECK(err(R"({"model_type":"gpt_neox"})").find("'gpt_neox' is not supported") != std::string::npos);
  CHECK(err(R"({"hidden_size":1})").find("'model_type' is missing") != std::string::npos);
  CHECK(err(R"({"model_type":"llama","vocab_size":10})").find("'hidden_size' is missing") != std::string::npos);
  CHECK(err(R"({"model_type":"llama","vocab_size":10,"hidden_size":"64"})").find("must be an integer") != std::string::npos);
  CHECK(err(R"({"model_type":"llama","vocab_size":10,"hidden_size":-64})").find("out of range") != std::string::npos);
  CHECK(err(R"({"model_type":"llama","vocab_size":10,"hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,
    "num_attention_heads":5})").find("not divisible") != std::string::npos);
  CHECK(err(R"({"model_type":"llama","vocab_size":10,"hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,
    "num_attention_heads":4,"num_key_value_heads":3})").find("cannot share") != std::string::npos);
  CHECK(err(R"({"model_type":"llama","vocab_size":10,"hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,
    "num_attention_heads":4,"rope_scaling":{"type":"dynamic","factor":2}})").find("'dynamic' is not supported") != std::string::npos);
  CHECK(err(R"({"model_type":"llama","model_type":"qwen2"})").find("duplicate") != std::string::npos);
  CHECK(err("[]").find("JSON object") != std::string::npos);
  CHECK(err(R"({"model_type":"llama","vocab_size":1e400})").find("json") != std::string::npos);
}

TEST_CASE("generation_config.json") {
  auto g = generation_defaults_from_json(R"({"bos_token_id":1,"eos_token_id":[2,3],"do_sample":true,"temperature":0.6,"top_p":0.95})");
  CHECK(g.temperature == doctest::Approx(0.6));
  CHECK(g.top_p == doctest::Approx(0.95));
  CHECK(!g.top_k);
  CHECK(g.do_sample == true);
  CHECK_THROWS_AS(generation_defaults_from_json(R"({"top_p":2})"), error);
  CHECK_THROWS_AS(generation_defaults_from_json(R"({"top_k":1.5})"), error);
  CHECK(!generation_defaults_from_json("{}").temperature);
}

TEST_CASE("HF tensor names -> canonical names") {
  hparams ll;
  ll.arch = "llama";
  ll.n_layer = 2;
  ll.n_head = 8;
  ll.n_head_kv = 4;
  ll.rope = rope_kind::norm;
  auto m = [&](const hparams& hp, const char* n) { return map_hf_tensor_name(hp, n); };
  CHECK(m(ll, "model.embed_tokens.weight")->canonical == "token_embd.weight");
  CHECK(m(ll, "lm_head.weight")->canonical == "output.weight");
  CHECK(m(ll, "model.norm.weight")->canonical == "output_norm.weight");
  CHECK(m(ll, "model.layers.1.input_layernorm.weight")->canonical == "blk.1.attn_norm.weight");
  CHECK(m(ll, "model.layers.0.post_attention_layernorm.weight")->canonical == "blk.0.ffn_norm.weight");
  CHECK(m(ll, "model.layers.0.self_attn.q_proj.weight")->permute_heads == 8);
  CHECK(m(ll, "model.layers.0.self_attn.k_proj.weight")->permute_heads == 4);
  CHECK(m(ll, "model.layers.0.self_attn.v_proj.weight")->permute_heads == 0);
  CHECK(m(ll, "model.layers.0.mlp.down_proj.weight")->canonical == "blk.0.ffn_down.weight");
  CHECK(!m(ll, "model.layers.0.self_attn.rotary_emb.inv_freq"));
  CHECK(!m(ll, "model.layers.5.mlp.down_proj.weight"));  // past num_hidden_layers (MTP): ignored
  CHECK(!m(ll, "something.else"));
  CHECK_THROWS_WITH_AS(m(ll, "model.layers.0.self_attn.mystery.weight"), doctest::Contains("mystery"), error);

  hparams qw = ll;
  qw.arch = "qwen3";
  qw.rope = rope_kind::neox;
  CHECK(m(qw, "model.layers.0.self_attn.q_proj.bias")->canonical == "blk.0.attn_q.bias");
  CHECK(m(qw, "model.layers.0.self_attn.q_proj.weight")->permute_heads == 0);
  CHECK(m(qw, "model.layers.1.self_attn.k_norm.weight")->canonical == "blk.1.attn_k_norm.weight");

  hparams ds = qw;
  ds.arch = "deepseek2";
  ds.moe.n_expert = 4;
  CHECK(m(ds, "model.layers.1.self_attn.kv_a_proj_with_mqa.weight")->canonical == "blk.1.attn_kv_a_mqa.weight");
  CHECK(m(ds, "model.layers.1.self_attn.q_a_layernorm.weight")->canonical == "blk.1.attn_q_a_norm.weight");
  CHECK(m(ds, "model.layers.1.self_attn.kv_b_proj.weight")->canonical == "blk.1.attn_kv_b.weight");
  CHECK(m(ds, "model.layers.1.mlp.gate.weight")->canonical == "blk.1.ffn_gate_inp.weight");
  CHECK(m(ds, "model.layers.1.mlp.gate.e_score_correction_bias")->canonical == "blk.1.exp_probs_b.bias");
  CHECK(m(ds, "model.layers.1.mlp.shared_experts.up_proj.weight")->canonical == "blk.1.ffn_up_shexp.weight");
  CHECK(m(ds, "model.layers.1.mlp.experts.3.down_proj.weight")->canonical == "blk.1.ffn_down_exps.3.weight");
  CHECK_THROWS_WITH_AS(m(ds, "model.layers.1.mlp.experts.4.down_proj.weight"), doctest::Contains("expert 4"), error);
  CHECK_THROWS_AS(m(ds, "model.layers.x.mlp.gate.weight"), error);
}
