#!/usr/bin/env python3
"""Generate llama.cpp reference fixtures for dianoia's correctness tests.

Writes two JSON files into --out-dir:

  smollm2_reference.json  greedy continuations, teacher-forced per-position
                          argmax/top-5 logits and one chat case, computed by
                          llama.cpp (through llama-cpp-python's low-level API)
  smollm2_tokenize.json   llama.cpp tokenizations of assorted strings

Needs a Python environment with `llama-cpp-python` (PyPI) installed; this is a
developer tool, never run in CI. See tools/README.md.

Everything is computed with pure argmax over the raw logits taken from
llama_get_logits_ith: no sampler chain, no temperature, no repetition penalty.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import platform
import re
import sys
from pathlib import Path

import numpy as np

try:
    import llama_cpp
    from llama_cpp import llama_chat_format
except ImportError:  # pragma: no cover - developer tool
    sys.exit("error: llama_cpp not importable; install llama-cpp-python into this "
             "interpreter's environment (see tools/README.md)")

N_THREADS = 2
N_CTX = 512
SEED = 1234  # unused by argmax decoding; recorded for completeness
GEN_TOKENS = 64
TF_POSITIONS = 64
TOPK = 5

COMPLETION_PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):",
    "Once upon a time, in a small village,",
]
# Extra prompts used only for the teacher-forced logits section.
EXTRA_TF_PROMPTS = [
    "The quick brown fox jumps over the lazy dog. In 1969, humans first",
    "Water boils at 100 degrees Celsius at sea level because",
]
CHAT_MESSAGES = [{"role": "user", "content": "What is 2+2?"}]

# Strings for the tokenizer fixture. Strings containing special-token text are
# additionally tokenized with special=True.
TOKENIZE_STRINGS = [
    "",
    " ",
    "Hello",
    "Hello world",
    " Hello world",
    "Hello, world! How are you today?",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure they'll've done it, won't they? She's here; we're there.",
    "ALL CAPS TEXT and MiXeD CaSe",
    "12345678",
    "3.14159 2.71828 -42 +7 1e-9 0x1F 1,000,000",
    "Phone: 555-0123, year 2024, 1st 2nd 3rd",
    "a  b   c    d",
    "        indented by eight",
    "tabs\tand\t\ttabs",
    "line one\nline two\n\nline four\n",
    "\n\n\n",
    "trailing spaces   ",
    "\r\nwindows\r\nnewlines",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
    "{\"key\": [1, 2, 3], \"nested\": {\"x\": null, \"y\": true}}",
    "https://example.com/path?query=1&lang=en#frag",
    "user@example.org",
    "café naïve résumé façade Zürich Ångström",
    "Ελληνικά και русский язык",
    "日本語のテキストです。",
    "中文文本测试，你好世界！",
    "한국어 텍스트",
    "emoji: 😀🎉👍🏽 👨‍👩‍👧 🇫🇷",
    "עברית ועוד טקסט",
    "العربية النص",
    "math: ∑ ∫ √ ≤ ≥ ≠ π ∞ → ←",
    "zero\u200bwidth and non\u00a0breaking",
    "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>assistant\n",
    "text before<|endoftext|>text after",
    "<|im_start|><|im_end|><|endoftext|>",
    "not special: <|im_start and im_end|>",
    "<think>\nreasoning here\n</think>\nanswer",
]
SPECIAL_MARKERS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")


# --------------------------------------------------------------------------
# thin wrappers over the llama.cpp C API


@llama_cpp.llama_log_callback
def _quiet_log(level, text, user_data):  # noqa: ARG001
    pass


class Engine:
    def __init__(self, model_path: str, n_ctx: int = N_CTX, n_threads: int = N_THREADS):
        llama_cpp.llama_log_set(_quiet_log, ctypes.c_void_p(0))
        llama_cpp.llama_backend_init()
        mparams = llama_cpp.llama_model_default_params()
        mparams.n_gpu_layers = 0
        self.model = llama_cpp.llama_model_load_from_file(model_path.encode(), mparams)
        if not self.model:
            raise RuntimeError(f"failed to load {model_path}")
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = n_ctx
        cparams.n_ubatch = n_ctx
        cparams.n_seq_max = 1
        cparams.n_threads = n_threads
        cparams.n_threads_batch = n_threads
        self.ctx = llama_cpp.llama_init_from_model(self.model, cparams)
        if not self.ctx:
            raise RuntimeError("failed to create context")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.n_ctx = n_ctx
        self.batch = llama_cpp.llama_batch_init(n_ctx, 0, 1)
        self.n_past = 0

    # tokenizer ------------------------------------------------------------
    def tokenize(self, text: str, add_special: bool, special: bool) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 16
        buf = (llama_cpp.llama_token * cap)()
        n = llama_cpp.llama_tokenize(self.vocab, data, len(data), buf, cap, add_special, special)
        if n < 0:
            cap = -n
            buf = (llama_cpp.llama_token * cap)()
            n = llama_cpp.llama_tokenize(self.vocab, data, len(data), buf, cap, add_special, special)
        if n < 0:
            raise RuntimeError("tokenize failed")
        return list(buf[:n])

    def piece_bytes(self, tok: int, special: bool) -> bytes:
        buf = ctypes.create_string_buffer(256)
        n = llama_cpp.llama_token_to_piece(self.vocab, tok, buf, 256, 0, special)
        if n < 0:
            raise RuntimeError("token_to_piece failed")
        return buf.raw[:n]

    def detokenize(self, ids: list[int], special: bool) -> str:
        data = b"".join(self.piece_bytes(t, special) for t in ids)
        return data.decode("utf-8", errors="replace")

    def token_text(self, tok: int) -> str:
        return llama_cpp.llama_vocab_get_text(self.vocab, tok).decode("utf-8")

    # evaluation -------------------------------------------------------------
    def reset(self):
        mem = llama_cpp.llama_get_memory(self.ctx)
        llama_cpp.llama_memory_clear(mem, True)
        self.n_past = 0

    def decode(self, ids: list[int], all_logits: bool) -> np.ndarray:
        """Decode ids at positions n_past.. ; returns logits [rows, n_vocab]
        (rows = len(ids) if all_logits else 1, the last position)."""
        assert 0 < len(ids) and self.n_past + len(ids) <= self.n_ctx
        b = self.batch
        b.n_tokens = len(ids)
        for i, t in enumerate(ids):
            b.token[i] = t
            b.pos[i] = self.n_past + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = 1 if (all_logits or i == len(ids) - 1) else 0
        rc = llama_cpp.llama_decode(self.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        rows = range(len(ids)) if all_logits else [len(ids) - 1]
        out = np.empty((len(rows), self.n_vocab), dtype=np.float32)
        for r, i in enumerate(rows):
            p = llama_cpp.llama_get_logits_ith(self.ctx, i)
            out[r] = np.ctypeslib.as_array(p, shape=(self.n_vocab,))
        self.n_past += len(ids)
        return out

    def greedy(self, prompt_ids: list[int], n: int, stop_at_eos: bool) -> list[int]:
        """Prefill prompt in one batch, then decode token by token, argmax each."""
        self.reset()
        logits = self.decode(prompt_ids, all_logits=False)[-1]
        out: list[int] = []
        for _ in range(n):
            tok = int(np.argmax(logits))
            out.append(tok)
            if stop_at_eos and llama_cpp.llama_vocab_is_eog(self.vocab, tok):
                break
            if len(out) == n:
                break
            logits = self.decode([tok], all_logits=False)[-1]
        return out


# --------------------------------------------------------------------------
# Optional exact cross-check: float64 forward pass of the *dequantized* GGUF
# weights in numpy (llama architecture only). It tells how far llama.cpp itself
# is from exact math (llama.cpp quantizes activations to 8 bit for the quantized
# matmuls and keeps the KV cache in f16), which calibrates test tolerances.


class F64Llama:
    def __init__(self, model_path: str):
        from gguf import GGUFReader
        from gguf.quants import dequantize

        r = GGUFReader(model_path)

        def field(name):
            return r.fields[name].contents()

        if field("general.architecture") != "llama":
            raise RuntimeError("f64 check only implements the llama architecture")
        self.n_layer = int(field("llama.block_count"))
        self.n_head = int(field("llama.attention.head_count"))
        self.n_head_kv = int(field("llama.attention.head_count_kv"))
        self.n_embd = int(field("llama.embedding_length"))
        self.head_dim = self.n_embd // self.n_head
        self.eps = float(field("llama.attention.layer_norm_rms_epsilon"))
        self.rope_base = float(field("llama.rope.freq_base"))
        self.w = {}
        for t in r.tensors:
            a = dequantize(t.data, t.tensor_type).astype(np.float64)
            if len(t.shape) == 1:
                a = a.reshape(-1)
            self.w[t.name] = a
        self.w.setdefault("output.weight", self.w["token_embd.weight"])  # tied

    def _rms(self, x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * g

    def _rope(self, x, pos):
        # llama.cpp "normal" rope: rotate adjacent pairs (x[2i], x[2i+1]).
        hd = self.head_dim
        theta = pos[:, None] * self.rope_base ** (-np.arange(0, hd, 2) / hd)
        c, s = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
        a, b = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = a * c - b * s
        out[..., 1::2] = a * s + b * c
        return out

    def logits(self, ids: list[int]) -> np.ndarray:
        w, T, hd = self.w, len(ids), self.head_dim
        x = w["token_embd.weight"][ids]
        pos = np.arange(T, dtype=np.float64)
        mask = np.triu(np.full((T, T), -np.inf), 1)
        group = self.n_head // self.n_head_kv
        for layer in range(self.n_layer):
            p = f"blk.{layer}."
            h = self._rms(x, w[p + "attn_norm.weight"])
            q = self._rope((h @ w[p + "attn_q.weight"].T).reshape(T, self.n_head, hd), pos)
            k = self._rope((h @ w[p + "attn_k.weight"].T).reshape(T, self.n_head_kv, hd), pos)
            v = (h @ w[p + "attn_v.weight"].T).reshape(T, self.n_head_kv, hd)
            att = np.empty((T, self.n_head, hd))
            for hh in range(self.n_head):
                sc = q[:, hh] @ k[:, hh // group].T / np.sqrt(hd) + mask
                sc = np.exp(sc - sc.max(1, keepdims=True))
                sc /= sc.sum(1, keepdims=True)
                att[:, hh] = sc @ v[:, hh // group]
            x = x + att.reshape(T, -1) @ w[p + "attn_output.weight"].T
            h = self._rms(x, w[p + "ffn_norm.weight"])
            g = h @ w[p + "ffn_gate.weight"].T
            u = h @ w[p + "ffn_up.weight"].T
            x = x + ((g / (1.0 + np.exp(-g))) * u) @ w[p + "ffn_down.weight"].T
        return self._rms(x, w["output_norm.weight"]) @ w["output.weight"].T


# --------------------------------------------------------------------------
# JSON output: indent=1 but keep lists of scalars on one line


def dump_json(obj, path: Path):
    text = json.dumps(obj, ensure_ascii=False, indent=1)

    def squash(m: re.Match) -> str:
        return re.sub(r"\s+", "", m.group(0)).replace(",", ", ")

    num_list = r"\[[\s\d.,eE+\-]*\]"  # innermost list holding only numbers
    text = re.sub(num_list, squash, text)
    # lists of such lists (e.g. the top-5 [id, logit] pairs of one position)
    text = re.sub(r"\[\s*\[[^\[\]\"]*\](?:\s*,\s*\[[^\[\]\"]*\])*\s*\]", squash, text)
    path.write_text(text + "\n", encoding="utf-8")


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def topk(row: np.ndarray, k: int) -> list[list]:
    idx = np.argpartition(-row, k)[:k]
    idx = idx[np.argsort(-row[idx], kind="stable")]
    return [[int(i), round(float(row[i]), 4)] for i in idx]


# --------------------------------------------------------------------------


def make_reference(eng: Engine, model_path: str, f64: "F64Llama | None") -> dict:
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(eng.vocab))
    bos = int(llama_cpp.llama_vocab_bos(eng.vocab))
    eos = int(llama_cpp.llama_vocab_eos(eng.vocab))

    ref: dict = {
        "generator": "tools/make_llamacpp_reference.py",
        "llama_cpp_python_version": llama_cpp.__version__,
        "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        "python": platform.python_version(),
        "model_file": os.path.basename(model_path),
        "model_sha256": sha256_file(model_path),
        "settings": {
            "n_threads": N_THREADS,
            "n_ctx": N_CTX,
            "n_batch": N_CTX,
            "seed": SEED,
            "decoding": "pure argmax of raw logits (no sampler, no repeat penalty)",
            "prefill": "prompt decoded as one batch, then one token per llama_decode",
            "tokenize": "add_special=True (llama.cpp decides per model: add_bos_token), parse_special=False",
            "teacher_forced": "prompt + greedy continuation truncated to 64 tokens, decoded as ONE batch with logits for every position; logits rounded to 4 decimals",
            "flash_attn": "llama.cpp default (auto)",
            "kv_cache": "llama.cpp default (f16)",
        },
        "vocab": {
            "n_vocab": eng.n_vocab,
            "bos_id": bos,
            "eos_id": eos,
            "add_bos": add_bos,
        },
    }

    # ---- greedy completions ------------------------------------------------
    completions = []
    for prompt in COMPLETION_PROMPTS:
        ids = eng.tokenize(prompt, add_special=True, special=False)
        gen = eng.greedy(ids, GEN_TOKENS, stop_at_eos=False)
        completions.append({
            "prompt": prompt,
            "prompt_ids": ids,
            "generated_ids": gen,
            "generated_text": eng.detokenize(gen, special=False),
        })
    ref["completions"] = completions

    # ---- teacher-forced per-position argmax / top-5 -------------------------
    tf = []
    for prompt in COMPLETION_PROMPTS + EXTRA_TF_PROMPTS:
        ids = eng.tokenize(prompt, add_special=True, special=False)
        need = TF_POSITIONS - len(ids)
        gen = eng.greedy(ids, need, stop_at_eos=False)
        seq = (ids + gen)[:TF_POSITIONS]
        eng.reset()
        logits = eng.decode(seq, all_logits=True)
        argmax = [int(i) for i in np.argmax(logits, axis=1)]
        # Positions >= len(prompt)-1 predict the greedy continuation; count how
        # often one-batch argmax agrees with token-by-token greedy.
        agree = sum(1 for p in range(len(ids) - 1, TF_POSITIONS - 1) if argmax[p] == seq[p + 1])
        tf.append({
            "prompt": prompt,
            "n_prompt_tokens": len(ids),
            "tokens": seq,
            "argmax": argmax,
            "top5": [topk(row, TOPK) for row in logits],
            "batch_vs_incremental_agree": f"{agree}/{TF_POSITIONS - len(ids)}",
        })
        if f64 is not None:
            exact = f64.logits(seq)
            diff = np.abs(logits.astype(np.float64) - exact)
            ex_arg = [int(i) for i in np.argmax(exact, axis=1)]
            tf[-1]["f64_check"] = {
                "what": "llama.cpp logits vs float64 numpy forward of the dequantized weights",
                "argmax_f64": ex_arg,
                "argmax_agree": f"{sum(a == b for a, b in zip(argmax, ex_arg))}/{TF_POSITIONS}",
                "max_abs_logit_diff": round(float(diff.max()), 4),
                "mean_abs_logit_diff": round(float(diff.mean()), 4),
            }
    ref["teacher_forced"] = tf

    # ---- chat case ------------------------------------------------------------
    template = None
    buf = ctypes.create_string_buffer(1 << 16)
    n = llama_cpp.llama_model_meta_val_str(eng.model, b"tokenizer.chat_template", buf, len(buf))
    if n > 0:
        template = buf.value.decode("utf-8")
    if template is None:
        raise RuntimeError("model has no tokenizer.chat_template")
    # Same construction as llama_cpp.Llama.__init__ does for the GGUF template.
    formatter = llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=eng.token_text(eos),
        bos_token=eng.token_text(bos),
        stop_token_ids=[eos],
    )
    rendered = formatter(messages=CHAT_MESSAGES).prompt
    # llama-cpp-python tokenizes chat prompts with add_bos=not added_special
    # (=False for Jinja2ChatFormatter) and special=True.
    chat_ids = eng.tokenize(rendered, add_special=False, special=True)
    chat_gen = eng.greedy(chat_ids, GEN_TOKENS, stop_at_eos=True)
    ref["chat"] = {
        "messages": CHAT_MESSAGES,
        "add_generation_prompt": True,
        "chat_template": template,
        "builtin_format_guess": llama_chat_format.guess_chat_format_from_gguf_metadata(
            {"tokenizer.chat_template": template}),
        "rendered": rendered,
        "tokenize": "add_special=False, parse_special=True",
        "prompt_ids": chat_ids,
        "generated_ids": chat_gen,
        "generated_text": eng.detokenize(chat_gen, special=False),
        "generated_text_special": eng.detokenize(chat_gen, special=True),
        "stopped_at_eos": bool(chat_gen) and chat_gen[-1] == eos,
    }
    return ref


def make_tokenize(eng: Engine) -> list[dict]:
    out = []
    for s in TOKENIZE_STRINGS:
        out.append({"text": s, "special": False, "ids": eng.tokenize(s, add_special=False, special=False)})
        if any(m in s for m in SPECIAL_MARKERS):
            out.append({"text": s, "special": True, "ids": eng.tokenize(s, add_special=False, special=True)})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.expanduser(
        "~/.cache/dianoia/SmolLM2-135M-Instruct.Q4_1.gguf"), help="GGUF file")
    ap.add_argument("--out-dir", default="tests/fixtures", help="output directory")
    ap.add_argument("--f64-check", action="store_true",
                    help="also run a float64 numpy forward of the dequantized weights (needs the "
                         "gguf package; ~15 s and ~1.5 GB RAM per prompt) and record how far "
                         "llama.cpp is from it")
    args = ap.parse_args()

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    eng = Engine(args.model)

    f64 = F64Llama(args.model) if args.f64_check else None
    ref = make_reference(eng, args.model, f64)
    dump_json(ref, out_dir / "smollm2_reference.json")
    tok = make_tokenize(eng)
    dump_json(tok, out_dir / "smollm2_tokenize.json")

    for c in ref["completions"]:
        print(f"{c['prompt']!r}: prompt={c['prompt_ids']} gen[:10]={c['generated_ids'][:10]} "
              f"text={c['generated_text']!r}")
    print("chat rendered:", repr(ref["chat"]["rendered"]))
    print("chat gen:", ref["chat"]["generated_ids"], repr(ref["chat"]["generated_text"]))
    for t in ref["teacher_forced"]:
        line = f"tf {t['prompt'][:30]!r}: batch-vs-incremental argmax agree {t['batch_vs_incremental_agree']}"
        if "f64_check" in t:
            c = t["f64_check"]
            line += (f"; vs f64: argmax agree {c['argmax_agree']}, max|dlogit| {c['max_abs_logit_diff']}"
                     f", mean|dlogit| {c['mean_abs_logit_diff']}")
        print(line)
    for name in ("smollm2_reference.json", "smollm2_tokenize.json"):
        print(f"wrote {out_dir / name} ({(out_dir / name).stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
