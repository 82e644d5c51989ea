#!/usr/bin/env python3
"""Fixtures for dianoia's file-format tests, written with the official writers (the `gguf` and
`safetensors` packages from PyPI), so that our readers are checked against files the ecosystem makes.

Writes into tests/fixtures/:
  roundtrip/all_types.gguf            every GGUF metadata value type (nested arrays included) and a tensor
                                      of every ggml type the gguf package knows except Q8_1 (see README)
  roundtrip/all_types.v2.gguf         the same bytes with the version field set to 2 (v2 and v3 share
                                      the little-endian layout)
  roundtrip/all_types_split-0000k-of-0000n.gguf   the same content split by the gguf writer
  roundtrip/all_dtypes.safetensors    a tensor of every safetensors dtype + __metadata__
  roundtrip/manifest.json             what every file must contain: each metadata value (typed) and
                                      every tensor's type, shape and bytes (hex)
  roundtrip/tiny_llama.gguf           a random 2-layer llama (F16 matrices, F32 norms) with stories260K's
  roundtrip/tiny_llama-0000k-of-00003.gguf    tokenizer, also as 3 splits
  roundtrip/tiny_llama_hf/            the same model as a sharded Hugging Face folder: 2 shards + index,
                                      q/k rows in HF's layout, norms in BF16 (values exactly representable)
  stories260K_hf/                     stories260K as a Hugging Face folder: config.json +
                                      model.safetensors (F32, q/k un-permuted to HF's layout)

The stories260K_hf weights are checked here with an independent numpy forward pass in Hugging Face's
convention (rotate_half RoPE) against llama2.c's logits in the shared reference_outputs.json.

Usage: /work/venv/bin/python tools/make_roundtrip_fixtures.py [--data-dir ../shared/data]
"""
import argparse
import json
import os
import struct
from importlib.metadata import version
from pathlib import Path

import gguf
import numpy as np
from safetensors import TensorSpec, serialize_file
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
RNG = np.random.default_rng(20261128)
VT = gguf.GGUFValueType


def hexb(b):
    return bytes(b).hex()


# ---------------------------------------------------------------------------------------------------
# GGUF: every metadata type and every tensor type
# ---------------------------------------------------------------------------------------------------

# (key, gguf value type, value, sub type for arrays). Floats are exactly representable in f32 so that
# a C++ reader can compare them exactly.
METADATA = [
    ("t.u8", VT.UINT8, 200),
    ("t.i8", VT.INT8, -100),
    ("t.u16", VT.UINT16, 60000),
    ("t.i16", VT.INT16, -30000),
    ("t.u32", VT.UINT32, 4000000000),
    ("t.i32", VT.INT32, -2000000000),
    ("t.f32", VT.FLOAT32, -1.5),
    ("t.bool_true", VT.BOOL, True),
    ("t.bool_false", VT.BOOL, False),
    ("t.string", VT.STRING, "héllo wörld ✓"),
    ("t.string_empty", VT.STRING, ""),
    ("t.u64", VT.UINT64, 18000000000000000000),
    ("t.i64", VT.INT64, -9000000000000000000),
    ("t.f64", VT.FLOAT64, 3.141592653589793),
]
ARRAYS = [
    ("a.u8", VT.UINT8, [0, 1, 255]),
    ("a.i8", VT.INT8, [-128, 0, 127]),
    ("a.u16", VT.UINT16, [0, 65535]),
    ("a.i16", VT.INT16, [-32768, 32767]),
    ("a.u32", VT.UINT32, [0, 4294967295]),
    ("a.i32", VT.INT32, [-2147483648, 2147483647]),
    ("a.f32", VT.FLOAT32, [0.5, -2.0, 1024.25]),
    ("a.bool", VT.BOOL, [True, False, True]),
    ("a.string", VT.STRING, ["a", "", "ü€😀"]),
    ("a.u64", VT.UINT64, [0, 18446744073709551615]),
    ("a.i64", VT.INT64, [-9223372036854775808, 9223372036854775807]),
    ("a.f64", VT.FLOAT64, [1e-300, -2.5]),
]
NESTED_KEY = "a.nested"
NESTED = [[1, 2, 3], [4]]  # array of arrays of i32 (the writer refuses empty arrays)
NESTED2_KEY = "a.nested_strings"
NESTED2 = [["x", "yz"], ["ü"]]

