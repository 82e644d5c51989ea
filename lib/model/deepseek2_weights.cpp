#include "model/deepseek2_weights.hpp"

#include "core/error.hpp"
#include "kernels/quant/quant.hpp"
#include "model/weight_lookup.hpp"

namespace dianoia::detail {
namespace {

// Rows [r0, r0 + n) of a matrix tensor as f32 (ggml rows are independent, whatever the block type).
void dequant_rows(const tensor_view& t, uint64_t r0, uint64_t n, float* out) {
  const size_t row = ggml_row_bytes(t.type, t.ne[0]);
  for (uint64_t r = 0; r < n; ++r)
    dequantize_row(t.type, t.data + (r0 + r) * row, out + r * t.ne[0], static_cast<int64_t>(t.ne[0]));
}

const tensor_view& readable(const tensor_view& t) {
  if (!dequantize_supports(t.type) || t.ne[0] % ggml_traits(t.type).block_elems != 0)
    fail(errc::unsupported, "tensor '{}' has type {}, which dianoia cannot read yet", t.name, ggml_traits(t.type).name);
  return t;
}

// kv_b as f32 [n_head][nope + v][kv_lora]: from a fused attn_kv_b (HF's kv_b_proj, older llama.cpp
// files), or from llama.cpp's split attn_k_b (per head [kv_lora][nope], the key half transposed) and
// attn_v_b (per head [v][kv_lora]).
void load_kv_b(const tensor_source& src, const std::string& p, const hparams& hp, mla_layer& L) {
  const uint64_t H = hp.n_head, nope = hp.mla.qk_nope_head_dim, vd = hp.mla.v_head_dim, r = hp.mla.kv_lora_rank;
  if (src.find_tensor(p + "attn_kv_b.weight")) {
    const auto& t = readable(find_shaped(src, p + "attn_kv_b.weight", r, H * (nope + vd)));
    if (t.type == ggml_type::f32) {
      L.kv_b = reinterpret_cast<const float*>(t.data);
      return;
    }
    L.kv_b_own.resize(H * (nope + vd) * r);
    dequant_rows(t, 0, H * (nope + vd), L.kv_b_own.data());
    L.kv_b = L.kv_b_own.data();
    return;
  }
  const tensor_view* kb = src.find_tensor(p + "attn_k_b.weight");
  const tensor_view* vb = src.find_tensor(p + "attn_v_b.weight");
  if (!kb || !vb) fail(errc::format, "tensor '{}attn_kv_b.weight' is missing (nor are attn_k_b and attn_v_b there)", p);
  if (kb->ne[0] != nope || kb->ne[1] != r || kb->ne[2] != H || kb->ne[3] != 1)
    fail(errc::format, "tensor '{}' has shape [{}, {}, {}], expected [{}, {}, {}]", kb->name, kb->ne[0], kb->ne[1],
         kb->ne[2], nope, r, H);
  if (vb->ne[0] != r || vb->ne[1] != vd || vb->ne[2] != H || vb->ne[3] != 1)
    fail(errc::format, "tensor '{}' has shape [{}, {}, {}], expected [{}, {}, {}]", vb->name, vb->ne[0], vb->ne[1],
         vb->ne[2], r, vd, H);
  readable(*kb);
  readable(*vb);
  L.kv_b_own.resize(H * (nope + vd) * r);
  std::vector<float> kt(r * nope);
  for (uint64_t h = 0; h < H; ++h) {
    float* head = &L.kv_b_own[h * (nope + vd) * r];
    dequant_rows(*kb, h * r, r, kt.data());  // [kv_lora][nope]
    for (uint64_t i = 0; i < nope; ++i)
      for (uint64_t j = 0; j < r; ++j) head[i * r + j] = kt[j * nope + i];
    dequant_rows(*vb, h * vd, vd, head + nope * r);  // [v][kv_lora]
    L.k_b.push_back({kb->type, kb->data + h * r * ggml_row_bytes(kb->type, nope), static_cast<int64_t>(r),
                     static_cast<int64_t>(nope)});
    L.v_b.push_back({vb->type, vb->data + h * vd * ggml_row_bytes(vb->type, r), static_cast<int64_t>(vd),
                     static_cast<int64_t>(r)});
  }
  L.kv_b = L.kv_b_own.data();
}

void check_shape(const hparams& hp) {
  const auto& m = hp.mla;
  const auto& e = hp.moe;
  if (hp.n_head == 0 || m.kv_lora_rank == 0 || m.qk_nope_head_dim == 0 || m.v_head_dim == 0 ||
      m.qk_rope_head_dim == 0 || m.qk_rope_head_dim % 2 || hp.rope_dim != m.qk_rope_head_dim)
    fail(errc::format, "deepseek2: inconsistent attention sizes ({} heads, kv_lora_rank {}, nope {}, rope {}, v {})",
         hp.n_head, m.kv_lora_rank, m.qk_nope_head_dim, m.qk_rope_head_dim, m.v_head_dim);
  if (e.n_layer_dense_lead < hp.n_layer) {
    if (e.n_expert == 0 || e.n_expert_used == 0 || e.n_expert_used > e.n_expert || e.n_ff_expert == 0)
      fail(errc::format, "deepseek2: {} experts, {} used, expert size {} do not make a mixture", e.n_expert,
           e.n_expert_used, e.n_ff_expert);
    if (e.n_expert_groups > 1 && (e.n_expert % e.n_expert_groups || e.n_group_used == 0 ||
                                  e.n_group_used > e.n_expert_groups ||
                                  e.n_expert_used > e.n_group_used * (e.n_expert / e.n_expert_groups)))
      fail(errc::format, "deepseek2: {} experts in {} groups (top {} groups, {} experts) is inconsistent", e.n_expert,
           e.n_expert_groups, e.n_group_used, e.n_expert_used);
  }
}

}  // namespace

deepseek2_weights load_deepseek2_weights(hparams& hp, const tensor_source& src) {
  check_shape(hp);
  deepseek2_weights w;
  w.tok_embd = src.find_tensor("token_embd.weight");
  if (!w.tok_embd) fail(errc::format, "tensor 'token_embd.weight' is missing");
  if (w.tok_embd->ne[0] != hp.n_embd || w.tok_embd->ne[1] == 0 || w.tok_embd->ne[1] > (1u << 24) ||
      w.tok_embd->ne[2] != 1 || w.tok_embd->ne[3] != 1)
    fail(errc::format, "token_embd.weight has shape [{}, {}], expected [{}, n_vocab]", w.tok_embd->ne[0],
         w.tok_embd->ne[1], hp.n_embd);
  hp.n_vocab = static_cast<uint32_t>(w.tok_embd->ne[1]);
  readable(*w.tok_embd);

  const auto& m = hp.mla;
  const auto& e = hp.moe;
  const uint64_t d = hp.n_embd, H = hp.n_head, qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
  for (uint32_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    mla_layer L;
    L.attn_norm = load_vec(src, p + "attn_norm.weight", d);
    if (m.q_lora_rank) {
      L.wq_a = load_matrix(src, p + "attn_q_a.weight", d, m.q_lora_rank);
      L.q_a_norm = load_vec(src, p + "attn_q_a_norm.weight", m.q_lora_rank);
      L.wq_b = load_matrix(src, p + "attn_q_b.weight", m.q_lora_rank, H * qk);
    } else {
      L.wq = load_matrix(src, p + "attn_q.weight", d, H * qk);
    }
    L.wkv_a = load_matrix(src, p + "attn_kv_a_mqa.weight", d, m.kv_lora_rank + m.qk_rope_head_dim);
    L.kv_a_norm = load_vec(src, p + "attn_kv_a_norm.weight", m.kv_lora_rank);
    load_kv_b(src, p, hp, L);
    L.wo = load_matrix(src, p + "attn_output.weight", H * m.v_head_dim, d);
    L.ffn_norm = load_vec(src, p + "ffn_norm.weight", d);
    if (l < e.n_layer_dense_lead) {
      L.gate = load_matrix(src, p + "ffn_gate.weight", d, hp.n_ff);
      L.up = load_matrix(src, p + "ffn_up.weight", d, hp.n_ff);
      L.down = load_matrix(src, p + "ffn_down.weight", hp.n_ff, d);
    } else {
      L.router = load_matrix(src, p + "ffn_gate_inp.weight", d, e.n_expert);
      if (e.sigmoid_gating) L.router_bias = load_optional_vec(src, p + "exp_probs_b.bias", e.n_expert);
      L.gate_exps = load_experts(src, l, "gate", e.n_expert, d, e.n_ff_expert);
      L.up_exps = load_experts(src, l, "up", e.n_expert, d, e.n_ff_expert);
      L.down_exps = load_experts(src, l, "down", e.n_expert, e.n_ff_expert, d);
      if (e.n_expert_shared) {
        const uint64_t ffs = uint64_t{e.n_ff_expert} * e.n_expert_shared;
        L.gate_sh = load_matrix(src, p + "ffn_gate_shexp.weight", d, ffs);
        L.up_sh = load_matrix(src, p + "ffn_up_shexp.weight", d, ffs);
        L.down_sh = load_matrix(src, p + "ffn_down_shexp.weight", ffs, d);
      }
    }
    w.layers.push_back(std::move(L));
  }
  w.output_norm = load_vec(src, "output_norm.weight", d);
  hp.tied_output = src.find_tensor("output.weight") == nullptr;
  w.output = load_matrix(src, hp.tied_output ? "token_embd.weight" : "output.weight", d, hp.n_vocab);
  hp.n_params = 0;
  for (const auto& t : src.all_tensors()) hp.n_params += t.n_elements();
  return w;
}

}  // namespace dianoia::detail
