#!/usr/bin/env python3
"""Checks the sampler references of make_sampler_fixtures.py against llama.cpp itself.

Runs the deterministic extended stages of sampler_ext.json (penalties, logit bias, top-n-sigma,
typical, XTC with probability 1, dynamic temperature) through llama.cpp's samplers via
llama-cpp-python's C API, and DRY with the vocabulary of a real GGUF model; writes nothing.

Usage: /work/venv/bin/python tools/check_sampler_llamacpp.py MODEL.gguf
"""
import ctypes
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_sampler_fixtures import breaker_sequences_ref, dry_ref, ext_fixture, f32list, load  # noqa: E402

def check_against_llamacpp(model_path):
    """Runs the deterministic extended stages through llama.cpp's samplers (llama-cpp-python's C API)
    and compares them with the references above: an independent check that the references encode
    llama.cpp's semantics. Orders differ by design (llama.cpp sorts, masks with -inf), so kept sets and
    per-id logits (or probabilities) are compared. DRY runs with the vocabulary of a real GGUF model."""
    import llama_cpp as L

    def run(smpl, raw, hist=()):
        for t in hist:
            L.llama_sampler_accept(smpl, t)
        ids, lg = load(raw)
        arr = (L.llama_token_data * len(ids))(*[L.llama_token_data(int(i), float(l), 0.0) for i, l in zip(ids, lg)])
        a = L.llama_token_data_array(arr, len(ids), -1, False)
        L.llama_sampler_apply(smpl, ctypes.byref(a))
        base = ctypes.addressof(a.data.contents)
        out = {}
        for n in range(a.size):
            td = L.llama_token_data.from_address(base + n * ctypes.sizeof(L.llama_token_data))
            if td.logit != -np.inf:
                out[td.id] = td.logit
        return out

    def ours(ids, lg):
        return {int(i): float(l) for i, l in zip(ids, lg)}

    def probs(d):
        k = sorted(d)
        x = np.array([d[i] for i in k], dtype=np.float64)
        e = np.exp(x - x.max())
        return dict(zip(k, e / e.sum()))

    doc = ext_fixture()
    n_ok = 0
    for c in doc["stages"]:
        if len(c["steps"]) != 1:
            continue
        kind, a = c["steps"][0]
        raw = doc["logits"][c["logits"]]
        raw = [float("-inf") if v == "-inf" else v for v in raw] if isinstance(raw[0], str) else raw
        want = dict(zip(c["ids"], c["stage_logits"]))
        if kind == "penalties":
            got = run(L.llama_sampler_init_penalties(len(raw), a["last_n"], a["repeat"], a["frequency"], a["presence"]), raw, c["history"])
            assert set(got) == set(want) and all(abs(got[i] - want[i]) <= 1e-6 * max(1, abs(want[i])) for i in got), (c, got)
        elif kind == "top_n_sigma":
            got = run(L.llama_sampler_init_top_n_sigma(a["n"]), raw)
            assert set(got) == set(want), (c["steps"], sorted(got), sorted(want))
        elif kind == "typical":
            got = run(L.llama_sampler_init_typical(a["p"], 1), raw)
            assert set(got) == set(want), (c["steps"], sorted(got), sorted(want))
        elif kind == "xtc":
            got = run(L.llama_sampler_init_xtc(a["probability"], a["threshold"], 0, 1), raw)
            assert set(got) == set(want), (c["steps"], sorted(got), sorted(want))
        elif kind == "dyn_temp":
            got = probs(run(L.llama_sampler_init_temp_ext(a["t"], a["range"], a["exponent"]), raw))
            w = probs(want)
            assert set(got) == set(w) and all(abs(got[i] - w[i]) <= 1e-5 for i in got), (c["steps"],)
        elif kind == "logit_bias":
            lb = [L.llama_logit_bias(t, float("-inf") if b == "-inf" else b) for t, b in a["biases"]]
            arr = (L.llama_logit_bias * len(lb))(*lb)
            got = run(L.llama_sampler_init_logit_bias(len(raw), len(lb), arr), raw)
            assert set(got) == set(want) and all(abs(got[i] - want[i]) <= 1e-6 * max(1, abs(want[i])) for i in got), (c, got)
        else:
            continue
        n_ok += 1
    print(f"llama.cpp agrees on {n_ok} single-stage cases")

    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.vocab_only = True
    model = L.llama_model_load_from_file(str(model_path).encode(), mp)
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    buf = ctypes.create_string_buffer(512)
    pieces = []
    for t in range(n_vocab):
        n = L.llama_token_to_piece(vocab, t, buf, 512, 0, True)
        pieces.append(buf.raw[:n])

    def tokenize(text):
        b = text.encode() if isinstance(text, str) else text
        out = (L.llama_token * (len(b) + 8))()
        n = L.llama_tokenize(vocab, b, len(b), out, len(b) + 8, False, False)
        return list(out[:n])

    breakers = ["\n", ":", "\"", "*", "the mat"]
    seqs = breaker_sequences_ref(breakers, pieces, tokenize)
    text = "The cat sat on the mat. The cat sat on a hat:\nThe cat sat on the \"mat\". The cat sat on"
    hist = tokenize(text)
    gen = np.random.default_rng(3)
    raw = f32list(gen.normal(0, 2, n_vocab))
    cases = 0
    for mult, base, allowed, last_n in [(0.8, 1.75, 2, 64), (1.0, 2.0, 1, 16), (0.5, 1.5, 3, 200), (0.8, 1.75, 0, 40)]:
        cb = (ctypes.c_char_p * len(breakers))(*[b.encode() for b in breakers])
        smpl = L.llama_sampler_init_dry(vocab, mult, base, allowed, last_n, cb, len(breakers))
        got = run(smpl, raw, hist)
        ids, lg = load(raw)
        ids, lg = dry_ref(ids, lg, hist, mult, base, allowed, last_n, seqs)
        want = ours(ids, lg)
        changed = sum(1 for i in want if want[i] != raw[i])
        bad = [i for i in want if abs(got[i] - want[i]) > 1e-5 * max(1, abs(want[i]))]
        assert not bad, (mult, base, allowed, last_n, [(i, got[i], want[i]) for i in bad[:5]])
        print(f"DRY ({mult}, {base}, {allowed}, {last_n}): llama.cpp agrees on all {n_vocab} logits ({changed} penalised)")
        cases += 1
    return n_ok + cases


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    check_against_llamacpp(Path(sys.argv[1]).expanduser())
