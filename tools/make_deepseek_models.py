#!/usr/bin/env python3
"""Tiny random DeepSeek-V3- and V2-style models with reference logits (tests/fixtures/tiny_deepseek/).

    /work/venv-torch/bin/python tools/make_deepseek_models.py            # the fixtures below
    /work/venv-torch/bin/python tools/make_deepseek_models.py bench      # bench models (see bench())

needs torch, transformers >= 5 (DeepseekV2ForCausalLM / DeepseekV3ForCausalLM are in the library, no
remote code) and safetensors. For each model it writes:

  <name>/config.json          the model's config, in the published checkpoints' field names
  <name>/model.safetensors    F32 weights in the published checkpoints' tensor names (one tensor per
                              expert: mlp.experts.E.{gate,up,down}_proj; transformers itself stacks them)
  <name>/reference_hf.json    transformers' float32 logits at the stored positions of each sequence
  <name>/<name>.F32.gguf      the same weights in llama.cpp's deepseek2 layout (our own conversion, F32,
                              experts stacked into 3-D tensors): ds_v3 with a fused attn_kv_b and the
                              older per-head key/value lengths, ds_v2 with the split attn_k_b/attn_v_b
                              and the newer MLA keys
  <name>_fp8/...              (V3 only) the same model with its matrices in float8 e4m3 and 128x128
                              weight_scale_inv blocks, as DeepSeek-V3 ships, and the logits transformers
                              gives for the dequantized weights (each block's e4m3 values times its scale,
                              rounded to bfloat16: what dianoia's loader makes of them)
  manifest.json               the token sequences, the stored positions, the models' shapes

The models: several routed experts in 2 groups, a shared expert, one dense layer first, YaRN on;
ds_v3 (q_lora on, sigmoid routing with e_score_correction_bias, group-limited by top-2 sums,
normalised weights x routed_scaling_factor) and ds_v2 (q_lora off as in V2-Lite, softmax routing,
group_limited_greedy, scaled weights), with mscale != mscale_all_dim so that both YaRN terms show.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "tiny_deepseek"

VOCAB = 128
SEQ_LENS = [1, 7, 64, 200]

COMMON = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_attention_heads=4, num_key_value_heads=4,
              kv_lora_rank=16, qk_nope_head_dim=8, qk_rope_head_dim=8, v_head_dim=8, n_routed_experts=8,
              n_shared_experts=1, moe_intermediate_size=16, first_k_dense_replace=1, n_group=2, topk_group=1,
              num_experts_per_tok=2, rms_norm_eps=1e-6, rope_theta=10000.0, max_position_embeddings=512,
              tie_word_embeddings=False, hidden_act="silu", attention_bias=False, bos_token_id=1, eos_token_id=2,
              torch_dtype="float32")

MODELS = [
    dict(name="ds_v3", cls="DeepseekV3ForCausalLM", config=dict(
        COMMON, model_type="deepseek_v3", num_hidden_layers=3, q_lora_rank=16, scoring_func="sigmoid",
        topk_method="noaux_tc", norm_topk_prob=True, routed_scaling_factor=2.5, rope_interleave=True,
        rope_scaling={"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128, "beta_fast": 32,
                      "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.8}), fp8=True, seed=11, split_kv_b=False),
    dict(name="ds_v2", cls="DeepseekV2ForCausalLM", config=dict(
        COMMON, model_type="deepseek_v2", num_hidden_layers=2, q_lora_rank=None, scoring_func="softmax",
        topk_method="group_limited_greedy", norm_topk_prob=False, routed_scaling_factor=2.0,
        rope_scaling={"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128, "beta_fast": 32,
                      "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707}), fp8=False, seed=12, split_kv_b=True),
]


def sequences():
    rng = np.random.default_rng(4321)
    return {str(n): rng.integers(0, VOCAB, size=n).tolist() for n in SEQ_LENS}


def stored_positions(n):
    return sorted(set(range(0, n, 23)) | {n - 1})


def build(m):
    import transformers as tf
    cfg_dict = dict(m["config"])
    cfg_dict["architectures"] = [m["cls"]]
    cls = getattr(tf, m["cls"])
    conf_cls = tf.DeepseekV3Config if cfg_dict["model_type"] == "deepseek_v3" else tf.DeepseekV2Config
    cfg = conf_cls.from_dict(cfg_dict)
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    model = cls(cfg).eval()
    g = torch.Generator().manual_seed(m["seed"])
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (1.5 / math.sqrt(p.shape[-1])))
        for name, b in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
    return cfg_dict, model


def checkpoint_tensors(model, cfg):
    """transformers' state dict in the published checkpoints' names: experts one by one."""
    out = {}
    ff = cfg["moe_intermediate_size"]
    for k, v in model.state_dict().items():
        v = v.detach().to(torch.float32).contiguous()
        if k.endswith("mlp.experts.gate_up_proj"):
            base = k[: -len("gate_up_proj")]
            for e in range(v.shape[0]):
                out[f"{base}{e}.gate_proj.weight"] = v[e, :ff].clone()
                out[f"{base}{e}.up_proj.weight"] = v[e, ff:].clone()
        elif k.endswith("mlp.experts.down_proj"):
            base = k[: -len("down_proj")]
            for e in range(v.shape[0]):
                out[f"{base}{e}.down_proj.weight"] = v[e].clone()
        elif "rotary_emb" in k:
            continue
        else:
            out[k] = v
    return out


def reference(model, seqs):
    logits = {}
    with torch.no_grad():
        for n, ids in seqs.items():
            out = model(torch.tensor([ids])).logits[0]
            logits[n] = [[round(float(x), 7) for x in out[p]] for p in stored_positions(len(ids))]
    return logits


def fp8_blocks(w):
    """DeepSeek-V3's fp8 form: e4m3 values and one float32 scale per 128x128 block (weight = q * scale)."""
    rows, cols = w.shape
    br, bc = (rows + 127) // 128, (cols + 127) // 128
    scale = torch.empty(br, bc)
    q = torch.empty(rows, cols, dtype=torch.float8_e4m3fn)
    for i in range(br):
        for j in range(bc):
            blk = w[i * 128:(i + 1) * 128, j * 128:(j + 1) * 128]
            s = blk.abs().max().clamp(min=1e-12) / 448.0
            scale[i, j] = s
            q[i * 128:(i + 1) * 128, j * 128:(j + 1) * 128] = (blk / s).to(torch.float8_e4m3fn)
    return q, scale


