#!/usr/bin/env python3
"""Tiny random llama / qwen2 / qwen3 models with reference logits (tests/fixtures/tiny_models/).

Three stages, because torch lives in one venv and the AVX2 llama.cpp build in another:

  /work/venv/bin/python      tools/make_tiny_models.py hf        # HF models, safetensors, F32 GGUF, HF logits
  /work/venv-avx2/bin/python tools/make_tiny_models.py llamacpp  # quantized GGUFs + llama.cpp logits/errors
  /work/venv-avx2/bin/python tools/make_tiny_models.py bench --bench-dir /work/bench-models
                                                                 # DeepSeek-R1-Distill-Qwen-1.5B-shaped random GGUFs

See tools/README.md ("make_tiny_models.py") for what the files hold.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "tiny_models"
SCRATCH = Path(os.environ.get("TINY_SCRATCH", "/tmp/dianoia_tiny_models"))

VOCAB = 128
SEQ_LENS = [1, 7, 64, 300]
MAX_POS = 512

# name, HF architecture, shape, rope parameters, which GGUF types to make and commit.
MODELS = [
    dict(name="llama_gqa", arch="llama", hidden=64, layers=2, heads=4, kv=2, ff=96, tie=False,
         rope={"rope_type": "default"}, quants=["F16", "Q8_0", "Q4_0"], safetensors=True),
    dict(name="llama_mqa_tied", arch="llama", hidden=64, layers=2, heads=4, kv=1, ff=96, tie=True,
         rope={"rope_type": "default"}, quants=[], safetensors=True),
    dict(name="llama_linear", arch="llama", hidden=64, layers=2, heads=2, kv=1, head_dim=32, ff=96, tie=False,
         rope={"rope_type": "linear", "factor": 4.0}, quants=[]),
    dict(name="llama_llama3", arch="llama", hidden=64, layers=2, heads=2, kv=1, head_dim=32, ff=96, tie=False,
         rope={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 32}, quants=[]),
    dict(name="llama_yarn", arch="llama", hidden=64, layers=2, heads=2, kv=1, head_dim=32, ff=96, tie=False,
         rope={"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 64}, quants=[]),
    dict(name="qwen2_bias", arch="qwen2", hidden=64, layers=2, heads=4, kv=2, ff=96, tie=False,
         rope={"rope_type": "default"}, quants=["F16", "Q8_0", "Q4_0"], safetensors=True),
    dict(name="qwen2_mqa_tied", arch="qwen2", hidden=64, layers=3, heads=2, kv=1, ff=64, tie=True,
         rope={"rope_type": "default"}, quants=[]),
    # head_dim 32 with 4 heads: the query width (128) differs from the hidden size (64), as in Qwen3.
    dict(name="qwen3_qknorm", arch="qwen3", hidden=64, layers=2, heads=4, kv=2, head_dim=32, ff=96, tie=True,
         rope={"rope_type": "default"}, quants=["F16", "Q8_0", "Q4_0"], safetensors=True),
    # K-quants need rows that are multiples of 256: hidden 256, ff 256. Only the Q4_K_M file is committed.
    dict(name="qwen2_q4k", arch="qwen2", hidden=256, layers=2, heads=4, kv=2, ff=256, tie=False,
         rope={"rope_type": "default"}, quants=["Q4_K_M"], commit_f32=False),
]

FTYPES = {"F16": 1, "Q8_0": 7, "Q4_0": 2, "Q4_K_M": 15}


def sequences():
    rng = np.random.default_rng(1234)
    return {str(n): rng.integers(0, VOCAB, size=n).tolist() for n in SEQ_LENS}


def stored_positions(n):
    """Every 37th position and the last one: enough to see drift without storing 300 rows."""
    return sorted(set(range(0, n, 37)) | {n - 1})


def model_dir(m):
    return OUT / m["name"]


def f32_gguf_path(m):
    base = model_dir(m) if m.get("commit_f32", True) else SCRATCH / m["name"]
    return base / f"{m['name']}.F32.gguf"


# ---------------------------------------------------------------------------------------------- stage hf


def write_manifest(man):
    """Indented for reading, with the token sequences kept on one line each."""
    text = json.dumps({k: v for k, v in man.items() if k != "sequences"}, indent=1)
    seqs = ",\n".join(f' "{k}": {json.dumps(v)}' for k, v in man["sequences"].items())
    (OUT / "manifest.json").write_text('{\n "sequences": {\n' + seqs + '\n },' + text[1:])


def hf_config(m):
    import transformers as tf
    cls = {"llama": tf.LlamaConfig, "qwen2": tf.Qwen2Config, "qwen3": tf.Qwen3Config}[m["arch"]]
    rope = dict(m["rope"])
    rope["rope_theta"] = 10000.0
    kw = dict(vocab_size=VOCAB, hidden_size=m["hidden"], intermediate_size=m["ff"], num_hidden_layers=m["layers"],
              num_attention_heads=m["heads"], num_key_value_heads=m["kv"], max_position_embeddings=MAX_POS,
              rms_norm_eps=1e-6, tie_word_embeddings=m["tie"], rope_parameters=rope, bos_token_id=1, eos_token_id=2,
              pad_token_id=None)
    if "head_dim" in m:
        kw["head_dim"] = m["head_dim"]
    if m["arch"] == "qwen2":
        kw["use_sliding_window"] = False
    if m["arch"] == "llama":
        kw["attention_bias"] = False
    cfg = cls(**kw)
    cfg.torch_dtype = "float32"
    return cfg


def randomize(model, seed, tied):
    """HF's default init (std 0.02, unit norms, zero biases) gives near-uniform attention and logits near 0;
    larger random weights make every feature (norm weights, biases, rope) change the logits visibly. A tied
    embedding is also the output head: std 0.3 keeps those logits near the untied models' scale (std ~2)
    instead of ~8, so that the 1e-4 F32 bound means the same relative precision for every model."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g) * (0.3 if tied else 1.0))
            else:
                fan_in = p.shape[1]
                p.copy_(torch.randn(p.shape, generator=g) * (1.5 / math.sqrt(fan_in)))


