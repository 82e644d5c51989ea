#!/usr/bin/env python3
"""Writes tests/fixtures/sampler_cases.json and tests/fixtures/sampler_ext.json, the reference results
the sampler tests compare against (the second: logit bias, penalties, DRY, top-n-sigma, typical, XTC,
dynamic temperature, mirostat 2.0 and whole configurable chains).

Written from the sampling semantics (llama.cpp's default chain, see lib/sampling/*.hpp), not from the
C++ code: numpy in float64 on float32 inputs, mirroring only the points where the C++ side rounds to
float32 (stored logits and probabilities), so that results agree to the last bit except for one-ulp
differences between libm's exp/log. Every threshold decision (top-p cut, min-p cut, inverse-CDF
boundary) is asserted to have a margin far larger than that, so the fixtures are not fragile.

Usage: /work/venv/bin/python tools/make_sampler_fixtures.py [output.json [output_ext.json]]
(tools/check_sampler_llamacpp.py runs the same references against llama.cpp's own samplers.)
"""
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sampler_reference import *  # noqa: E402,F401,F403  (the stages, the generator, the sampler)
from sampler_reference import MASK, MARGIN, F32  # noqa: E402


# ---- cases ---------------------------------------------------------------------------------------

def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32)]


# ---- the toy vocabulary for DRY's breakers -----------------------------------------------------------

