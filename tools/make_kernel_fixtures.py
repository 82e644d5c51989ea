#!/usr/bin/env python3
"""Reference fixtures for the weight types of lib/kernels (BF16, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K).

For each type: random weights are quantized (gguf-py's gguf.quants.quantize where it implements the type,
else llama.cpp's own ggml_quantize_chunk), then decoded by gguf.quants.dequantize (an independent numpy
implementation). Activation rows are converted to the type's dot format by llama.cpp's CPU from_float and
multiplied by its CPU vec_dot, both taken from a llama-cpp-python build's libggml-cpu through ctypes: with
the AVX2-only build (see tools/README.md) those are exactly the AVX2 kernels dianoia reproduces.

Writes tests/fixtures/kernels_quant_types.json. Floats are stored as the hex of their little-endian bytes
so that the tests compare bit patterns.
"""
import argparse
import ctypes
import json
import os
import platform

import numpy as np
import gguf
import llama_cpp
from gguf import GGMLQuantizationType as T

TYPES = [T.BF16, T.Q5_0, T.Q5_1, T.Q4_K, T.Q5_K, T.Q6_K]
GGUF_QUANTIZES = {T.BF16, T.Q5_0, T.Q5_1}


class TraitsCPU(ctypes.Structure):
    _fields_ = [("from_float", ctypes.c_void_p), ("vec_dot", ctypes.c_void_p), ("vec_dot_type", ctypes.c_int),
                ("nrows", ctypes.c_int64)]


FROM_FLOAT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
VEC_DOT = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t, ctypes.c_void_p,
                           ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)


def load_ggml():
    libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
    base = ctypes.CDLL(os.path.join(libdir, "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
    cpu = ctypes.CDLL(os.path.join(libdir, "libggml-cpu.so"), mode=ctypes.RTLD_GLOBAL)
    cpu.ggml_cpu_init.restype = None
    cpu.ggml_cpu_init()
    cpu.ggml_get_type_traits_cpu.restype = ctypes.POINTER(TraitsCPU)
    cpu.ggml_get_type_traits_cpu.argtypes = [ctypes.c_int]
    base.ggml_quantize_chunk.restype = ctypes.c_size_t
    base.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                         ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    base.ggml_row_size.restype = ctypes.c_size_t
    base.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
    return base, cpu


def hexf(a: np.ndarray) -> str:
    return np.ascontiguousarray(a, dtype=np.float32).tobytes().hex()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                                                  "kernels_quant_types.json"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    base, cpu = load_ggml()
    rng = np.random.default_rng(args.seed)
    k, rows = 512, 2
    out = {"source": {"llama_cpp_python": llama_cpp.__version__, "gguf": getattr(gguf, "__version__", "?"),
                      "numpy": np.__version__, "machine": platform.machine(),
                      "system_info": llama_cpp.llama_print_system_info().decode()},
           "k": k, "rows": rows, "types": []}

    # Activation rows: normal; with an all-zero 256-block and an outlier; with exact halves after scaling.
    acts = [rng.normal(0, 1, k).astype(np.float32)]
    x = rng.normal(0, 0.3, k).astype(np.float32)
    x[:256] = 0
    x[300] = -9.5
    acts.append(x)
    x = (rng.integers(-127, 128, k).astype(np.float32) + 0.5) / 8.0
    x[0] = 127.0 / 8.0
    acts.append(x.astype(np.float32))
    out["activations"] = [hexf(a) for a in acts]

    for t in TYPES:
        w = (rng.normal(0, 0.05, (rows, k)) * (1 + 3 * rng.random((rows, 1)))).astype(np.float32)
        if t in GGUF_QUANTIZES:
            raw = gguf.quants.quantize(w, t)
            how = "gguf.quants.quantize"
        else:
            rb = base.ggml_row_size(int(t), k)
            raw = np.zeros((rows, rb), dtype=np.uint8)
            base.ggml_quantize_chunk(int(t), w.ctypes.data, raw.ctypes.data, 0, rows, k, None)
            how = "llama.cpp ggml_quantize_chunk"
        raw = np.ascontiguousarray(raw).view(np.uint8).reshape(rows, -1)
        deq = gguf.quants.dequantize(raw, t).reshape(rows, k).astype(np.float32)

        tr = cpu.ggml_get_type_traits_cpu(int(t)).contents
        vec_dot = VEC_DOT(tr.vec_dot)
        at = tr.vec_dot_type
        # Activations are converted by the from_float of the *activation* type (Q8_0, Q8_1, Q8_K, BF16).
        from_float = FROM_FLOAT(cpu.ggml_get_type_traits_cpu(at).contents.from_float)
        arb = base.ggml_row_size(at, k)
        cases = []
        for a in acts:
            q = np.zeros(arb, dtype=np.uint8)
            from_float(a.ctypes.data, q.ctypes.data, k)
            dots = []
            for r in range(rows):
                s = ctypes.c_float()
                vec_dot(k, ctypes.byref(s), 0, raw[r].ctypes.data, 0, q.ctypes.data, 0, 1)
                dots.append(hexf(np.array([s.value], dtype=np.float32)))
            cases.append({"act_bytes": q.tobytes().hex(), "dots": dots})
        out["types"].append({"type": t.name, "id": int(t), "quantized_by": how,
                             "act_type": gguf.GGMLQuantizationType(at).name,
                             "weights": [raw[r].tobytes().hex() for r in range(rows)],
                             "dequantized": [hexf(deq[r]) for r in range(rows)],
                             "cases": cases})
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", args.out, os.path.getsize(args.out), "bytes")


if __name__ == "__main__":
    main()
