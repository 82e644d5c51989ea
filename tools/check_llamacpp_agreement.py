#!/usr/bin/env python3
"""Teacher-forced agreement of dianoia with llama.cpp (llama-cpp-python, as pip builds it) on real models.

For each model and text, both engines evaluate the same token ids (llama.cpp's tokenization) as prompt
batches and return the logits of every position. Reported per model:
  - top-1 agreement over all positions, and over the positions where llama.cpp's top-1 leads its
    top-2 by >= --margin (the acceptance bar: 100% there);
  - the largest |logit difference| over the whole vocabulary and over llama.cpp's top 5.

dianoia is reached through its C ABI (ctypes on build/capi/libdianoia.so), so this also exercises
dianoia_session_eval_logits. Usage (the interpreter must have llama-cpp-python):

  /work/venv/bin/python tools/check_llamacpp_agreement.py --threads 2 \\
      ~/.cache/dianoia/SmolLM2-135M-Instruct.Q4_1.gguf \\
      ~/.cache/dianoia/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \\
      ~/.cache/dianoia/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

DIANOIA_ISA in the environment caps dianoia's kernels (e.g. avx2) as it does everywhere.
"""

from __future__ import annotations

import argparse
import ctypes as C
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

TEXTS = {
    "prose": (
        "The lighthouse keeper had kept the same routine for thirty years. Every evening he climbed the "
        "spiral stairs, wiped the salt from the great lens, and lit the lamp before the sun touched the "
        "water. Ships he would never see passed safely because of him, and he liked it that way. One "
        "winter a storm cut the island off for eleven days; the supply boat could not land, the radio "
        "failed, and the oil ran low. He rationed it carefully, dimming the lamp in the small hours when "
        "no ship was due, and on the twelfth morning the boat arrived to find the light still burning."
    ),
    "code": (
        "def merge_sorted(a: list[int], b: list[int]) -> list[int]:\n"
        "    \"\"\"Merge two sorted lists into one sorted list in linear time.\"\"\"\n"
        "    out = []\n    i = j = 0\n    while i < len(a) and j < len(b):\n"
        "        if a[i] <= b[j]:\n            out.append(a[i])\n            i += 1\n"
        "        else:\n            out.append(b[j])\n            j += 1\n"
        "    out.extend(a[i:])\n    out.extend(b[j:])\n    return out\n\n\n"
        "class LRUCache:\n    def __init__(self, capacity: int):\n        self.capacity = capacity\n"
        "        self.data = {}\n\n    def get(self, key):\n        if key not in self.data:\n"
        "            return None\n        value = self.data.pop(key)\n        self.data[key] = value\n"
        "        return value\n"
    ),
    "chat": (
        "<|im_start|>system\nYou are a careful assistant. Think step by step.<|im_end|>\n"
        "<|im_start|>user\nA train leaves at 9:40 and arrives at 13:05. How long is the journey, and "
        "what is its average speed if the distance is 246 km?<|im_end|>\n<|im_start|>assistant\n"
        "The journey lasts from 9:40 to 13:05, which is 3 hours and 25 minutes, or 205 minutes. "
        "The average speed is 246 km divided by 205/60 hours, which is about 72 km/h."
    ),
}


class dianoia_session_params(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("context_length", C.c_uint32), ("n_threads", C.c_int32),
                ("kv_type", C.c_int32), ("max_isa", C.c_int32), ("numerics", C.c_int32)]


def dianoia_logits(lib_path: str, model: str, tokens: list[int], threads: int, numerics: int):
    lib = C.CDLL(lib_path)
    lib.dianoia_last_error.restype = C.c_char_p
    lib.dianoia_system_info.restype = C.c_char_p
    m = C.c_void_p()
    if lib.dianoia_model_load(model.encode(), None, C.byref(m)) != 0:
        raise RuntimeError(lib.dianoia_last_error().decode())
    p = dianoia_session_params()
    lib.dianoia_session_params_init(C.byref(p), C.sizeof(p))
    p.context_length = max(512, len(tokens) + 8)
    p.n_threads = threads
    p.numerics = numerics
    s = C.c_void_p()
    if lib.dianoia_session_create(m, C.byref(p), C.byref(s)) != 0:
        raise RuntimeError(lib.dianoia_last_error().decode())

    class model_info(C.Structure):
        _fields_ = [("struct_size", C.c_size_t), ("architecture", C.c_char_p), ("name", C.c_char_p),
                    ("n_params", C.c_uint64), ("n_vocab", C.c_uint32)]

    mi = model_info()
    mi.struct_size = C.sizeof(mi)
    if lib.dianoia_model_get_info(m, C.byref(mi)) != 0:
        raise RuntimeError(lib.dianoia_last_error().decode())
    n = len(tokens)
    arr = (C.c_int32 * n)(*tokens)
    cap = n * mi.n_vocab
    buf = np.empty(cap, dtype=np.float32)
    if lib.dianoia_session_eval_logits(s, arr, C.c_size_t(n), C.c_size_t(n),
                                       buf.ctypes.data_as(C.POINTER(C.c_float)), C.c_size_t(cap),
                                       C.byref(C.c_size_t())) != 0:
        raise RuntimeError(lib.dianoia_last_error().decode())
    info = lib.dianoia_system_info().decode()
    lib.dianoia_session_free(s)
    lib.dianoia_model_free(m)
    return buf, info