def dequant(q, scale):
    w = q.to(torch.float32)
    rows, cols = w.shape
    s = scale.repeat_interleave(128, 0)[:rows].repeat_interleave(128, 1)[:, :cols]
    return (w * s).to(torch.bfloat16).to(torch.float32)


def add_minimal_vocab(w, n_vocab):
    """Placeholder SentencePiece-style pieces: enough for llama.cpp (and dianoia) to load the file."""
    import gguf
    w.add_tokenizer_model("llama")
    w.add_token_list(["<unk>", "<s>", "</s>"] + [f"\u2581t{i}" for i in range(3, n_vocab)])
    w.add_token_scores([0.0] * 3 + [-float(i) for i in range(3, n_vocab)])
    w.add_token_types([int(gguf.TokenType.UNKNOWN), int(gguf.TokenType.CONTROL), int(gguf.TokenType.CONTROL)]
                      + [int(gguf.TokenType.NORMAL)] * (n_vocab - 3))
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)


def write_gguf(cfg, tensors, path, split_kv_b, q8=False):
    """Our own HF -> GGUF conversion in llama.cpp's deepseek2 names and keys, F32 throughout, experts
    stacked into 3-D tensors. split_kv_b: kv_b as attn_k_b (key half, transposed per head) + attn_v_b and
    the newer MLA keys (one KV head of kv_lora + rope); else a fused attn_kv_b and the older keys."""
    import gguf
    w = gguf.GGUFWriter(str(path), "deepseek2")
    H, nope, rope, vd = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    r, E, L = cfg["kv_lora_rank"], cfg["n_routed_experts"], cfg["num_hidden_layers"]
    w.add_name(path.stem)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(L)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(H)
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_file_type(0)
    w.add_vocab_size(cfg["vocab_size"])
    w.add_leading_dense_block_count(cfg["first_k_dense_replace"])
    # q_lora_rank 0 when q_lora is off (V2-Lite's plain q_proj): llama.cpp's converter leaves the key out,
    # and llama.cpp then requires it unless the model has 26 or 27 layers (V2-Lite's count, its "lite"
    # test); an explicit 0 is what its loader reads as "no q_lora" (attn_q instead of attn_q_a/attn_q_b).
    w.add_q_lora_rank(cfg["q_lora_rank"] or 0)
    w.add_kv_lora_rank(r)
    if split_kv_b:
        w.add_head_count_kv(1)
        w.add_key_length(r + rope)
        w.add_value_length(r)
        w.add_key_length_mla(nope + rope)
        w.add_value_length_mla(vd)
    else:
        w.add_head_count_kv(H)
        w.add_key_length(nope + rope)
        w.add_value_length(vd)
    w.add_expert_feed_forward_length(cfg["moe_intermediate_size"])
    w.add_expert_count(E)
    w.add_expert_used_count(cfg["num_experts_per_tok"])
    w.add_expert_shared_count(cfg["n_shared_experts"])
    w.add_expert_weights_scale(cfg["routed_scaling_factor"])
    w.add_expert_weights_norm(cfg["norm_topk_prob"])
    w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID if cfg["scoring_func"] == "sigmoid"
                             else gguf.ExpertGatingFuncType.SOFTMAX)
    w.add_expert_group_count(cfg["n_group"])
    w.add_expert_group_used_count(cfg["topk_group"])
    w.add_rope_dimension_count(rope)
    rs = cfg["rope_scaling"]
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(rs["factor"])
    w.add_rope_scaling_orig_ctx_len(rs["original_max_position_embeddings"])
    w.add_rope_scaling_yarn_log_mul(0.1 * rs["mscale_all_dim"])
    add_minimal_vocab(w, cfg["vocab_size"])

    from gguf.quants import quantize, dequantize
    rounded = {}

    def t(name, x):
        x = np.ascontiguousarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float32)
        if q8 and x.ndim >= 2 and x.shape[-1] % 32 == 0 and "ffn_gate_inp" not in name:
            q = quantize(x, gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(name, q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
            rounded[name] = dequantize(q, gguf.GGMLQuantizationType.Q8_0).reshape(x.shape)
        else:
            w.add_tensor(name, x)

    t("token_embd.weight", tensors["model.embed_tokens.weight"])
    for i in range(L):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        a = p + "self_attn."
        t(b + "attn_norm.weight", tensors[p + "input_layernorm.weight"])
        if cfg["q_lora_rank"]:
            t(b + "attn_q_a.weight", tensors[a + "q_a_proj.weight"])
            t(b + "attn_q_a_norm.weight", tensors[a + "q_a_layernorm.weight"])
            t(b + "attn_q_b.weight", tensors[a + "q_b_proj.weight"])
        else:
            t(b + "attn_q.weight", tensors[a + "q_proj.weight"])
        t(b + "attn_kv_a_mqa.weight", tensors[a + "kv_a_proj_with_mqa.weight"])
        t(b + "attn_kv_a_norm.weight", tensors[a + "kv_a_layernorm.weight"])
        kv_b = tensors[a + "kv_b_proj.weight"]
        if split_kv_b:
            kv = kv_b.view(H, nope + vd, r)
            t(b + "attn_k_b.weight", kv[:, :nope].transpose(1, 2).contiguous())  # [H, r, nope]
            t(b + "attn_v_b.weight", kv[:, nope:].contiguous())                  # [H, v, r]
        else:
            t(b + "attn_kv_b.weight", kv_b)
        t(b + "attn_output.weight", tensors[a + "o_proj.weight"])
        t(b + "ffn_norm.weight", tensors[p + "post_attention_layernorm.weight"])
        if i < cfg["first_k_dense_replace"]:
            for k in ("gate", "up", "down"):
                t(b + f"ffn_{k}.weight", tensors[p + f"mlp.{k}_proj.weight"])
            continue
        t(b + "ffn_gate_inp.weight", tensors[p + "mlp.gate.weight"])
        if p + "mlp.gate.e_score_correction_bias" in tensors:
            t(b + "exp_probs_b.bias", tensors[p + "mlp.gate.e_score_correction_bias"])
        for k in ("gate", "up", "down"):
            t(b + f"ffn_{k}_exps.weight", torch.stack([tensors[p + f"mlp.experts.{e}.{k}_proj.weight"] for e in range(E)]))
            t(b + f"ffn_{k}_shexp.weight", tensors[p + f"mlp.shared_experts.{k}_proj.weight"])
    t("output_norm.weight", tensors["model.norm.weight"])
    t("output.weight", tensors["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return rounded


def q8_reference(model, cfg, tensors, rounded, seqs):
    """transformers' logits with the weights the Q8_0 file rounds replaced by their rounded values: what
    the file's weights compute exactly; the rest of a runtime's error is its activation arithmetic."""
    import copy
    m = copy.deepcopy(model)
    H, nope, vd, r = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["v_head_dim"], cfg["kv_lora_rank"]
    names = {"token_embd.weight": "model.embed_tokens.weight", "output.weight": "lm_head.weight"}
    sub = {"attn_q_a": "self_attn.q_a_proj", "attn_q_b": "self_attn.q_b_proj", "attn_q": "self_attn.q_proj",
           "attn_kv_a_mqa": "self_attn.kv_a_proj_with_mqa", "attn_kv_b": "self_attn.kv_b_proj",
           "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
           "ffn_down": "mlp.down_proj", "ffn_gate_shexp": "mlp.shared_experts.gate_proj",
           "ffn_up_shexp": "mlp.shared_experts.up_proj", "ffn_down_shexp": "mlp.shared_experts.down_proj"}
    state = m.state_dict()
    ff = cfg["moe_intermediate_size"]
    with torch.no_grad():
        for gname, arr in rounded.items():
            x = torch.from_numpy(np.array(arr, dtype=np.float32))
            if gname in names:
                state[names[gname]].copy_(x)
                continue
            _, bid, kind, _ = gname.split(".")
            p = f"model.layers.{bid}."
            if kind in ("ffn_gate_exps", "ffn_up_exps"):
                half = slice(0, ff) if kind == "ffn_gate_exps" else slice(ff, 2 * ff)
                state[p + "mlp.experts.gate_up_proj"][:, half].copy_(x)
            elif kind == "ffn_down_exps":
                state[p + "mlp.experts.down_proj"].copy_(x)
            elif kind in ("attn_k_b", "attn_v_b"):
                kv = state[p + "self_attn.kv_b_proj.weight"].view(H, nope + vd, r)
                if kind == "attn_k_b":
                    kv[:, :nope].copy_(x.transpose(1, 2))
                else:
                    kv[:, nope:].copy_(x)
            else:
                state[p + sub[kind] + ".weight"].copy_(x)
    return reference(m, seqs)


# DeepSeek-V2-Lite's per-layer shape (its config.json), 4 layers instead of 27: one dense layer, then
# 3 MoE layers of 64 routed + 2 shared experts, 6 per token.
BENCH_SHAPE = dict(hidden=2048, heads=16, kv_lora=512, nope=128, rope=64, v=128, ff=10944, moe_ff=1408, experts=64,
                   shared=2, used=6, layers=4, dense_lead=1)


def bench(out_dir, data_dir):
    """Random-weight GGUFs with DeepSeek-V2-Lite's per-layer shape for bench/: <out>/ds-v2-lite-4l.Q8_0.gguf
    (written here) and, when llama-cpp-python is importable, .Q4_K_M.gguf (llama.cpp's quantizer from an F16
    file written first). stories260K's 512-piece vocabulary, so that both engines load them; the vocab size
    is therefore not V2-Lite's 102,400 (the output head is 512 rows, not 102,400)."""
    import gguf
    from gguf.quants import quantize
    b = BENCH_SHAPE
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = gguf.GGUFReader(str(Path(data_dir) / "models" / "stories260K" / "stories260K.gguf"))
    f = vocab.fields
    rng = np.random.default_rng(7)
    H, d = b["heads"], b["hidden"]

    def write(path, qtype):
        w = gguf.GGUFWriter(str(path), "deepseek2")
        w.add_name(path.stem)
        w.add_context_length(4096)
        w.add_embedding_length(d)
        w.add_block_count(b["layers"])
        w.add_feed_forward_length(b["ff"])
        w.add_head_count(H)
        w.add_head_count_kv(1)
        w.add_rope_freq_base(10000.0)
        w.add_layer_norm_rms_eps(1e-6)
        w.add_file_type(7 if qtype == gguf.GGMLQuantizationType.Q8_0 else 1)
        w.add_leading_dense_block_count(b["dense_lead"])
        w.add_q_lora_rank(0)  # no q_lora, as V2-Lite; llama.cpp needs the key at 4 layers (see write_gguf)
        w.add_kv_lora_rank(b["kv_lora"])
        w.add_key_length(b["kv_lora"] + b["rope"])
        w.add_value_length(b["kv_lora"])
        w.add_key_length_mla(b["nope"] + b["rope"])
        w.add_value_length_mla(b["v"])
        w.add_expert_feed_forward_length(b["moe_ff"])
        w.add_expert_count(b["experts"])
        w.add_expert_used_count(b["used"])
        w.add_expert_shared_count(b["shared"])
        w.add_expert_weights_scale(1.0)
        w.add_expert_weights_norm(False)
        w.add_expert_gating_func(gguf.ExpertGatingFuncType.SOFTMAX)
        w.add_rope_dimension_count(b["rope"])
        w.add_tokenizer_model("llama")
        w.add_token_list([bytes(f["tokenizer.ggml.tokens"].parts[i]) for i in f["tokenizer.ggml.tokens"].data])
        w.add_token_scores([float(x) for x in f["tokenizer.ggml.scores"].contents()])
        w.add_token_types([int(x) for x in f["tokenizer.ggml.token_type"].contents()])
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        n_vocab = len(f["tokenizer.ggml.tokens"].data)

        def mat(name, *shape):
            x = (rng.standard_normal(shape, dtype=np.float32) * 0.02)
            if qtype == gguf.GGMLQuantizationType.F16:
                w.add_tensor(name, x.astype(np.float16))
            else:
                w.add_tensor(name, quantize(x, qtype), raw_dtype=qtype)

        ones = lambda n: np.ones(n, dtype=np.float32)
        mat("token_embd.weight", n_vocab, d)
        for l in range(b["layers"]):
            p = f"blk.{l}."
            w.add_tensor(p + "attn_norm.weight", ones(d))
            mat(p + "attn_q.weight", H * (b["nope"] + b["rope"]), d)
            mat(p + "attn_kv_a_mqa.weight", b["kv_lora"] + b["rope"], d)
            w.add_tensor(p + "attn_kv_a_norm.weight", ones(b["kv_lora"]))
            mat(p + "attn_k_b.weight", H, b["kv_lora"], b["nope"])
            mat(p + "attn_v_b.weight", H, b["v"], b["kv_lora"])
            mat(p + "attn_output.weight", d, H * b["v"])
            w.add_tensor(p + "ffn_norm.weight", ones(d))
            if l < b["dense_lead"]:
                mat(p + "ffn_gate.weight", b["ff"], d)
                mat(p + "ffn_up.weight", b["ff"], d)
                mat(p + "ffn_down.weight", d, b["ff"])
                continue
            w.add_tensor(p + "ffn_gate_inp.weight", rng.standard_normal((b["experts"], d), dtype=np.float32) * 0.02)
            mat(p + "ffn_gate_exps.weight", b["experts"], b["moe_ff"], d)
            mat(p + "ffn_up_exps.weight", b["experts"], b["moe_ff"], d)
            mat(p + "ffn_down_exps.weight", b["experts"], d, b["moe_ff"])
            mat(p + "ffn_gate_shexp.weight", b["shared"] * b["moe_ff"], d)
            mat(p + "ffn_up_shexp.weight", b["shared"] * b["moe_ff"], d)
            mat(p + "ffn_down_shexp.weight", d, b["shared"] * b["moe_ff"])
        w.add_tensor("output_norm.weight", ones(d))
        mat("output.weight", n_vocab, d)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        print("wrote", path)

    write(out_dir / "ds-v2-lite-4l.Q8_0.gguf", gguf.GGMLQuantizationType.Q8_0)
    try:
        import llama_cpp
    except ImportError:
        print("llama-cpp-python is not installed: no Q4_K_M file")
        return
    f16 = out_dir / "ds-v2-lite-4l.F16.gguf"
    write(f16, gguf.GGMLQuantizationType.F16)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    q4 = out_dir / "ds-v2-lite-4l.Q4_K_M.gguf"
    rc = llama_cpp.llama_model_quantize(str(f16).encode(), str(q4).encode(), params)
    if rc != 0:
        raise SystemExit(f"llama_model_quantize failed ({rc})")
    f16.unlink()
    print("wrote", q4)


def llamacpp(vendor=None):
    """llama.cpp's logits for the committed GGUFs (run with llama-cpp-python; CI has no llama.cpp, so the
    test reads these numbers): per model <name>/reference_llamacpp.json with, for each file, the logits at
    the stored positions of each sequence evaluated as one prompt batch ("prefill") and one token per
    llama_decode ("decode"), f16 KV cache, no flash attention (llama-cpp-python's defaults), and
    transformers' logits for the weights the file holds (its quantized tensors dequantized, mscale =
    mscale_all_dim as a GGUF states it), the yardstick both runtimes are measured against. Needs torch,
    transformers and gguf as the fixtures stage, and llama-cpp-python, e.g.
      PYTHONPATH=<dir with llama_cpp linked in> /work/venv-torch/bin/python tools/make_deepseek_models.py llamacpp
    The files:
      <name>.F32.gguf, <name>.Q8_0.gguf   (ours: gguf-py's writer and Q8_0 quantizer)
      <name>.llamacpp-Q4_K_M.gguf         (written here by llama_model_quantize from the F32 file; rows of
                                          32 values cannot take K-quants' 256-value blocks, so llama.cpp
                                          falls back to q5_0/q5_1/f16 for them, as it reports)
    llama.cpp reads these files as its own converter would write them except that ds_v2 states
    q_lora_rank = 0 (see write_gguf). With --vendor (llama-cpp-python's vendor/llama.cpp, from its sdist)
    the HF folders also go through llama.cpp's converter, whose tensors must equal our F32 GGUF's."""
    import llama_cpp
    man = json.loads((OUT / "manifest.json").read_text())
    if vendor:
        converter_check(Path(vendor), man)
    defs = {m["name"]: m for m in MODELS}
    for m in man["models"]:
        d = OUT / m["name"]
        q4 = d / f"{m['name']}.llamacpp-Q4_K_M.gguf"
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
        if llama_cpp.llama_model_quantize(str(d / m["gguf"]).encode(), str(q4).encode(), params) != 0:
            raise SystemExit("llama_model_quantize failed")
        # transformers with the YaRN terms a GGUF can state (mscale = mscale_all_dim, as llama.cpp reads it)
        mdef = dict(defs[m["name"]])
        mdef["config"] = dict(mdef["config"])
        rs = dict(mdef["config"]["rope_scaling"])
        rs["mscale"] = rs["mscale_all_dim"]
        mdef["config"]["rope_scaling"] = rs
        cfg, model = build(mdef)
        tensors = checkpoint_tensors(model, cfg)
        files = {}
        for path in (d / m["gguf"], d / m["gguf_q8_0"], q4):
            ref = q8_reference(model, cfg, tensors, file_weights(path), man["sequences"])
            llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_batch=256, logits_all=True, n_threads=2,
                                  verbose=False)
            entry = {"prefill": {}, "decode": {}}
            err = {"prefill": 0.0, "decode": 0.0}
            for n, ids in man["sequences"].items():
                for mode in ("prefill", "decode"):
                    llm.reset()
                    if mode == "prefill":
                        llm.eval(ids)
                    else:
                        for t in ids:
                            llm.eval([t])
                    rows = [[round(float(x), 5) for x in llm.scores[p]] for p in man["positions"][n]]
                    entry[mode][n] = rows
                    err[mode] = max(err[mode], max(abs(a - b) for ra, rb in zip(rows, ref[n]) for a, b in zip(ra, rb)))
            del llm
            entry["transformers"] = {n: [[round(x, 5) for x in r] for r in rows] for n, rows in ref.items()}
            entry["max_abs_llamacpp_vs_transformers"] = {k: round(v, 5) for k, v in err.items()}
            files[path.name] = entry
            print(m["name"], path.name, "llama.cpp vs transformers on the file's weights:", err)
        (d / "reference_llamacpp.json").write_text(json.dumps(
            {"llama_cpp_python": llama_cpp.__version__, "n_ctx": 256, "n_batch": 256, "kv_cache": "f16",
             "flash_attn": False, "files": files}) + "\n")


def file_weights(path):
    """The matrices a GGUF rounds (every non-F32 tensor), dequantized: name -> float32 array."""
    import gguf
    from gguf.quants import dequantize
    out = {}
    for t in gguf.GGUFReader(str(path)).tensors:
        if t.tensor_type == gguf.GGMLQuantizationType.F32:
            continue
        shape = [int(x) for x in reversed(t.shape.tolist())]
        out[t.name] = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(shape)
    return out


def converter_check(vendor, man):
    """The fixtures' HF folders through llama.cpp's own converter (the tiny models have no tokenizer, so its
    set_vocab is replaced by the placeholder vocabulary): its F32 tensors must equal our F32 GGUF's."""
    import sys
    import tempfile
    sys.path[:0] = [str(vendor), str(vendor / "gguf-py")]
    import convert_hf_to_gguf as conv
    import gguf
    from conversion import deepseek
    deepseek.DeepseekV2Model.set_vocab = lambda self: add_minimal_vocab(self.gguf_writer, self.hparams["vocab_size"])
    tmp = Path(tempfile.mkdtemp())
    for m in man["models"]:
        d = OUT / m["name"]
        f32 = tmp / f"{m['name']}.llamacpp.F32.gguf"
        sys.argv = ["convert_hf_to_gguf.py", str(d), "--outfile", str(f32), "--outtype", "f32"]
        conv.main()
        theirs = {t.name: t for t in gguf.GGUFReader(str(f32)).tensors}
        ours = {t.name: t for t in gguf.GGUFReader(str(d / m["gguf"])).tensors}
        same = sorted(set(theirs) & set(ours))
        differ = [n for n in same if theirs[n].data.shape != ours[n].data.shape or
                  not np.array_equal(np.asarray(theirs[n].data), np.asarray(ours[n].data))]
        print(m["name"], "tensors: converter only", sorted(set(theirs) - set(ours)), "ours only",
              sorted(set(ours) - set(theirs)), "differ", differ)


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", nargs="?", default="fixtures", choices=["fixtures", "llamacpp", "bench"])
    ap.add_argument("--vendor", help="llamacpp: also check llama.cpp's converter (llama-cpp-python's sdist "
                                     "vendor/llama.cpp) against our F32 GGUFs")
    ap.add_argument("--out", default="/work/bench-models", help="bench: where the GGUFs go (not the repository)")
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    a = ap.parse_args()
    if a.stage == "bench":
        bench(a.out, a.data_dir)
    elif a.stage == "llamacpp":
        llamacpp(a.vendor)
    else:
        fixtures()


def fixtures():
    from safetensors.torch import save_file
    seqs = sequences()
    man = {"sequences": seqs, "positions": {n: stored_positions(len(s)) for n, s in seqs.items()}, "models": []}
    for m in MODELS:
        cfg, model = build(m)
        d = OUT / m["name"]
        d.mkdir(parents=True, exist_ok=True)
        tensors = checkpoint_tensors(model, cfg)
        save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})
        (d / "config.json").write_text(json.dumps(cfg, indent=1) + "\n")
        (d / "reference_hf.json").write_text(json.dumps({"logits": reference(model, seqs)}))
        gguf_name = f"{m['name']}.F32.gguf"
        write_gguf(cfg, tensors, d / gguf_name, split_kv_b=m["split_kv_b"])
        rounded = write_gguf(cfg, tensors, d / f"{m['name']}.Q8_0.gguf", split_kv_b=m["split_kv_b"], q8=True)
        (d / "reference_hf_q8_0.json").write_text(json.dumps({"logits": q8_reference(model, cfg, tensors, rounded, seqs)}))
        entry = {"name": m["name"], "gguf": gguf_name, "gguf_q8_0": f"{m['name']}.Q8_0.gguf", "split_kv_b": m["split_kv_b"], "layers": cfg["num_hidden_layers"], "q_lora_rank": cfg["q_lora_rank"] or 0,
                 "kv_lora_rank": cfg["kv_lora_rank"], "qk_rope_head_dim": cfg["qk_rope_head_dim"]}
        if m["fp8"]:
            # Matrices of the attention and the experts in fp8 (as DeepSeek-V3 ships them); embeddings,
            # norms, the router and the output head stay as they are.
            fp8 = {}
            sd = {}
            for k, v in tensors.items():
                quantize = v.dim() == 2 and ("self_attn" in k or "mlp." in k) and not k.endswith("mlp.gate.weight")
                if quantize:
                    q, s = fp8_blocks(v)
                    fp8[k] = q
                    fp8[k + "_scale_inv"] = s
                    sd[k] = dequant(q, s)
                else:
                    fp8[k] = v
                    sd[k] = v
            dq = OUT / (m["name"] + "_fp8")
            dq.mkdir(parents=True, exist_ok=True)
            save_file(fp8, str(dq / "model.safetensors"), metadata={"format": "pt"})
            fcfg = dict(cfg)
            fcfg["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                                           "weight_block_size": [128, 128]}
            (dq / "config.json").write_text(json.dumps(fcfg, indent=1) + "\n")
            # The model with the dequantized weights loaded back (experts restacked as transformers keeps them).
            ff = cfg["moe_intermediate_size"]
            state = model.state_dict()
            with torch.no_grad():
                for k in state:
                    if k.endswith("mlp.experts.gate_up_proj"):
                        base = k[: -len("gate_up_proj")]
                        for e in range(state[k].shape[0]):
                            state[k][e, :ff] = sd[f"{base}{e}.gate_proj.weight"]
                            state[k][e, ff:] = sd[f"{base}{e}.up_proj.weight"]
                    elif k.endswith("mlp.experts.down_proj"):
                        base = k[: -len("down_proj")]
                        for e in range(state[k].shape[0]):
                            state[k][e] = sd[f"{base}{e}.down_proj.weight"]
                    elif k in sd:
                        state[k].copy_(sd[k])
            (dq / "reference_hf.json").write_text(json.dumps({"logits": reference(model, seqs)}))
            entry["fp8"] = m["name"] + "_fp8"
        man["models"].append(entry)
        print(m["name"], "done")
    (OUT / "manifest.json").write_text(json.dumps(man) + "\n")


if __name__ == "__main__":
    main()
