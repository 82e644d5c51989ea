#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the real files in ../shared/data (Python standard library
only, so that CI needs nothing installed). The big inputs are shrunk into small valid files, so that the
fuzzers start from documents that parse deep into the code instead of stopping at a size cap:

  gguf            every vocab GGUF and stories260K, rewritten with 320 tokens (plus the special ones,
                  renumbered), the merges among them, and each tensor cut to one block
  tokenizer_json  qwen3 / deepseek-v3 tokenizer.json with 400 vocab entries and a few added tokens,
                  followed by "\\0" and a trimmed tokenizer_config.json (and without the config)
  json            configs, tokenizer_config.json files, test fixtures, the shrunk tokenizer.json files
  chat_template   every chat template we have, as "<template>\\0<message text>"
  tokenizer       llama.cpp's tokenizer test strings, each behind a mode byte (see fuzz_tokenizer.cpp)
  safetensors     small synthetic files (no safetensors file is in the shared data): every dtype, FP8
                  with block scales, a llama-style attention block, metadata, an empty header
  index_json      synthetic model.safetensors.index.json files
  config_json     the shared config.json, plus llama / qwen3 / deepseek_v3 configs (rope scaling, MoE,
                  MLA fields) and generation_config.json files
  serve_request   request bodies for dianoia serve (chat and completion, every field it reads)

Usage: make_corpus.py --data-dir ../shared/data --fixtures-dir tests/fixtures --out build-fuzz/corpus
Seeds already there are kept (libFuzzer adds its own finds to the same folders).
"""
import argparse
import hashlib
import json
import struct
from pathlib import Path

# ---------------------------------------------------------------------------------------------- GGUF

STRING, ARRAY = 8, 9
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
# ggml type id -> (elements per block, bytes per block), for the types our seed files use.
BLOCKS = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 30: (1, 2)}


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.b[self.p:self.p + n]
        self.p += n
        return s

    def value(self, t):
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("<I"), self.take("<Q")
            return (et, [self.value(et) for _ in range(n)])
        return self.take(SCALAR[t])


def put_value(t, v):
    if t == STRING:
        return struct.pack("<Q", len(v)) + v
    if t == ARRAY:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(put_value(et, e) for e in items)
    return struct.pack(SCALAR[t], v)


def read_gguf(b):
    r = Reader(b)
    magic, version, n_tensors, n_kv = b[:4], *struct.unpack_from("<IQQ", b, 4)
    assert magic == b"GGUF", "not a GGUF file"
    r.p = 24
    kv = []
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<I")
        kv.append((key, t, r.value(t)))
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.take("<Q") for _ in range(r.take("<I"))]
        tensors.append((name, dims, r.take("<I"), r.take("<Q")))
    align = next((v for k, t, v in kv if k == b"general.alignment"), 32)
    data_start = (r.p + align - 1) // align * align
    return version, kv, tensors, align, data_start


def shrink_vocab(kv, n_keep):
    """Keeps tokens [0, n_keep) and the special tokens (renumbered after them); merges among kept tokens."""
    d = {k: (t, v) for k, t, v in kv}
    if b"tokenizer.ggml.tokens" not in d:
        return kv
    tokens = d[b"tokenizer.ggml.tokens"][1][1]
    keep = list(range(min(n_keep, len(tokens))))
    remap = {i: i for i in keep}
    for k, t, v in kv:
        if k.startswith(b"tokenizer.ggml.") and k.endswith(b"_token_id") and isinstance(v, int):
            if 0 <= v < len(tokens) and v not in remap:
                remap[v] = len(keep)
                keep.append(v)
    kept_text = {tokens[i] for i in keep}
    out = []
    for k, t, v in kv:
        if t == ARRAY and k in (b"tokenizer.ggml.tokens", b"tokenizer.ggml.scores", b"tokenizer.ggml.token_type"):
            v = (v[0], [v[1][i] for i in keep])
        elif t == ARRAY and k == b"tokenizer.ggml.merges":
            merges = []
            for m in v[1]:
                a, _, b = m.partition(b" ")
                if a in kept_text and b in kept_text and a + b in kept_text:
                    merges.append(m)
            v = (v[0], merges)
        elif t == ARRAY:
            v = (v[0], v[1][:64])
        elif k.startswith(b"tokenizer.ggml.") and k.endswith(b"_token_id") and isinstance(v, int):
            v = remap.get(v, 0)
        out.append((k, t, v))
    return out


def shrink_gguf(b, n_keep=320):
    version, kv, tensors, align, data_start = read_gguf(b)
    kv = shrink_vocab(kv, n_keep)
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kv))
    head += b"".join(put_value(STRING, k) + struct.pack("<I", t) + put_value(t, v) for k, t, v in kv)
    infos, blobs, off = b"", [], 0
    for name, dims, ttype, old_off in tensors:
        per_block, nbytes = BLOCKS.get(ttype, (None, None))
        if per_block is None:
            continue  # a type we do not describe here: leave the tensor out
        infos += put_value(STRING, name) + struct.pack("<IQIQ", 1, per_block, ttype, off)
        blobs.append(b[data_start + old_off:data_start + old_off + nbytes].ljust(nbytes, b"\0"))
        off += (nbytes + align - 1) // align * align
    # The tensor count may have dropped: rewrite it.
    n_t = len(blobs)
    head = head[:8] + struct.pack("<Q", n_t) + head[16:]
    body = head + infos
    body += b"\0" * ((-len(body)) % align)
    for blob in blobs:
        body += blob + b"\0" * ((-len(blob)) % align)
    return body


# ------------------------------------------------------------------------------------- tokenizer.json

def config_token(cfg, key):
    v = cfg.get(key)
    v = v.get("content") if isinstance(v, dict) else v
    return v if isinstance(v, str) else None


def shrink_tokenizer_json(tok, cfg, n_keep=400, n_added=12):
    """The vocab entries with ids below n_keep and the first n_added added tokens (plus those the config
    names), renumbered densely; the merges among the kept tokens; the config's token keys and template."""
    model = tok["model"]
    kept = sorted((i, t) for t, i in model["vocab"].items() if i < n_keep)
    vocab = {t: new for new, (_, t) in enumerate(kept)}
    wanted = {config_token(cfg, k) for k in ("bos_token", "eos_token", "pad_token", "unk_token")} - {None}
    added, next_id = [], len(vocab)
    for a in tok.get("added_tokens", []):
        if len(added) >= n_added and a["content"] not in wanted:
            continue
        if a["content"] in vocab:  # an added token that is also a vocab entry keeps that entry's id
            added.append(dict(a, id=vocab[a["content"]]))
        else:
            added.append(dict(a, id=next_id))
            next_id += 1
    merges = []
    for m in model["merges"]:
        a, b = m if isinstance(m, list) else m.split(" ", 1)
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    small = dict(tok, added_tokens=added, model=dict(model, vocab=vocab, merges=merges))
    names = set(vocab) | {a["content"] for a in added}
    small_cfg = {k: cfg[k] for k in ("add_bos_token", "add_eos_token", "bos_token", "eos_token", "pad_token",
                                     "unk_token", "chat_template") if k in cfg}
    for k in ("bos_token", "eos_token", "pad_token", "unk_token"):
        if config_token(small_cfg, k) is not None and config_token(small_cfg, k) not in names:
            small_cfg.pop(k)
    return small, small_cfg


