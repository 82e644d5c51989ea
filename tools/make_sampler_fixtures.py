#!/usr/bin/env python3
"""Writes tests/fixtures/sampler_cases.json, the reference results the sampler tests compare against.

Written from the sampling semantics (llama.cpp's default chain, see lib/sampling/*.hpp), not from the
C++ code: numpy in float64 on float32 inputs, mirroring only the points where the C++ side rounds to
float32 (stored logits and probabilities), so that results agree to the last bit except for one-ulp
differences between libm's exp/log. Every threshold decision (top-p cut, min-p cut, inverse-CDF
boundary) is asserted to have a margin far larger than that, so the fixtures are not fragile.

Usage: /work/venv/bin/python tools/make_sampler_fixtures.py [output.json]
"""
import json
import math
import sys
from pathlib import Path

import numpy as np

MASK = (1 << 64) - 1
MARGIN = 1e-5        # for decisions on cumulative probabilities and logit thresholds
U_MARGIN = 1e-6      # for inverse-CDF boundaries


# ---- generator: splitmix64-seeded xoshiro256** ------------------------------------------------------

class Rng:
    def __init__(self, seed):
        st = seed & MASK
        self.s = []
        for _ in range(4):
            st = (st + 0x9E3779B97F4A7C15) & MASK
            z = st
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53


# ---- reference stages ----------------------------------------------------------------------------
# A candidate list is (ids, logits) with logits float32; `srt` tells whether it is in candidate order.

def load(raw):
    raw = np.asarray(raw, dtype=np.float32)
    ids = [i for i, l in enumerate(raw) if not (math.isnan(l) or l == -math.inf)]
    if any(raw[i] == math.inf for i in ids):
        ids = [i for i in ids if raw[i] == math.inf]
        return np.array(ids, dtype=np.int64), np.zeros(len(ids), dtype=np.float32)
    assert ids, "no finite logit"
    return np.array(ids, dtype=np.int64), raw[ids].copy()


def order(ids, lg):
    return sorted(range(len(ids)), key=lambda i: (-float(lg[i]), int(ids[i])))


def softmax(lg):
    x = lg.astype(np.float64)
    e = np.exp(x - x.max())
    s = 0.0
    for v in e:  # sequential, as the C++ loop
        s += v
    # The C++ side parks exp() in the float p field before dividing.
    return (e.astype(np.float32).astype(np.float64) / s).astype(np.float32)


def top_k(ids, lg, srt, k):
    o = order(ids, lg)[:k]
    return ids[o], lg[o], True


def top_p(ids, lg, srt, p):
    p = float(np.float32(p))
    pr = softmax(lg)
    o = order(ids, lg)
    cum = 0.0
    cut = len(o)
    for n, i in enumerate(o):
        cum += float(pr[i])
        assert abs(cum - p) > MARGIN, f"top_p decision too close: cum {cum} vs {p}"
        if cum >= p:
            cut = n + 1
            break
    o = o[:cut]
    return ids[o], lg[o], True


def min_p(ids, lg, srt, mp):
    thr = float(lg.max()) + math.log(float(np.float32(mp)))
    for l in lg:  # the best logits pass exactly (log(min_p) <= 0), whatever the margin
        assert l == lg.max() or abs(float(l) - thr) > MARGIN, "min_p decision too close"
    keep = [i for i in range(len(ids)) if float(lg[i]) >= thr]
    return ids[keep], lg[keep], srt


def temperature(ids, lg, srt, t):
    t = float(np.float32(t))
    x = lg.astype(np.float64)
    return ids, ((x - x.max()) / t).astype(np.float32), srt


STAGES = {"top_k": top_k, "top_p": top_p, "min_p": min_p, "temperature": temperature}


def pick(pr, u):
    total = float(np.sum(pr.astype(np.float64)))
    target = u * total
    cum = 0.0
    for i, p in enumerate(pr):
        cum += float(p)
        if target < cum:
            return i
    return max(i for i, p in enumerate(pr) if p > 0)


def u_is_safe(pr, u):
    total = float(np.sum(pr.astype(np.float64)))
    bounds = np.cumsum(pr.astype(np.float64)) / total
    return all(abs(u - b) > U_MARGIN for b in bounds[:-1])


def chain(raw, params):
    """The distribution the random pick draws from, as (ids, probs), for sampler_params."""
    ids, lg = load(raw)
    srt = False
    if params["top_k"] > 0:
        ids, lg, srt = top_k(ids, lg, srt, params["top_k"])
    if params["top_p"] < 1:
        ids, lg, srt = top_p(ids, lg, srt, params["top_p"])
    if params["min_p"] > 0:
        ids, lg, srt = min_p(ids, lg, srt, params["min_p"])
    ids, lg, srt = temperature(ids, lg, srt, params["temperature"])
    return ids, softmax(lg)


def greedy(raw):
    ids, lg = load(raw)
    return int(ids[order(ids, lg)[0]])


# ---- cases ---------------------------------------------------------------------------------------

def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32)]


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


if __name__ == "__main__":
    main()