VT_NAME = {VT.UINT8: "u8", VT.INT8: "i8", VT.UINT16: "u16", VT.INT16: "i16", VT.UINT32: "u32", VT.INT32: "i32",
           VT.FLOAT32: "f32", VT.BOOL: "bool", VT.STRING: "string", VT.ARRAY: "array", VT.UINT64: "u64",
           VT.INT64: "i64", VT.FLOAT64: "f64"}


def tensor_types():
    out = []
    for t in gguf.GGMLQuantizationType:
        if t == gguf.GGMLQuantizationType.Q8_1:
            continue  # gguf-py says 40-byte blocks, ggml's C struct is 36: never written to files anyway
        out.append(t)
    return out


def add_metadata(w):
    for key, vt, val in METADATA:
        w.add_key_value(key, val, vt)
    for key, vt, val in ARRAYS:
        w.add_key_value(key, val, VT.ARRAY, sub_type=vt)
    w.add_key_value(NESTED_KEY, NESTED, VT.ARRAY, sub_type=VT.ARRAY)
    w.add_key_value(NESTED2_KEY, NESTED2, VT.ARRAY, sub_type=VT.ARRAY)


def gguf_tensors():
    """name -> (ggml type, ne list (ggml order), raw bytes)."""
    out = {}
    for t in tensor_types():
        blk, size = gguf.GGML_QUANT_SIZES[t]
        rows = 2
        ne0 = 8 if blk == 1 else blk
        nbytes = rows * (ne0 // blk) * size
        raw = RNG.integers(0, 256, size=nbytes, dtype=np.uint8)
        out["tensor_" + t.name.lower()] = (t, [ne0, rows], raw)
    # A 3-D and a 4-D tensor, to check the shape order.
    out["f32_3d"] = (gguf.GGMLQuantizationType.F32, [4, 3, 2], RNG.standard_normal(24).astype(np.float32).view(np.uint8))
    out["f16_4d"] = (gguf.GGMLQuantizationType.F16, [2, 2, 3, 2], RNG.standard_normal(24).astype(np.float16).view(np.uint8))
    return out


def write_gguf(path, tensors, split_max_tensors=0):
    w = gguf.GGUFWriter(path, "roundtrip", split_max_tensors=split_max_tensors)
    add_metadata(w)
    # gguf-py writes general.alignment into the first split only but pads every split with it, so that
    # its own reader misreads the later splits: splits keep the default alignment (32).
    if not split_max_tensors:
        w.add_custom_alignment(64)
    for name, (t, ne, raw) in tensors.items():
        blk, size = gguf.GGML_QUANT_SIZES[t]
        # The writer takes the byte shape (numpy order) of quantized data, the element shape of plain data.
        byte_shape = list(reversed(ne))
        byte_shape[-1] = ne[0] // blk * size
        w.add_tensor(name, np.ascontiguousarray(raw).reshape(byte_shape), raw_dtype=t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def metadata_manifest():
    md = []
    md.append({"key": "general.architecture", "type": "string", "value": "roundtrip"})
    for key, vt, val in METADATA:
        md.append({"key": key, "type": VT_NAME[vt], "value": val if vt != VT.UINT64 and vt != VT.INT64 else str(val)})
    for key, vt, val in ARRAYS:
        v = [str(x) for x in val] if vt in (VT.UINT64, VT.INT64) else val
        md.append({"key": key, "type": "array", "elem": VT_NAME[vt], "value": v})
    md.append({"key": NESTED_KEY, "type": "array", "elem": "array", "inner": "i32", "value": NESTED})
    md.append({"key": NESTED2_KEY, "type": "array", "elem": "array", "inner": "string", "value": NESTED2})
    md.append({"key": "general.alignment", "type": "u32", "value": 64})
    return md


# ---------------------------------------------------------------------------------------------------
# safetensors: every dtype
# ---------------------------------------------------------------------------------------------------

def safetensors_all_dtypes(path):
    specs, keep, manifest = {}, [], []
    plain = [("bool", np.bool_, "BOOL"), ("uint8", np.uint8, "U8"), ("int8", np.int8, "I8"),
             ("int16", np.int16, "I16"), ("uint16", np.uint16, "U16"), ("float16", np.float16, "F16"),
             ("int32", np.int32, "I32"), ("uint32", np.uint32, "U32"), ("float32", np.float32, "F32"),
             ("float64", np.float64, "F64"), ("int64", np.int64, "I64"), ("uint64", np.uint64, "U64")]
    for st_name, npt, dt in plain:
        if npt == np.bool_:
            a = RNG.integers(0, 2, size=(3, 5)).astype(np.bool_)
        elif np.issubdtype(npt, np.integer):
            info = np.iinfo(npt)
            a = RNG.integers(info.min, info.max, size=(3, 5), dtype=npt, endpoint=True)
        else:
            a = RNG.standard_normal((3, 5)).astype(npt)
        keep.append(a)
        specs["t_" + dt.lower()] = TensorSpec(dtype=st_name, shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes)
        manifest.append({"name": "t_" + dt.lower(), "dtype": dt, "shape": list(a.shape), "hex": hexb(a.tobytes())})
    # dtypes numpy lacks: raw bytes through the writer's dtype names.
    for st_name, dt, shape, esize in [("bfloat16", "BF16", [4, 3], 2), ("float8_e4m3fn", "F8_E4M3", [2, 8], 1),
                                      ("float8_e5m2", "F8_E5M2", [6], 1)]:
        a = RNG.integers(0, 256, size=int(np.prod(shape)) * esize, dtype=np.uint8)
        keep.append(a)
        specs["t_" + dt.lower()] = TensorSpec(dtype=st_name, shape=shape, data_ptr=a.ctypes.data, data_len=a.nbytes)
        manifest.append({"name": "t_" + dt.lower(), "dtype": dt, "shape": shape, "hex": hexb(a.tobytes())})
    # A scalar, an empty tensor and a 4-D one.
    for name, a in [("scalar_f32", np.array(2.5, dtype=np.float32)), ("empty_f32", np.zeros((0, 4), dtype=np.float32)),
                    ("f32_4d", RNG.standard_normal((2, 1, 3, 2)).astype(np.float32))]:
        keep.append(a)
        specs[name] = TensorSpec(dtype="float32", shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes)
        manifest.append({"name": name, "dtype": "F32", "shape": list(a.shape), "hex": hexb(a.tobytes())})
    meta = {"format": "pt", "note": "round trip ✓"}
    serialize_file(specs, str(path), metadata=meta)
    return {"metadata": meta, "tensors": manifest}


# ---------------------------------------------------------------------------------------------------
# Llama models as GGUF and as Hugging Face folders
# ---------------------------------------------------------------------------------------------------

def unpermute(w, n_head):
    """Inverse of convert_hf_to_gguf's permute: GGUF adjacent-pair rows -> HF rotate-halves rows."""
    rows = w.shape[0]
    hd = rows // n_head
    return w.reshape(n_head, hd // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


HF_OF = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
         "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
         "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}


def hf_name(gname):
    if gname == "token_embd.weight":
        return "model.embed_tokens.weight"
    if gname == "output_norm.weight":
        return "model.norm.weight"
    if gname == "output.weight":
        return "lm_head.weight"
    _, layer, part, suffix = gname.split(".")
    return f"model.layers.{layer}.{HF_OF[part]}.{suffix}"


def to_hf(tensors, n_head, n_head_kv):
    out = {}
    for name, a in tensors.items():
        if ".attn_q." in name:
            a = unpermute(a, n_head)
        elif ".attn_k." in name:
            a = unpermute(a, n_head_kv)
        out[hf_name(name)] = np.ascontiguousarray(a)
    return out


def llama_config(n_vocab, n_embd, n_ff, n_layer, n_head, n_head_kv, n_ctx, eps, tied):
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": n_vocab,
            "hidden_size": n_embd, "intermediate_size": n_ff, "num_hidden_layers": n_layer,
            "num_attention_heads": n_head, "num_key_value_heads": n_head_kv, "max_position_embeddings": n_ctx,
            "rms_norm_eps": eps, "rope_theta": 10000.0, "tie_word_embeddings": tied, "hidden_act": "silu",
            "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}


def hf_forward(w, cfg, ids):
    """Hugging Face LlamaForCausalLM arithmetic in float64 (rotate_half RoPE)."""
    d, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, eps = d // nh, cfg["rms_norm_eps"]
    W = {k: v.astype(np.float64) for k, v in w.items()}
    x = W["model.embed_tokens.weight"][ids]
    T = len(ids)
    inv = 1.0 / (10000.0 ** (np.arange(0, hd, 2) / hd))
    ang = np.outer(np.arange(T), inv)
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))

    def rms(v, g):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + eps) * g

    def rope(q):  # q [T, heads, hd]
        half = np.concatenate([-q[..., hd // 2:], q[..., :hd // 2]], -1)
        return q * cos[:, None] + half * sin[:, None]

    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, W[p + "input_layernorm.weight"])
        q = rope((h @ W[p + "self_attn.q_proj.weight"].T).reshape(T, nh, hd))
        k = rope((h @ W[p + "self_attn.k_proj.weight"].T).reshape(T, nkv, hd))
        v = (h @ W[p + "self_attn.v_proj.weight"].T).reshape(T, nkv, hd)
        k, v = np.repeat(k, nh // nkv, 1), np.repeat(v, nh // nkv, 1)
        s = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd)
        s = s + np.triu(np.full((T, T), -np.inf), 1)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = np.einsum("hts,shd->thd", s, v).reshape(T, nh * hd)
        x = x + a @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        g = h @ W[p + "mlp.gate_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W["model.norm.weight"])
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    return x @ head.T


def stories_hf(data_dir):
    src = Path(data_dir) / "models" / "stories260K" / "stories260K.gguf"
    r = gguf.GGUFReader(str(src))
    get = lambda k: r.fields[k].contents()
    n_head, n_kv = get("llama.attention.head_count"), get("llama.attention.head_count_kv")
    tensors = {t.name: np.array(t.data) for t in r.tensors}
    hf = to_hf(tensors, n_head, n_kv)
    cfg = llama_config(512, get("llama.embedding_length"), get("llama.feed_forward_length"), get("llama.block_count"),
                       n_head, n_kv, 512, float(get("llama.attention.layer_norm_rms_epsilon")), False)
    out = FIX / "stories260K_hf"
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    save_file(hf, str(out / "model.safetensors"), metadata={"format": "pt"})
    # Independent check: HF arithmetic on the un-permuted weights reproduces llama2.c's logits.
    ref = json.loads((Path(data_dir) / "models/stories260K/reference_outputs.json").read_text())
    rows = ref["logits_greedy_from_bos_first_positions"]
    logits = hf_forward(hf, cfg, [r_["input_token"] for r_ in rows])
    worst = max(float(np.abs(logits[i] - np.array(rows[i]["logits"])).max()) for i in range(len(rows)))
    print(f"stories260K_hf: numpy HF forward vs llama2.c logits, max |diff| = {worst:.2e}")
    assert worst < 1e-3, "the un-permuted weights do not reproduce llama2.c"
    return r


def tiny_llama(stories_reader):
    """A random llama with stories260K's tokenizer: GGUF (whole and split) and a sharded HF folder."""
    n_vocab, d, ff, n_layer, nh, nkv = 512, 32, 48, 2, 4, 2
    hd = d // nh
    bf16_exact = lambda a: (a.astype(np.float32).view(np.uint32) & 0xFFFF0000).view(np.float32)
    T = {"token_embd.weight": (RNG.standard_normal((n_vocab, d)) * 0.5).astype(np.float16)}
    for l in range(n_layer):
        p = f"blk.{l}."
        T[p + "attn_norm.weight"] = bf16_exact(1 + 0.1 * RNG.standard_normal(d))
        T[p + "attn_q.weight"] = (RNG.standard_normal((nh * hd, d)) * 0.2).astype(np.float16)
        T[p + "attn_k.weight"] = (RNG.standard_normal((nkv * hd, d)) * 0.2).astype(np.float16)
        T[p + "attn_v.weight"] = (RNG.standard_normal((nkv * hd, d)) * 0.2).astype(np.float16)
        T[p + "attn_output.weight"] = (RNG.standard_normal((d, nh * hd)) * 0.2).astype(np.float16)
        T[p + "ffn_norm.weight"] = bf16_exact(1 + 0.1 * RNG.standard_normal(d))
        T[p + "ffn_gate.weight"] = (RNG.standard_normal((ff, d)) * 0.2).astype(np.float16)
        T[p + "ffn_up.weight"] = (RNG.standard_normal((ff, d)) * 0.2).astype(np.float16)
        T[p + "ffn_down.weight"] = (RNG.standard_normal((d, ff)) * 0.2).astype(np.float16)
    T["output_norm.weight"] = bf16_exact(1 + 0.1 * RNG.standard_normal(d))
    T["output.weight"] = (RNG.standard_normal((n_vocab, d)) * 0.3).astype(np.float16)

    def write(path, split):
        w = gguf.GGUFWriter(path, "llama", split_max_tensors=split)
        w.add_name("tiny_llama")
        w.add_context_length(256)
        w.add_embedding_length(d)
        w.add_feed_forward_length(ff)
        w.add_block_count(n_layer)
        w.add_head_count(nh)
        w.add_head_count_kv(nkv)
        w.add_rope_dimension_count(hd)
        w.add_layer_norm_rms_eps(1e-5)
        f = stories_reader.fields
        w.add_tokenizer_model("llama")
        w.add_token_list([bytes(f["tokenizer.ggml.tokens"].parts[i]) for i in f["tokenizer.ggml.tokens"].data])
        w.add_token_scores([float(x) for x in f["tokenizer.ggml.scores"].contents()])
        w.add_token_types([int(x) for x in f["tokenizer.ggml.token_type"].contents()])
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_unk_token_id(0)
        for name, a in T.items():
            w.add_tensor(name, a)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()

    rt = FIX / "roundtrip"
    write(rt / "tiny_llama.gguf", 0)
    write(rt / "tiny_llama.gguf", 8)  # -> tiny_llama-00001-of-0000N.gguf
    hf = to_hf(T, nh, nkv)
    out = rt / "tiny_llama_hf"
    out.mkdir(parents=True, exist_ok=True)
    names = list(hf)
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, part in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        specs, keep = {}, []
        for n in part:
            a = hf[n]
            if n.endswith("norm.weight"):  # exactly representable in BF16: widening back to F32 is bit-exact
                raw = (a.view(np.uint32) >> 16).astype(np.uint16)
                keep.append(raw)
                specs[n] = TensorSpec(dtype="bfloat16", shape=list(a.shape), data_ptr=raw.ctypes.data, data_len=raw.nbytes)
            else:
                keep.append(a)
                specs[n] = TensorSpec(dtype=a.dtype.name, shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes)
            weight_map[n] = fname
        serialize_file(specs, str(out / fname), metadata={"format": "pt"})
    (out / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}, indent=2) + "\n")
    cfg = llama_config(n_vocab, d, ff, n_layer, nh, nkv, 256, 1e-5, False)
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    # A small byte-level BPE tokenizer (GPT-2 pre-tokenizer) made with HF tokenizers: 316 tokens for a
    # 512-row embedding, as HF checkpoints pad their embeddings past the tokenizer.
    from tokenizers import ByteLevelBPETokenizer
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(["Once upon a time there was a little girl named Lily. She liked to play outside."] * 50,
                            vocab_size=512, min_frequency=1, special_tokens=["<|endoftext|>"], show_progress=False)
    (out / "tokenizer.json").write_text(tok._tokenizer.to_str() + "\n")
    (out / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": None, "eos_token": "<|endoftext|>", "add_bos_token": False,
        "chat_template": "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"}, indent=2) + "\n")
    (out / "generation_config.json").write_text(
        json.dumps({"do_sample": True, "temperature": 0.6, "top_p": 0.95, "top_k": 20}, indent=2) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    args = ap.parse_args()
    rt = FIX / "roundtrip"
    rt.mkdir(parents=True, exist_ok=True)
    for p in rt.glob("*.gguf"):
        p.unlink()

    tensors = gguf_tensors()
    write_gguf(rt / "all_types.gguf", tensors)
    raw = bytearray((rt / "all_types.gguf").read_bytes())
    struct.pack_into("<I", raw, 4, 2)
    (rt / "all_types.v2.gguf").write_bytes(bytes(raw))
    write_gguf(rt / "all_types_split.gguf", tensors, split_max_tensors=12)
    splits = sorted(p.name for p in rt.glob("all_types_split-*.gguf"))

    st = safetensors_all_dtypes(rt / "all_dtypes.safetensors")
    manifest = {
        "generator": f"tools/make_roundtrip_fixtures.py with gguf {version('gguf')}, safetensors {version('safetensors')}",
        "gguf": {
            "files": ["all_types.gguf", "all_types.v2.gguf"],
            "splits": splits,
            "alignment": 64,
            "metadata": metadata_manifest(),
            "tensors": [{"name": n, "type": t.name, "ne": ne, "hex": hexb(raw_)} for n, (t, ne, raw_) in tensors.items()],
        },
        "safetensors": {"file": "all_dtypes.safetensors", **st},
    }
    (rt / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")

    r = stories_hf(args.data_dir)
    tiny_llama(r)
    total = sum(p.stat().st_size for p in FIX.rglob("*") if p.is_file() and ("roundtrip" in p.parts or "stories260K_hf" in p.parts))
    print(f"wrote fixtures: {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