def dumps(o):
    return json.dumps(o, ensure_ascii=False, separators=(",", ":")).encode()


# -------------------------------------------------------------------------------------- safetensors

ST_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
            "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def safetensors_file(tensors, metadata=None):
    """tensors: [(name, dtype, shape)]; data is a byte pattern. Header padded with spaces to 8 bytes, as
    the reference writer does."""
    head, data = {}, b""
    if metadata is not None:
        head["__metadata__"] = metadata
    for name, dt, shape in tensors:
        n = ST_SIZES[dt]
        for d in shape:
            n *= d
        head[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + n]}
        data += bytes((len(data) + i) * 37 % 251 for i in range(n))
    h = json.dumps(head, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + data


def safetensors_seeds():
    yield "llama-block", safetensors_file([
        ("model.embed_tokens.weight", "BF16", [16, 8]),
        ("model.layers.0.self_attn.q_proj.weight", "F16", [8, 8]),
        ("model.layers.0.self_attn.k_proj.weight", "F16", [4, 8]),
        ("model.layers.0.input_layernorm.weight", "BF16", [8]),
        ("model.norm.weight", "F16", [8]),
        ("lm_head.weight", "F32", [16, 8])], {"format": "pt"})
    yield "fp8-scales", safetensors_file([
        ("model.layers.0.mlp.up_proj.weight", "F8_E4M3", [4, 8]),
        ("model.layers.0.mlp.up_proj.weight_scale_inv", "F32", [1, 1]),
        ("model.layers.0.mlp.down_proj.weight", "F8_E5M2", [8, 4])])
    yield "all-dtypes", safetensors_file([(f"t.{dt.lower()}", dt, [2, 3]) for dt in ST_SIZES] +
                                         [("scalar", "F32", []), ("empty", "F16", [0, 4])], {"a": "b", "c": ""})
    yield "empty", safetensors_file([])


def index_seeds():
    yield "two-shards", {"metadata": {"total_size": 3087428608}, "weight_map": {
        "lm_head.weight": "model-00002-of-00002.safetensors",
        "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
        "model.layers.0.self_attn.q_proj.weight": "model-00001-of-00002.safetensors",
        "model.norm.weight": "model-00002-of-00002.safetensors"}}
    yield "one-shard", {"weight_map": {"w": "model.safetensors"}}


def config_seeds():
    base = {"vocab_size": 32000, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "intermediate_size": 128, "max_position_embeddings": 2048,
            "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": True}
    yield "llama3", dict(base, model_type="llama", rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192})
    yield "llama-linear", dict(base, model_type="llama", rope_scaling={"type": "linear", "factor": 2.0}, head_dim=16)
    yield "qwen3", dict(base, model_type="qwen3", head_dim=32, rope_scaling=None, partial_rotary_factor=0.5)
    yield "deepseek_v3", dict(base, model_type="deepseek_v3", kv_lora_rank=32, q_lora_rank=48, qk_nope_head_dim=16,
                              qk_rope_head_dim=8, v_head_dim=16, n_routed_experts=8, n_shared_experts=1,
                              num_experts_per_tok=2, moe_intermediate_size=32, first_k_dense_replace=1,
                              n_group=2, topk_group=1, norm_topk_prob=True, routed_scaling_factor=2.5,
                              scoring_func="sigmoid", rope_scaling={
                                  "type": "yarn", "factor": 40, "beta_fast": 32, "beta_slow": 1, "mscale": 1.0,
                                  "mscale_all_dim": 1.0, "original_max_position_embeddings": 4096})
    yield "deepseek_v2", dict(base, model_type="deepseek_v2", kv_lora_rank=32, q_lora_rank=None,
                              qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16, n_routed_experts=4,
                              num_experts_per_tok=2, moe_intermediate_size=32, scoring_func="softmax",
                              rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    yield "generation_config", {"bos_token_id": 1, "do_sample": True, "temperature": 0.6, "top_p": 0.95,
                                "top_k": 20, "min_p": 0.0}


# ------------------------------------------------------------------------------------------- output

class Corpus:
    def __init__(self, root):
        self.root = root
        self.count = {}

    def add(self, target, data, name=None):
        d = self.root / target
        d.mkdir(parents=True, exist_ok=True)
        name = name or hashlib.sha1(data).hexdigest()
        (d / name).write_bytes(data)
        self.count[target] = self.count.get(target, 0) + 1


def vocab_cases(inp):
    return inp.read_bytes().split(b"\n__ggml_vocab_test__\n")[:-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--fixtures-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    data, fx, c = args.data_dir, args.fixtures_dir, Corpus(args.out)

    # GGUF
    for p in sorted((data / "vocab").glob("*.gguf")) + [data / "models/stories260K/stories260K.gguf"]:
        c.add("gguf", shrink_gguf(p.read_bytes()), p.stem + ".gguf")

    # tokenizer.json (+ config), also fed to the JSON parser
    for name in ("qwen3", "deepseek-v3"):
        d = data / "tokenizers" / name
        tok = json.loads((d / "tokenizer.json").read_text(encoding="utf-8"))
        cfg = json.loads((d / "tokenizer_config.json").read_text(encoding="utf-8"))
        small, small_cfg = shrink_tokenizer_json(tok, cfg)
        c.add("tokenizer_json", dumps(small), name)
        c.add("tokenizer_json", dumps(small) + b"\0" + dumps(small_cfg), name + "+config")
        c.add("json", dumps(small), name + "-tokenizer.json")
        c.add("json", dumps(small_cfg), name + "-tokenizer_config.json")

    # JSON documents
    json_files = list((data / "configs").rglob("*.json")) + list((data / "tokenizers").rglob("tokenizer_config.json"))
    json_files += [data / "models/stories260K/reference_outputs.json"] + sorted(fx.rglob("*.json"))
    for p in json_files:
        c.add("json", p.read_bytes(), p.parent.name + "-" + p.name)
    for i, s in enumerate([b'{"a":[1,-2.5e-3,true,false,null,"\\u00e9\\ud83d\\ude00"],"b":{}}', b"[]", b'"\\"\\\\/\\b"',
                           b"-0.0", b"123456789012345678901234567890", b'[[[[{"x":[]}]]]]']):
        c.add("json", s, f"small-{i}")

    # Request bodies of dianoia serve: the first byte picks the endpoint (even: chat, odd: completion)
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "2+2?"}]},
            {"role": "assistant", "content": "4", "reasoning_content": "easy"}, {"role": "user", "content": "3+3?"}]
    for i, body in enumerate([
            {"model": "m", "messages": chat, "max_tokens": 32, "temperature": 0.7, "top_p": 0.9, "seed": 1, "stop": ["\n", "END"]},
            {"messages": chat[:2], "stream": True, "stream_options": {"include_usage": True}, "logprobs": True,
             "top_logprobs": 3, "reasoning_effort": "low", "max_reasoning_tokens": 64, "n": 3},
            {"messages": chat[1:2], "tools": [], "tool_choice": "none", "response_format": {"type": "text"},
             "logit_bias": {"15": -100, "7": 2.5}, "presence_penalty": 0.5, "max_completion_tokens": 8},
            {"messages": chat[1:2] + [
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 2}'}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "4"}],
             "tools": [{"type": "function", "function": {"name": "add", "description": "a + b", "parameters": {
                 "type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}}],
             "tool_choice": "auto", "parallel_tool_calls": False}]):
        c.add("serve_request", b"\0" + dumps(body), f"chat-{i}")
    for i, body in enumerate([{"prompt": "Once upon a time", "max_tokens": 16, "logprobs": 2, "echo": False},
                              {"prompt": [1, 15043, 29871], "stream": True, "stop": "x"}]):
        c.add("serve_request", b"\1" + dumps(body), f"completion-{i}")

    for name, blob in safetensors_seeds():
        c.add("safetensors", blob, name)
    for name, doc in index_seeds():
        c.add("index_json", json.dumps(doc, indent=2).encode(), name)
    for p in (data / "configs").rglob("*.json"):
        c.add("config_json", p.read_bytes(), p.parent.name)
    for name, doc in config_seeds():
        c.add("config_json", json.dumps(doc, indent=2).encode(), name)

    # Chat templates, with a message text after the NUL
    templates = {p.stem: p.read_text(encoding="utf-8") for p in (data / "chat_templates").glob("*.jinja")}
    for name in ("qwen3", "deepseek-v3"):
        cfg = json.loads((data / "tokenizers" / name / "tokenizer_config.json").read_text(encoding="utf-8"))
        if isinstance(cfg.get("chat_template"), str):
            templates[name] = cfg["chat_template"]
    fixtures = fx / "chat_templates.json"
    if fixtures.exists():
        for name, t in json.loads(fixtures.read_text(encoding="utf-8"))["templates"].items():
            templates["fixture-" + name] = t if isinstance(t, str) else t.get("template", "")
    messages = [b"What is 2+2?", b"<think>\nhmm\n</think>\n\nFour.", "caf\u00e9 \u2603 {{ x }}".encode()]
    for i, (name, t) in enumerate(sorted(templates.items())):
        c.add("chat_template", t.encode() + b"\0" + messages[i % len(messages)], name)
    for i, s in enumerate([b"{% for m in messages %}{{ m.role }}: {{ m.content | trim }}\n{% endfor %}",
                           b"{{ bos_token }}{% if enable_thinking is defined %}{{ enable_thinking }}{% endif %}",
                           b"{% set ns = namespace(x=0) %}{% macro f(a) %}{{ a * 2 }}{% endmacro %}{{ f(3) }}",
                           b"{{ messages | tojson }}{{ 'a,b' .split(',') | join('|') }}{{ raise_exception('no') }}"]):
        c.add("chat_template", s + b"\0hello", f"small-{i}")

    # Tokenizer: the mode byte picks the vocabulary and flags (fuzz_tokenizer.cpp)
    sources = [(0, data / "vocab/ggml-vocab-gpt-2.gguf.inp"), (1, data / "vocab/ggml-vocab-llama-spm.gguf.inp"),
               (2, data / "vocab/ggml-vocab-qwen2.gguf.inp"), (2, data / "tokenizers/qwen3/special-tokens.inp")]
    for which, inp in sources:
        for i, text in enumerate(vocab_cases(inp)):
            mode = which | (4 if i % 2 else 0) | (8 if i % 4 >= 2 else 0)
            c.add("tokenizer", bytes([mode]) + text)
    for which in range(3):
        c.add("tokenizer", bytes([16 | which]) + bytes(range(256)), f"decode-{which}")

    for t, n in sorted(c.count.items()):
        print(f"  {t}: {n} seeds")


if __name__ == "__main__":
    main()