TOY_PIECES = ["<s>", "a", "b", "c", "d", " the", " cat", "\n", ":", "x:", ":\n", "\"", "*", " *", "e", "f",
              "ab", " sat", "**", "y", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", " b", "cd"]


def toy_tokenize(text):
    """Greedy longest match over the toy pieces (the C++ test looks the results up in the fixture)."""
    out, i = [], 0
    while i < len(text):
        best = max((tid for tid, w in enumerate(TOY_PIECES) if tid > 0 and w and text.startswith(w, i)),
                   key=lambda tid: len(TOY_PIECES[tid]))
        out.append(best)
        i += len(TOY_PIECES[best])
    return out


def ext_fixture():
    gen = np.random.default_rng(20250101)
    logit_sets = {}
    logit_sets["small"] = f32list(gen.normal(0, 1, 10))
    logit_sets["mixed"] = f32list(np.concatenate([gen.normal(1.5, 1.0, 12), -np.abs(gen.normal(1, 1, 12))]))
    logit_sets["toy32"] = f32list(gen.normal(0, 1.5, len(TOY_PIECES)))
    logit_sets["vocab200"] = f32list(gen.normal(0, 3, 200))
    logit_sets["peaked"] = f32list(np.concatenate([[6.0, 5.6, 5.1, 4.0], gen.normal(0, 1, 28)]))
    logit_sets["flatish"] = f32list(gen.normal(0, 0.3, 16))
    masked = gen.normal(0, 1, 12).astype(np.float32)
    masked[[1, 6]] = -np.inf
    logit_sets["masked"] = [float(v) for v in masked]

    tok_table = {}

    def tokenize(text):
        ids = toy_tokenize(text)
        tok_table[text] = ids
        return ids

    vocab = {"pieces": TOY_PIECES, "tokenize": tokenize}
    doc = {"generator": "tools/make_sampler_fixtures.py (ext)", "logits": logit_sets, "pieces": TOY_PIECES}

    breakers = ["\n", ":", "\"", "*", "bcd"]
    doc["breakers"] = {"strings": breakers,
                       "sequences": sorted([[h, list(t)] for h, t in breaker_sequences_ref(breakers, TOY_PIECES, tokenize)])}

    # Single stages (and short hand-made chains) on fixed logits and a given history.
    H1 = [1, 2, 3, 1, 2, 3, 1, 2]            # a b c a b c a b: "c" would extend a 5-token repeat
    H2 = [5, 6, 17, 7, 5, 6, 17, 8, 5, 6]     # broken by "\\n" and ":"
    H3 = [14, 15, 16, 3, 4, 19, 14, 15, 16, 3]  # "ab" then "c": part of breaker "bcd"
    H4 = [20, 21] * 70                         # long repeat: the exponent clamp
    H5 = [1, 2, 1, 2, 12, 1, 2, 1]            # "*" (single-token breaker) inside
    H6 = [14, 15, 16, 31, 14, 15, 16, 31, 14, 15]  # "ab" "cd": the two-token breaker "bcd" limits the repeat
    stage_cases = [
        ("small", [], [["logit_bias", {"biases": [[3, 2.5], [7, -1.25], [3, 0.5], [0, -np.inf]]}]]),
        ("masked", [], [["logit_bias", {"biases": [[6, 5.0], [2, 3.0], [11, -np.inf], [400, 1.0]]}]]),
        ("small", [], [["top_k", 4], ["logit_bias", {"biases": [[9, 10.0], [1, -np.inf]]}]]),
        ("mixed", [0, 3, 3, 14, 20, 3, 23], [["penalties", {"last_n": 64, "repeat": 1.3, "frequency": 0.0, "presence": 0.0}]]),
        ("mixed", [0, 3, 3, 14, 20, 3, 23], [["penalties", {"last_n": 64, "repeat": 1.1, "frequency": 0.25, "presence": 0.5}]]),
        ("mixed", [0, 3, 3, 14, 20, 3, 23], [["penalties", {"last_n": 3, "repeat": 1.5, "frequency": 0.1, "presence": 0.0}]]),
        ("mixed", [13, 13, 13, 2, 22], [["penalties", {"last_n": 4, "repeat": 0.8, "frequency": -0.5, "presence": 0.3}]]),
        ("toy32", H1, [["dry", {"multiplier": 0.8, "base": 1.75, "allowed_length": 2, "last_n": 64}]]),
        ("toy32", H1, [["dry", {"multiplier": 0.8, "base": 1.75, "allowed_length": 0, "last_n": 64}]]),
        ("toy32", H1, [["dry", {"multiplier": 1.0, "base": 2.0, "allowed_length": 1, "last_n": 5}]]),
        ("toy32", H2, [["dry", {"multiplier": 0.8, "base": 1.75, "allowed_length": 2, "last_n": 64}]]),
        ("toy32", H2, [["dry", {"multiplier": 0.8, "base": 1.75, "allowed_length": 1, "last_n": 4}]]),
        ("toy32", H3, [["dry", {"multiplier": 0.5, "base": 3.0, "allowed_length": 1, "last_n": 64}]]),
        ("toy32", H4, [["dry", {"multiplier": 0.001, "base": 4.0, "allowed_length": 2, "last_n": 1000}]]),
        ("toy32", H4, [["dry", {"multiplier": 0.3, "base": 1.0, "allowed_length": 3, "last_n": 1000}]]),
        ("toy32", H5, [["dry", {"multiplier": 0.8, "base": 1.75, "allowed_length": 1, "last_n": 64}]]),
        ("toy32", H6, [["dry", {"multiplier": 0.8, "base": 1.75, "allowed_length": 1, "last_n": 64}]]),
        ("toy32", H6, [["dry", {"multiplier": 0.8, "base": 1.75, "allowed_length": 2, "last_n": 64}]]),
        ("small", [], [["top_n_sigma", {"n": 1.0}]]),
        ("vocab200", [], [["top_n_sigma", {"n": 1.5}]]),
        ("peaked", [], [["top_n_sigma", {"n": 0.5}]]),
        ("small", [], [["typical", {"p": 0.5}]]),
        ("small", [], [["typical", {"p": 0.9}]]),
        ("vocab200", [], [["typical", {"p": 0.7}]]),
        ("peaked", [], [["typical", {"p": 0.2}]]),
        ("small", [], [["typical", {"p": 0.0}]]),
        ("peaked", [], [["xtc", {"probability": 1.0, "threshold": 0.1}]]),
        ("peaked", [], [["xtc", {"probability": 1.0, "threshold": 0.3}]]),
        ("peaked", [], [["xtc", {"probability": 1.0, "threshold": 0.0}]]),
        ("small", [], [["xtc", {"probability": 1.0, "threshold": 0.05}]]),
        ("small", [], [["dyn_temp", {"t": 0.8, "range": 0.5, "exponent": 1.0}]]),
        ("vocab200", [], [["dyn_temp", {"t": 1.0, "range": 0.7, "exponent": 2.0}]]),
        ("peaked", [], [["dyn_temp", {"t": 0.3, "range": 0.5, "exponent": 0.5}]]),
        ("flatish", [], [["dyn_temp", {"t": 0.2, "range": 0.2, "exponent": 30.0}]]),
        ("vocab200", [], [["top_k", 30], ["typical", {"p": 0.8}], ["min_p", {"p": 0.05}]]),
        ("vocab200", [], [["top_n_sigma", {"n": 2.0}], ["xtc", {"probability": 1.0, "threshold": 0.02}], ["temperature", 0.7]]),
    ]
    doc["stages"] = []
    for name, hist, steps in stage_cases:
        raw = logit_sets[name]
        ids, lg = load(raw)
        near = Near()
        rng = Rng(11)
        extra = {}
        for kind, a in steps:
            if kind == "logit_bias":
                ids, lg = logit_bias_ref(ids, lg, a["biases"], len(raw))
            elif kind == "penalties":
                ids, lg = penalties_ref(ids, lg, hist, a["last_n"], a["repeat"], a["frequency"], a["presence"])
            elif kind == "dry":
                br = breaker_sequences_ref(breakers, TOY_PIECES, tokenize)
                ids, lg = dry_ref(ids, lg, hist, a["multiplier"], a["base"], a["allowed_length"], a["last_n"], br)
            elif kind == "top_n_sigma":
                ids, lg = top_n_sigma_ref(ids, lg, a["n"], near)
            elif kind == "typical":
                ids, lg = typical_ref(ids, lg, a["p"], near)
            elif kind == "xtc":
                ids, lg = xtc_ref(ids, lg, a["probability"], a["threshold"], rng, near)
            elif kind == "dyn_temp":
                ids, lg, dt = dyn_temp_ref(ids, lg, a["t"], a["range"], a["exponent"])
                extra["dyn_temperature"] = dt
            elif kind == "min_p":
                ids, lg, _ = min_p(ids, lg, False, a["p"])
            elif kind in STAGES:
                ids, lg, _ = STAGES[kind](ids, lg, False, a)
            else:
                raise ValueError(kind)
        assert near.min > MARGIN, f"stage case too close to a threshold: {name} {steps} ({near.min})"
        case = {"logits": name, "history": hist, "steps": jsonable(steps), "rng_seed": 11,
                "ids": [int(i) for i in ids], "stage_logits": f32list(lg)}
        case.update(extra)
        doc["stages"].append(case)

    # Whole samplers: distribution after a history, a seeded sequence with every token accepted, and
    # (for the random ones) the distribution the chi-squared test compares 10^5 draws against.
    chains = [
        ("mixed", [3, 3, 14, 0], dict(repeat_penalty=1.5, frequency_penalty=0.2, presence_penalty=0.3, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)),
        ("mixed", [3, 3, 14, 0], dict(repeat_penalty=1.5, presence_penalty=2.0, temperature=0.0)),
        ("small", [], dict(logit_bias=[[4, 3.0], [2, -np.inf]], temperature=0.0)),
        ("small", [], dict(logit_bias=[[4, 1.0], [2, -np.inf]], temperature=0.9)),
        ("toy32", [1, 2, 3, 1, 2], dict(dry_multiplier=2.0, dry_allowed_length=1, temperature=0.0)),
        ("toy32", [1, 2, 3, 1, 2], dict(dry_multiplier=0.8, dry_allowed_length=2, temperature=1.0, top_k=0, min_p=0.0)),
        ("vocab200", [], dict(typical_p=0.6, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)),
        ("vocab200", [], dict(top_n_sigma=1.0, temperature=1.5, top_k=0, top_p=1.0, min_p=0.0)),
        ("peaked", [], dict(xtc_probability=0.5, xtc_threshold=0.1, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)),
        ("peaked", [], dict(xtc_probability=0.5, xtc_threshold=0.1, temperature=0.0)),
        ("vocab200", [], dict(dynatemp_range=0.5, dynatemp_exponent=1.0, temperature=1.0, top_k=20, top_p=1.0, min_p=0.0)),
        ("vocab200", [], dict(mirostat=2, mirostat_tau=3.0, mirostat_eta=0.1, temperature=1.0)),
        ("peaked", [], dict(mirostat=2, mirostat_tau=1.5, mirostat_eta=0.2, temperature=0.8)),
        ("vocab200", [], dict(order=["min_p", "top_k", "temperature"], top_k=12, min_p=0.02, top_p=0.5, temperature=0.7)),
        ("vocab200", [], dict(order=["temperature", "top_p"], top_k=12, top_p=0.8, temperature=1.3)),
        ("vocab200", [7, 7, 9], dict(order=["typical_p", "top_k", "penalties"], typical_p=0.5, top_k=5, repeat_penalty=2.0, temperature=0.0)),
        ("mixed", [], dict(repeat_penalty=1.4, penalty_last_n=4, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)),
    ]
    doc["chains"] = []
    for name, hist, params in chains:
        raw = logit_sets[name]
        seed = 5
        while True:
            near = Near()
            s = Sampler(dict(params, seed=seed), vocab)
            s.hist = list(hist)
            ids, pr = s.distribution(raw, near)
            stages = s.names()
            seq = [s.sample(raw, near) for _ in range(24)]
            if near.min > MARGIN:
                break
            seed += 1
        # First-step distribution for the chi-squared test: mixture over XTC's coin for XTC chains.
        s0 = Sampler(dict(params, seed=seed), vocab)
        s0.hist = list(hist)
        expect = first_step_distribution(s0, raw)
        doc["chains"].append({
            "logits": name, "history": hist, "params": jsonable(params), "seed": seed, "stages": stages,
            "ids": [int(i) for i in ids], "probs": f32list(pr), "sequence": seq,
            "expected": [[int(i), float(q)] for i, q in expect],
        })
    doc["tokenize"] = [[k, v] for k, v in sorted(tok_table.items())]

    # Log-probabilities: the full-vocabulary log-softmax of the raw row, in float64.
    doc["logprobs"] = []
    for name, chosen, n_top in [("small", 3, 5), ("vocab200", 17, 8), ("masked", 2, 20), ("peaked", 0, 1), ("masked", 1, 3)]:
        x = np.array(logit_sets[name], dtype=np.float64)
        fin = np.isfinite(x)
        m = x[fin].max()
        lse = m + math.log(float(np.sum(np.exp(x[fin] - m))))
        lp = np.where(fin, x - lse, -np.inf)
        top = sorted([i for i in range(len(x)) if fin[i]], key=lambda i: (-lp[i], i))[:n_top]
        doc["logprobs"].append({"logits": name, "chosen": chosen, "n_top": n_top,
                                "chosen_logprob": jsonable(float(lp[chosen])),
                                "top": [[i, float(lp[i])] for i in top]})
    return doc


def first_step_distribution(s, raw):
    """P(first sampled id), averaging XTC's coin exactly (prob q: acts; else not)."""
    if s.pick_kind == "greedy":
        return []
    has_xtc = any(k == "xtc" for k, _ in s.stages)
    out = {}

    class Fixed:
        def __init__(self, u):
            self.u = u

        def uniform(self):
            return self.u

    q = float(F32(s.p["xtc_probability"]))
    for weight, u in ([(q, 0.0), (1 - q, 0.999999)] if has_xtc else [(1.0, 0.0)]):
        ids, lg = s.run(raw, Fixed(u), Near())
        if s.pick_kind == "mirostat":
            ids, lg = mirostat_narrow_ref(ids, lg, s.miro.mu, Near())
        pr = softmax(lg).astype(np.float64)
        pr /= pr.sum()
        for i, p_ in zip(ids, pr):
            out[int(i)] = out.get(int(i), 0.0) + weight * float(p_)
    return sorted(out.items())


def jsonable(x):
    if isinstance(x, float) and math.isinf(x):
        return "-inf" if x < 0 else "inf"
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    return x



def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "tests/fixtures/sampler_cases.json"
    gen = np.random.default_rng(20240607)

    logit_sets = {}
    logit_sets["small"] = f32list(gen.normal(0, 1, 10))
    ties = gen.normal(0, 1.5, 16).astype(np.float32)
    ties[[3, 7, 11]] = ties[5]            # a four-way tie, somewhere in the middle
    ties[[2, 9]] = ties.max() + 1.0       # a two-way tie at the top
    logit_sets["ties"] = f32list(ties)
    logit_sets["peaked"] = f32list(np.concatenate([[8.0, 6.5, 6.0], gen.normal(0, 1, 29)]))
    logit_sets["vocab200"] = f32list(gen.normal(0, 3, 200))
    masked = gen.normal(0, 1, 12).astype(np.float32)
    masked[[0, 4, 5]] = -np.inf
    masked[8] = np.nan
    logit_sets["masked"] = [float(v) for v in masked]
    logit_sets["flat"] = f32list(np.linspace(-0.5, 0.5, 8))

    doc = {"generator": "tools/make_sampler_fixtures.py", "logits": logit_sets}

    seeds = [0, 1, 42, 0xDEADBEEF, MASK, 0x0123456789ABCDEF]
    doc["rng"] = []
    for s in seeds:
        r = Rng(s)
        nxt = [r.next() for _ in range(8)]
        r = Rng(s)
        uni = [r.uniform() for _ in range(4)]
        doc["rng"].append({"seed": f"{s:016x}", "next": [f"{x:016x}" for x in nxt], "uniform": uni})

    stage_cases = [
        ("small", [["top_k", 3]]),
        ("small", [["top_k", 1]]),
        ("small", [["top_k", 10]]),
        ("small", [["top_k", 50]]),
        ("ties", [["top_k", 2]]),
        ("ties", [["top_k", 1]]),
        ("ties", [["top_k", 6]]),
        ("ties", [["top_k", 5]]),
        ("small", [["top_p", 0.5]]),
        ("small", [["top_p", 0.9]]),
        ("small", [["top_p", 0.0]]),
        ("vocab200", [["top_p", 0.8]]),
        ("vocab200", [["top_p", 0.3]]),
        ("peaked", [["top_p", 0.7]]),
        ("small", [["min_p", 0.1]]),
        ("small", [["min_p", 0.5]]),
        ("small", [["min_p", 1.0]]),
        ("vocab200", [["min_p", 0.05]]),
        ("ties", [["min_p", 0.2]]),
        ("small", [["temperature", 0.5]]),
        ("small", [["temperature", 2.0]]),
        ("small", [["temperature", 1e-3]]),
        ("masked", [["min_p", 0.3]]),
        ("masked", [["top_k", 4]]),
        ("vocab200", [["top_k", 40], ["top_p", 0.9], ["min_p", 0.05], ["temperature", 0.8]]),
        ("vocab200", [["min_p", 0.01], ["top_k", 7]]),
        ("ties", [["top_k", 10], ["top_p", 0.6]]),
    ]
    doc["stages"] = []
    for name, steps in stage_cases:
        ids, lg = load(logit_sets[name])
        srt = False
        for st, arg in steps:
            ids, lg, srt = STAGES[st](ids, lg, srt, arg)
        doc["stages"].append({
            "logits": name, "steps": steps, "ids": [int(i) for i in ids], "sorted": srt,
            "stage_logits": f32list(lg), "probs": f32list(softmax(lg)),
        })

    chain_params = [
        ("small", dict(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05)),
        ("small", dict(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)),
        ("small", dict(temperature=1.5, top_k=5, top_p=1.0, min_p=0.0)),
        ("ties", dict(temperature=0.7, top_k=6, top_p=0.9, min_p=0.0)),
        ("vocab200", dict(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05)),
        ("vocab200", dict(temperature=1.2, top_k=0, top_p=0.9, min_p=0.02)),
        ("vocab200", dict(temperature=2.0, top_k=0, top_p=1.0, min_p=0.0)),
        ("peaked", dict(temperature=0.6, top_k=20, top_p=1.0, min_p=0.1)),
        ("masked", dict(temperature=1.0, top_k=0, top_p=0.99, min_p=0.0)),
        ("flat", dict(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)),
    ]
    doc["chains"] = []
    for name, params in chain_params:
        ids, pr = chain(logit_sets[name], params)
        us = [0.0, 1.0 - 2.0 ** -53]
        while len(us) < 24:
            u = float(gen.random())
            if u_is_safe(pr, u):
                us.append(u)
        # Full pipeline through the real generator: find a seed whose first draws are all safe.
        seed = 7
        while True:
            r = Rng(seed)
            draws = [r.uniform() for _ in range(32)]
            if all(u_is_safe(pr, u) for u in draws):
                break
            seed += 1
        doc["chains"].append({
            "logits": name, "params": params, "ids": [int(i) for i in ids], "probs": f32list(pr),
            "picks": [[u, int(ids[pick(pr, u)])] for u in us],
            "seed": seed, "sequence": [int(ids[pick(pr, u)]) for u in draws],
            "greedy": greedy(logit_sets[name]),
        })

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out}")

    out_ext = Path(sys.argv[2]) if len(sys.argv) > 2 else out.parent / "sampler_ext.json"
    out_ext.write_text(json.dumps(ext_fixture(), indent=1) + "\n")
    print(f"wrote {out_ext}")


if __name__ == "__main__":
    main()
