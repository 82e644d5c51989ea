#!/usr/bin/env python3
"""Tiny random DeepSeek-V3- and V2-style models with reference logits (tests/fixtures/tiny_deepseek/).

    /work/venv-torch/bin/python tools/make_deepseek_models.py

needs torch, transformers >= 5 (DeepseekV2ForCausalLM / DeepseekV3ForCausalLM are in the library, no
remote code) and safetensors. For each model it writes:

  <name>/config.json          the model's config, in the published checkpoints' field names
  <name>/model.safetensors    F32 weights in the published checkpoints' tensor names (one tensor per
                              expert: mlp.experts.E.{gate,up,down}_proj; transformers itself stacks them)
  <name>/reference_hf.json    transformers' float32 logits at the stored positions of each sequence
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
                      "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.8}), fp8=True, seed=11),
    dict(name="ds_v2", cls="DeepseekV2ForCausalLM", config=dict(
        COMMON, model_type="deepseek_v2", num_hidden_layers=2, q_lora_rank=None, scoring_func="softmax",
        topk_method="group_limited_greedy", norm_topk_prob=False, routed_scaling_factor=2.0,
        rope_scaling={"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128, "beta_fast": 32,
                      "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707}), fp8=False, seed=12),
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


def main():
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
        entry = {"name": m["name"], "layers": cfg["num_hidden_layers"], "q_lora_rank": cfg["q_lora_rank"] or 0,
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