def permute_qk(w, n_head):
    """llama.cpp's converter reorders llama's q/k rows so that RoPE rotates adjacent pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama3_rope_factors(m, head_dim):
    r = m["rope"]
    base, factor = 10000.0, r["factor"]
    low_wl = r["original_max_position_embeddings"] / r["low_freq_factor"]
    high_wl = r["original_max_position_embeddings"] / r["high_freq_factor"]
    freqs = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float32) / head_dim))
    out = []
    for f in freqs:
        wl = 2 * math.pi / f
        if wl < high_wl:
            out.append(1.0)
        elif wl > low_wl:
            out.append(factor)
        else:
            smooth = (r["original_max_position_embeddings"] / wl - r["low_freq_factor"]) / (
                r["high_freq_factor"] - r["low_freq_factor"])
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def add_minimal_vocab(w, n_vocab):
    """A SentencePiece-style vocab of placeholder pieces: enough for llama.cpp (and dianoia) to load."""
    import gguf
    toks = ["<unk>", "<s>", "</s>"] + [f"\u2581t{i}" for i in range(3, n_vocab)]
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores([0.0] * 3 + [-float(i) for i in range(3, n_vocab)])
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.NORMAL] * (n_vocab - 3)
    w.add_token_types([int(t) for t in types])
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)


def write_gguf(m, state, path, head_dim):
    """Our own HF -> GGUF conversion (llama.cpp's names and metadata keys), F32 throughout."""
    import gguf
    path.parent.mkdir(parents=True, exist_ok=True)
    arch = m["arch"]
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name(m["name"])
    w.add_context_length(MAX_POS)
    w.add_embedding_length(m["hidden"])
    w.add_block_count(m["layers"])
    w.add_feed_forward_length(m["ff"])
    w.add_head_count(m["heads"])
    w.add_head_count_kv(m["kv"])
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(0)
    w.add_vocab_size(VOCAB)
    if head_dim != m["hidden"] // m["heads"] or arch == "qwen3":
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    r = m["rope"]
    if r["rope_type"] == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(r["factor"])
    elif r["rope_type"] == "yarn":
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(r["factor"])
        w.add_rope_scaling_orig_ctx_len(r["original_max_position_embeddings"])
    add_minimal_vocab(w, VOCAB)

    def t(name, arr):
        w.add_tensor(name, np.ascontiguousarray(arr, dtype=np.float32))

    t("token_embd.weight", state["model.embed_tokens.weight"])
    if r["rope_type"] == "llama3":
        t("rope_freqs.weight", llama3_rope_factors(m, head_dim))
    for i in range(m["layers"]):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        q, k = state[p + "self_attn.q_proj.weight"], state[p + "self_attn.k_proj.weight"]
        if arch == "llama":
            q, k = permute_qk(q, m["heads"]), permute_qk(k, m["kv"])
        t(b + "attn_norm.weight", state[p + "input_layernorm.weight"])
        t(b + "attn_q.weight", q)
        t(b + "attn_k.weight", k)
        t(b + "attn_v.weight", state[p + "self_attn.v_proj.weight"])
        if arch == "qwen2":
            for x in "qkv":
                t(b + f"attn_{x}.bias", state[p + f"self_attn.{x}_proj.bias"])
        if arch == "qwen3":
            t(b + "attn_q_norm.weight", state[p + "self_attn.q_norm.weight"])
            t(b + "attn_k_norm.weight", state[p + "self_attn.k_norm.weight"])
        t(b + "attn_output.weight", state[p + "self_attn.o_proj.weight"])
        t(b + "ffn_norm.weight", state[p + "post_attention_layernorm.weight"])
        t(b + "ffn_gate.weight", state[p + "mlp.gate_proj.weight"])
        t(b + "ffn_up.weight", state[p + "mlp.up_proj.weight"])
        t(b + "ffn_down.weight", state[p + "mlp.down_proj.weight"])
    t("output_norm.weight", state["model.norm.weight"])
    if not m["tie"]:
        t("output.weight", state["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def stage_hf():
    import torch
    import transformers as tf
    torch.set_num_threads(2)
    seqs = sequences()
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = {"vocab": VOCAB, "sequences": seqs, "positions": {k: stored_positions(len(v)) for k, v in seqs.items()},
                "transformers_version": tf.__version__, "torch_version": torch.__version__, "models": []}
    for idx, m in enumerate(MODELS):
        cfg = hf_config(m)
        cls = {"llama": tf.LlamaForCausalLM, "qwen2": tf.Qwen2ForCausalLM, "qwen3": tf.Qwen3ForCausalLM}[m["arch"]]
        torch.manual_seed(100 + idx)
        model = cls(cfg).float().eval()
        randomize(model, 1000 + idx, m["tie"])
        if m["tie"]:
            model.tie_weights()
        d = model_dir(m)
        d.mkdir(parents=True, exist_ok=True)
        if m.get("safetensors"):  # for the safetensors loader's tests; the others keep only config.json
            model.save_pretrained(d, safe_serialization=True)
            (d / "generation_config.json").unlink(missing_ok=True)
        elif m.get("commit_f32", True):
            cfg.save_pretrained(d)
        state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
        head_dim = m.get("head_dim", m["hidden"] // m["heads"])
        write_gguf(m, state, f32_gguf_path(m), head_dim)
        ref = {}
        with torch.no_grad():
            for n, ids in seqs.items():
                logits = model(torch.tensor([ids])).logits[0].numpy().astype(np.float32)
                ref[n] = [[float(x) for x in logits[p]] for p in manifest["positions"][n]]
        (d / "reference_hf.json").write_text(json.dumps({"name": m["name"], "logits": ref}))
        entry = {k: v for k, v in m.items() if k not in ("quants", "safetensors")}
        entry["head_dim"] = head_dim
        entry["gguf"] = ([{"type": "F32", "file": f32_gguf_path(m).name}] if m.get("commit_f32", True) else []) + [
            {"type": q, "file": f"{m['name']}.{q}.gguf"} for q in m["quants"]]
        manifest["models"].append(entry)
        print(f"{m['name']}: {sum(p.numel() for p in model.parameters())} parameters", flush=True)
    write_manifest(manifest)


# ---------------------------------------------------------------------------------------- stage llamacpp


def quantize(src, dst, ftype):
    import llama_cpp
    p = llama_cpp.llama_model_quantize_default_params()
    p.ftype = ftype
    p.nthread = 2
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), p)
    if rc != 0:
        sys.exit(f"quantize {src} -> {dst} failed ({rc})")


def llamacpp_logits(path, ids, n_batch=MAX_POS):
    """n_batch MAX_POS: the prompt as one batch; 1: one token per llama_decode (the decode path)."""
    import llama_cpp
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=MAX_POS, n_batch=n_batch, n_ubatch=n_batch, n_threads=2,
                          n_threads_batch=2, logits_all=True, flash_attn=True, verbose=False)
    llm.eval(ids)
    out = np.array(llm.scores[: len(ids)], dtype=np.float32)
    del llm
    return out


def stage_llamacpp():
    import llama_cpp
    man = json.loads((OUT / "manifest.json").read_text())
    man["llama_cpp_python_version"] = llama_cpp.__version__
    man["llama_cpp_system_info"] = llama_cpp.llama_print_system_info().decode()
    for m in man["models"]:
        d = OUT / m["name"]
        ref = json.loads((d / "reference_hf.json").read_text())["logits"]
        src = f32_gguf_path(m)
        for g in m["gguf"]:
            path = d / g["file"]
            if g["type"] != "F32":
                quantize(src, path, FTYPES[g["type"]])
            res = {"max_abs_err_vs_hf": {}, "logits": {}}
            for n, ids in man["sequences"].items():
                lg = llamacpp_logits(path, ids)
                pos = man["positions"][n]
                sub = lg[pos]
                res["max_abs_err_vs_hf"][n] = float(np.max(np.abs(sub - np.array(ref[n], dtype=np.float32))))
                res["logits"][n] = [[round(float(x), 5) for x in row] for row in sub]
            # The 64-token sequence once more, one token per call: llama.cpp's decode kernels.
            lg = llamacpp_logits(path, man["sequences"]["64"], n_batch=1)
            pos = man["positions"]["64"]
            res["max_abs_err_vs_hf"]["64_steps"] = float(np.max(np.abs(lg[pos] - np.array(ref["64"], dtype=np.float32))))
            g["llama_cpp"] = res
            g["bytes"] = path.stat().st_size
            print(f"{g['file']}: llama.cpp max |err| vs transformers {res['max_abs_err_vs_hf']}", flush=True)
    write_manifest(man)
    for m in man["models"]:  # one reference file per model keeps the manifest readable
        d = OUT / m["name"]
        lc = {g["file"]: g.pop("llama_cpp") for g in m["gguf"]}
        (d / "reference_llamacpp.json").write_text(json.dumps(lc))
        for g in m["gguf"]:
            g["llama_cpp_max_abs_err_vs_hf"] = lc[g["file"]]["max_abs_err_vs_hf"]
    write_manifest(man)


# ------------------------------------------------------------------------------------------- stage bench


def stage_bench(bench_dir: Path):
    """Random weights in DeepSeek-R1-Distill-Qwen-1.5B's shapes (qwen2), Qwen's BPE vocab, then
    llama.cpp's own quantizer for Q8_0 and Q4_K_M. Written tensor by tensor to bound memory."""
    import gguf
    cfg = json.loads((Path("/work/shared/data/configs/DeepSeek-R1-Distill-Qwen-1.5B") /
                      "config.modified-copy.json").read_text())
    tok = json.loads(Path("/work/shared/data/tokenizers/qwen3/tokenizer.json").read_text())
    template = Path("/work/shared/data/chat_templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja").read_text()
    bench_dir.mkdir(parents=True, exist_ok=True)
    f16 = bench_dir / "r1-distill-qwen-1.5b-random.F16.gguf"
    d, ff, nl = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    nh, nkv, nv = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["vocab_size"]
    hd = d // nh
    w = gguf.GGUFWriter(str(f16), "qwen2")
    w.add_name("DeepSeek-R1-Distill-Qwen-1.5B shape, random weights")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(d)
    w.add_block_count(nl)
    w.add_feed_forward_length(ff)
    w.add_head_count(nh)
    w.add_head_count_kv(nkv)
    w.add_rope_freq_base(float(cfg["rope_theta"]))
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_file_type(1)
    # Qwen2 BPE: vocab and merges of tokenizer.json, added tokens at their ids, padding to vocab_size.
    toks = [f"[PAD{i}]" for i in range(nv)]
    types = [int(gguf.TokenType.UNUSED)] * nv
    for t, i in tok["model"]["vocab"].items():
        toks[i], types[i] = t, int(gguf.TokenType.NORMAL)
    for a in tok["added_tokens"]:
        toks[a["id"]], types[a["id"]] = a["content"], int(gguf.TokenType.CONTROL if a["special"] else gguf.TokenType.USER_DEFINED)
    merges = [" ".join(x) if isinstance(x, list) else x for x in tok["model"]["merges"]]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(toks)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(cfg["bos_token_id"])
    w.add_eos_token_id(cfg["eos_token_id"])
    w.add_add_bos_token(False)
    w.add_chat_template(template)
    rng = np.random.default_rng(7)

    shapes = [("token_embd.weight", (nv, d))]
    for i in range(nl):
        b = f"blk.{i}."
        shapes += [(b + "attn_norm.weight", (d,)), (b + "attn_q.weight", (d, d)), (b + "attn_q.bias", (d,)),
                   (b + "attn_k.weight", (nkv * hd, d)), (b + "attn_k.bias", (nkv * hd,)),
                   (b + "attn_v.weight", (nkv * hd, d)), (b + "attn_v.bias", (nkv * hd,)),
                   (b + "attn_output.weight", (d, d)), (b + "ffn_norm.weight", (d,)),
                   (b + "ffn_gate.weight", (ff, d)), (b + "ffn_up.weight", (ff, d)), (b + "ffn_down.weight", (d, ff))]
    shapes += [("output_norm.weight", (d,)), ("output.weight", (nv, d))]

    def make(name, shape):
        if len(shape) == 1:
            base = 1.0 if "norm" in name else 0.0
            return (base + 0.1 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
        return (rng.standard_normal(shape, dtype=np.float32) * (1.0 / math.sqrt(shape[1]))).astype(np.float16)

    for name, shape in shapes:
        dt = np.float32 if len(shape) == 1 else np.float16
        w.add_tensor_info(name, shape, np.dtype(dt), int(np.prod(shape)) * np.dtype(dt).itemsize)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for name, shape in shapes:
        w.write_tensor_data(make(name, shape))
    w.close()
    for q, ft in (("Q8_0", 7), ("Q4_K_M", 15)):
        out = bench_dir / f"r1-distill-qwen-1.5b-random.{q}.gguf"
        quantize(f16, out, ft)
        print(f"{out}: {out.stat().st_size} bytes", flush=True)
    f16.unlink()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=["hf", "llamacpp", "bench"])
    ap.add_argument("--bench-dir", default="/work/bench-models")
    a = ap.parse_args()
    if a.stage == "hf":
        stage_hf()
    elif a.stage == "llamacpp":
        stage_llamacpp()
    else:
        stage_bench(Path(a.bench_dir))


if __name__ == "__main__":
    main()