def llamacpp_logits(model: str, texts: dict[str, str], threads: int):
    import llama_cpp

    llm = llama_cpp.Llama(model_path=model, n_ctx=2048, n_batch=512, n_threads=threads, logits_all=True,
                          verbose=False)
    out = {}
    for name, text in texts.items():
        toks = llm.tokenize(text.encode(), add_bos=True, special=True)
        llm.reset()
        llm.eval(toks)
        out[name] = (toks, np.array(llm.scores[: len(toks)], dtype=np.float32))
    sysinfo = llama_cpp.llama_print_system_info().decode()
    ver = getattr(llama_cpp, "__version__", "?")
    del llm
    return out, sysinfo, ver


def compare(ours: np.ndarray, theirs: np.ndarray, margin: float):
    top2 = np.argsort(-theirs, axis=1)[:, :5]
    lc1 = top2[:, 0]
    lc_margin = theirs[np.arange(len(theirs)), lc1] - theirs[np.arange(len(theirs)), top2[:, 1]]
    our1 = ours.argmax(axis=1)
    agree = our1 == lc1
    confident = lc_margin >= margin
    diff = np.abs(ours - theirs)
    top5_diff = np.take_along_axis(diff, top2, axis=1)
    return dict(n=len(theirs), agree=int(agree.sum()), conf=int(confident.sum()), conf_agree=int((agree & confident).sum()),
                max_diff=float(diff.max()), max_top5=float(top5_diff.max()), mean_diff=float(diff.mean()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--lib", default=str(REPO / "build" / "capi" / "libdianoia.so"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--margin", type=float, default=0.5)
    ap.add_argument("--llamacpp-numerics", action="store_true",
                    help="dianoia with DIANOIA_NUMERICS_LLAMACPP (llama.cpp's AVX2 arithmetic for batches)")
    args = ap.parse_args()
    rows = []
    failed = False
    for model in args.models:
        lc, sysinfo, ver = llamacpp_logits(model, TEXTS, args.threads)
        tot = dict(n=0, agree=0, conf=0, conf_agree=0, max_diff=0.0, max_top5=0.0)
        info = ""
        for name, (toks, theirs) in lc.items():
            flat, info = dianoia_logits(args.lib, model, list(toks), args.threads,
                                       1 if args.llamacpp_numerics else 0)
            n_vocab = theirs.shape[1]
            ours = flat[: len(toks) * n_vocab].reshape(len(toks), n_vocab)
            r = compare(ours, theirs, args.margin)
            for k in ("n", "agree", "conf", "conf_agree"):
                tot[k] += r[k]
            tot["max_diff"] = max(tot["max_diff"], r["max_diff"])
            tot["max_top5"] = max(tot["max_top5"], r["max_top5"])
            print(f"{Path(model).name} {name}: {len(toks)} tokens, top-1 {r['agree']}/{r['n']}, "
                  f"confident {r['conf_agree']}/{r['conf']}, max |diff| {r['max_diff']:.3f} "
                  f"(top-5 {r['max_top5']:.3f}, mean {r['mean_diff']:.4f})", flush=True)
        failed |= tot["conf_agree"] != tot["conf"]
        rows.append((Path(model).name, tot))
    print()
    print(f"llama-cpp-python {ver}: {sysinfo}")
    print(f"dianoia: {info} (DIANOIA_ISA={os.environ.get('DIANOIA_ISA', 'unset')}), {args.threads} threads"
          + (", llama.cpp numerics" if args.llamacpp_numerics else ""))
    print()
    print(f"| model | positions | top-1 agreement | where llama.cpp's margin >= {args.margin} | "
          "max logit diff (all / llama.cpp top 5) |")
    print("|---|---:|---:|---:|---:|")
    for name, t in rows:
        print(f"| {name} | {t['n']} | {t['agree']}/{t['n']} | {t['conf_agree']}/{t['conf']} | "
              f"{t['max_diff']:.3f} / {t['max_top5']:.3f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
