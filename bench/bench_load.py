#!/usr/bin/env python3
"""Model load time: dianoia_model_load (and + a 512-token session) against llama.cpp's
Llama(model_path, n_ctx=512, use_mmap=True) on the same GGUF files, page cache warm and cold.

Every measurement is a fresh subprocess that imports its engine first and then times only the load
(Python start-up and library loading are excluded). Rounds are interleaved between engines; the table
shows medians. Cold: posix_fadvise(POSIX_FADV_DONTNEED) on the file before the measurement, so its pages
come from disk. Make the files with tools/make_bench_models.py.

Usage:
  /work/venv/bin/python bench/bench_load.py --lib build/capi/libdianoia.so \
      --models /work/bench-models/load-100m.gguf /work/bench-models/load-1g.gguf --rounds 5 [--md-out FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

DIANOIA_SNIPPET = r"""
import ctypes, json, sys, time
lib = ctypes.CDLL(sys.argv[1])
lib.dianoia_model_load.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
lib.dianoia_session_create.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
lib.dianoia_model_free.argtypes = [ctypes.c_void_p]
lib.dianoia_session_free.argtypes = [ctypes.c_void_p]
lib.dianoia_last_error.restype = ctypes.c_char_p
m, s = ctypes.c_void_p(), ctypes.c_void_p()
t0 = time.perf_counter()
if lib.dianoia_model_load(sys.argv[2].encode(), None, ctypes.byref(m)) != 0:
    sys.exit(lib.dianoia_last_error().decode())
t1 = time.perf_counter()
if lib.dianoia_session_create(m, None, ctypes.byref(s)) != 0:
    sys.exit(lib.dianoia_last_error().decode())
t2 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "ready": t2 - t0}))
lib.dianoia_session_free(s)
lib.dianoia_model_free(m)
"""

LLAMA_SNIPPET = r"""
import json, sys, time
from llama_cpp import Llama
t0 = time.perf_counter()
llm = Llama(model_path=sys.argv[1], n_ctx=512, use_mmap=True, n_threads=2, verbose=False)
t1 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "ready": t1 - t0}))
"""


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def warm_cache(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def run(cmd):
    env = dict(os.environ, OMP_NUM_THREADS="2")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True, help="libdianoia.so")
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--python", default=sys.executable, help="interpreter for dianoia (ctypes)")
    ap.add_argument("--llama-python", default="/work/venv-avx2/bin/python", help="interpreter with llama-cpp-python")
    ap.add_argument("--md-out")
    args = ap.parse_args()

    engines = {
        "dianoia": lambda m: [args.python, "-c", DIANOIA_SNIPPET, os.path.abspath(args.lib), m],
        "llama.cpp": lambda m: [args.llama_python, "-c", LLAMA_SNIPPET, m],
    }
    results = {}  # (model, cache, engine) -> list of dicts
    for r in range(args.rounds):
        for model in args.models:
            for cache in ("warm", "cold"):
                order = list(engines) if r % 2 == 0 else list(reversed(engines))
                for eng in order:
                    if cache == "cold":
                        drop_cache(model)
                    else:
                        warm_cache(model)
                    res = run(engines[eng](model))
                    results.setdefault((model, cache, eng), []).append(res)
                    print(f"round {r} {os.path.basename(model)} {cache} {eng}: {res}", file=sys.stderr)

    lines = ["| model | size | cache | dianoia load (ms) | dianoia load + 512-token session (ms) | llama.cpp Llama(n_ctx=512) (ms) |",
             "|---|---:|---|---:|---:|---:|"]
    for model in args.models:
        size = os.path.getsize(model) / 1e6
        for cache in ("warm", "cold"):
            d = results[(model, cache, "dianoia")]
            l = results[(model, cache, "llama.cpp")]
            med = lambda rs, k: statistics.median(x[k] for x in rs) * 1000
            lines.append(f"| {os.path.basename(model)} | {size:.0f} MB | {cache} | {med(d, 'load'):.1f} | "
                         f"{med(d, 'ready'):.1f} | {med(l, 'load'):.1f} |")
    table = "\n".join(lines)
    print(table)
    if args.md_out:
        with open(args.md_out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
