"""Reference implementations of the sampler stages for tools/make_sampler_fixtures.py: numpy restatements
of the semantics documented in lib/sampling/*.hpp (llama.cpp's samplers), written independently of the C++
code. float64 on float32 inputs, rounding to float32 only where the C++ side stores a float.
"""
import math

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


# ---- extended stages (sampler_ext.json) -----------------------------------------------------------
# Each stage takes and returns (ids, logits) as numpy arrays (int64, float32) in array order. Stages that
# draw take the Rng. `near` collects how close each threshold decision came, so that a case whose
# outcome could flip under one-ulp libm differences is rejected rather than committed.

F32 = np.float32


class Near:
    def __init__(self):
        self.min = math.inf

    def gap(self, a, b):
        self.min = min(self.min, abs(float(a) - float(b)))

    def order(self, a, b):  # an ordering decision: only libm's last bits could flip it
        if abs(float(a) - float(b)) < 1e-9:
            self.min = 0.0


def cand_order(ids, lg):
    return order(ids, lg)


def logit_bias_ref(ids, lg, biases, n_vocab):
    total = {}
    for tok, b in biases:  # several entries for one id add up, in float32, in the order given
        total[tok] = F32(total[tok] + F32(b)) if tok in total else F32(b)
    keep_ids, keep_lg = [], []
    for i, l in zip(ids, lg):
        b = total.get(int(i))
        if b is not None and b == -np.inf:
            continue
        keep_ids.append(int(i))
        keep_lg.append(F32(l + b) if b is not None else l)
    assert keep_ids, "bias bans everything"
    return np.array(keep_ids, dtype=np.int64), np.array(keep_lg, dtype=np.float32)


def penalties_ref(ids, lg, hist, last_n, rep, freq, pres):
    window = hist[-last_n:] if last_n < len(hist) else hist
    counts = {}
    for t in window:
        counts[t] = counts.get(t, 0) + 1
    rep, freq, pres = F32(rep), F32(freq), F32(pres)
    out = lg.copy()
    for n, i in enumerate(ids):
        k = counts.get(int(i), 0)
        if k == 0:
            continue
        l = out[n]
        l = F32(l * rep) if l <= 0 else F32(l / rep)
        l = F32(l - F32(F32(k) * freq + pres))
        out[n] = l
    return ids, out


def breaker_sequences_ref(breakers, pieces, tokenize):
    """llama.cpp's get_overlapping_token_sequences, restated: (head, tail) pairs."""
    out = []
    for b in breakers:
        b = b.encode()[:40]
        if not b:
            continue
        for tid, w in enumerate(pieces):
            w = w if isinstance(w, bytes) else w.encode()
            if b in w:
                seq = (tid, ())
                if seq not in out:
                    out.append(seq)
                continue
            for pos in range(len(w)):
                if w[pos] != b[0]:
                    continue
                k = min(len(b), len(w) - pos)
                if w[pos:pos + k] != b[:k]:
                    continue
                tail = tuple(tokenize(b[k:].decode())[:20])
                if (tid, tail) not in out:
                    out.append((tid, tail))
    return out


def dry_ref(ids, lg, hist, mult, base, allowed, last_n, breakers):
    h = hist[-last_n:] if last_n < len(hist) else list(hist)
    n = len(h)
    if n <= allowed:
        return ids, lg
    r = h[::-1]  # r[i]: the i-th latest token
    rep_limit = n
    for i in range(n):
        longest = -1
        for head, tail in breakers:
            if head != r[i] or len(tail) > i or len(tail) <= longest:
                continue
            if all(tail[o] == r[i - o - 1] for o in range(len(tail))):
                longest = len(tail)
        if longest >= 0:
            rep_limit = i - longest
            break
    if rep_limit < allowed:
        return ids, lg
    best = {}
    for k in range(1, n):  # naive longest common suffix (the C++ side uses the Z-algorithm)
        z = 0
        while k + z < n and r[z] == r[k + z]:
            z += 1
        length = min(z, rep_limit)
        if length >= allowed:
            tok = r[k - 1]
            best[tok] = max(best.get(tok, -1), length)
    single = {head for head, tail in breakers if not tail}
    base32, mult32 = F32(base), F32(mult)
    max_exp = int(F32(88.7228391) / F32(np.log(base32))) if base32 > F32(1.000001) else 0
    out = lg.copy()
    for n_, i in enumerate(ids):
        i = int(i)
        if i not in best or i in single:
            continue
        e = best[i] - allowed
        if max_exp > 0 and e > max_exp:
            e = max_exp
        pen = F32(float(mult32) * float(base32) ** e)
        out[n_] = F32(out[n_] - pen)
    return ids, out


def top_n_sigma_ref(ids, lg, nsig, near):
    if len(ids) <= 1:
        return ids, lg
    x = lg.astype(np.float64)
    mean = sum(float(v) for v in x) / len(x)
    acc = sum((float(v) - mean) ** 2 for v in x)
    thr = float(x.max()) - float(F32(nsig)) * math.sqrt(acc / len(x))
    for v in x:
        if v != x.max():
            near.gap(v, thr)
    keep = [n for n in range(len(ids)) if x[n] >= thr]
    return ids[keep], lg[keep]


def entropy_ref(pr):
    h = 0.0
    for p in pr:
        p = float(p)
        if p > 0:
            h -= p * math.log(p)
    return h


def typical_ref(ids, lg, p, near):
    if len(ids) <= 1:
        return ids, lg
    o = cand_order(ids, lg)
    ids, lg = ids[o], lg[o]
    pr = softmax(lg)
    h = entropy_ref(pr)
    scores = [abs(-math.log(float(q)) - h) if q > 0 else math.inf for q in pr]
    idx = sorted(range(len(ids)), key=lambda i: (scores[i], i))
    for a, b in zip(idx, idx[1:]):
        if pr[a] != pr[b]:
            near.order(scores[a], scores[b])
    p = float(F32(p))
    cum, keep = 0.0, len(idx)
    for n, i in enumerate(idx):
        cum += float(pr[i])
        near.gap(cum, p)
        if cum > p:
            keep = n + 1
            break
    idx = idx[:keep]
    return ids[idx], lg[idx]


def xtc_ref(ids, lg, prob, thr, rng, near):
    u = rng.uniform()
    if len(ids) < 2 or not (u < float(F32(prob))):
        return ids, lg
    near.gap(u, float(F32(prob)))
    pr = softmax(lg)
    thr = float(F32(thr))
    above = [n for n in range(len(ids)) if float(pr[n]) >= thr]
    for q in pr:
        near.gap(q, thr)
    if len(above) < 2:
        return ids, lg
    keep_one = min(above, key=lambda n: (float(lg[n]), -int(ids[n])))  # the least probable
    keep = [n for n in range(len(ids)) if n == keep_one or n not in above]
    return ids[keep], lg[keep]


def dyn_temp_ref(ids, lg, t, rng_, exp_):
    if len(ids) <= 1:
        return ids, lg, None
    t, rng_, exp_ = float(F32(t)), float(F32(rng_)), float(F32(exp_))
    lo, hi = max(0.0, t - rng_), t + rng_
    pr = softmax(lg)
    norm = entropy_ref(pr) / math.log(len(ids))
    dt = lo + (hi - lo) * norm ** exp_
    if not dt > 0:
        b = cand_order(ids, lg)[0]
        return ids[[b]], lg[[b]], dt
    x = lg.astype(np.float64)
    return ids, ((x - x.max()) / dt).astype(np.float32), dt


def mirostat_narrow_ref(ids, lg, mu, near):
    pr = softmax(lg)
    keep = []
    for n, q in enumerate(pr):
        s = -math.log2(float(q)) if q > 0 else math.inf
        near.gap(s, mu)
        if not s > mu:
            keep.append(n)
    if not keep:
        keep = [cand_order(ids, lg)[0]]
    return ids[keep], lg[keep]


class Mirostat:
    def __init__(self, tau, eta):
        self.tau, self.eta = float(F32(tau)), float(F32(eta))
        self.mu = 2.0 * self.tau

    def pick(self, ids, lg, rng, near):
        ids, lg = mirostat_narrow_ref(ids, lg, self.mu, near)
        pr = softmax(lg)
        u = rng.uniform()
        if not u_is_safe(pr, u):
            near.gap(0, 0)
        i = pick(pr, u)
        self.mu -= self.eta * (-math.log2(float(pr[i])) - self.tau)
        return int(ids[i])


# ---- the sampler, as sampler.cpp builds it ---------------------------------------------------------

DEFAULT_ORDER = ["penalties", "dry", "top_n_sigma", "top_k", "typical_p", "top_p", "min_p", "xtc", "temperature"]
EXT_DEFAULTS = dict(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, seed=0, logit_bias=[],
                    penalty_last_n=64, repeat_penalty=1.0, frequency_penalty=0.0, presence_penalty=0.0,
                    dry_multiplier=0.0, dry_base=1.75, dry_allowed_length=2, dry_penalty_last_n=-1,
                    dry_sequence_breakers=["\n", ":", "\"", "*"], dynatemp_range=0.0, dynatemp_exponent=1.0,
                    typical_p=1.0, xtc_probability=0.0, xtc_threshold=0.1, top_n_sigma=-1.0, mirostat=0,
                    mirostat_tau=5.0, mirostat_eta=0.1, order=[], context_size=4096)


class Sampler:
    def __init__(self, params, vocab=None):
        p = dict(EXT_DEFAULTS)
        p.update(params)
        self.p = p
        f = lambda k: float(F32(p[k]))
        greedy = f("temperature") <= 0
        miro = not greedy and p["mirostat"] == 2
        order = p["order"] or DEFAULT_ORDER
        window = lambda n: p["context_size"] if n == -1 else n
        last_dep = 0
        for i, k in enumerate(order):
            if (k == "typical_p" and f("typical_p") < 1) or (k == "xtc" and f("xtc_probability") > 0 and f("xtc_threshold") <= 0.5):
                last_dep = i + 1
        st = []
        if p["logit_bias"]:
            st.append(("logit_bias", None))
        for i, k in enumerate(order):
            if greedy and k in ("top_k", "top_p", "min_p", "top_n_sigma") and i >= last_dep:
                continue
            if miro and k not in ("penalties", "dry"):
                continue
            if k == "penalties":
                if p["penalty_last_n"] != 0 and (f("repeat_penalty") != 1 or f("frequency_penalty") != 0 or f("presence_penalty") != 0):
                    st.append(("penalties", window(p["penalty_last_n"])))
            elif k == "dry":
                if f("dry_multiplier") > 0 and p["dry_penalty_last_n"] != 0:
                    br = breaker_sequences_ref(p["dry_sequence_breakers"], vocab["pieces"], vocab["tokenize"]) if any(p["dry_sequence_breakers"]) else []
                    st.append(("dry", (window(p["dry_penalty_last_n"]), br)))
            elif k == "top_n_sigma":
                if f("top_n_sigma") > 0:
                    st.append((k, None))
            elif k == "top_k":
                if p["top_k"] > 0:
                    st.append((k, None))
            elif k == "typical_p":
                if f("typical_p") < 1:
                    st.append((k, None))
            elif k == "top_p":
                if f("top_p") < 1:
                    st.append((k, None))
            elif k == "min_p":
                if f("min_p") > 0:
                    st.append((k, None))
            elif k == "xtc":
                if f("xtc_probability") > 0 and f("xtc_threshold") <= 0.5:
                    st.append((k, None))
            elif k == "temperature":
                if not greedy:
                    st.append(("dyn_temp" if f("dynatemp_range") > 0 else "temperature", None))
        if greedy:
            self.pick_kind = "greedy"
        elif miro:
            st.append(("temperature", None))
            self.pick_kind = "mirostat"
            self.miro = Mirostat(p["mirostat_tau"], p["mirostat_eta"])
        else:
            self.pick_kind = "dist"
        self.stages = st
        self.hist = []
        self.rng = Rng(p["seed"])

    def names(self):
        return [k for k, _ in self.stages] + [self.pick_kind]

    def run(self, raw, rng, near):
        p = self.p
        ids, lg = load(raw)
        for k, arg in self.stages:
            if k == "logit_bias":
                ids, lg = logit_bias_ref(ids, lg, p["logit_bias"], len(raw))
            elif k == "penalties":
                ids, lg = penalties_ref(ids, lg, self.hist, arg, p["repeat_penalty"], p["frequency_penalty"], p["presence_penalty"])
            elif k == "dry":
                ids, lg = dry_ref(ids, lg, self.hist, p["dry_multiplier"], p["dry_base"], p["dry_allowed_length"], arg[0], arg[1])
            elif k == "top_n_sigma":
                ids, lg = top_n_sigma_ref(ids, lg, p["top_n_sigma"], near)
            elif k == "top_k":
                ids, lg, _ = top_k(ids, lg, False, p["top_k"])
            elif k == "typical_p":
                ids, lg = typical_ref(ids, lg, p["typical_p"], near)
            elif k == "top_p":
                ids, lg, _ = top_p(ids, lg, False, p["top_p"])
            elif k == "min_p":
                ids, lg, _ = min_p(ids, lg, False, p["min_p"])
            elif k == "xtc":
                ids, lg = xtc_ref(ids, lg, p["xtc_probability"], p["xtc_threshold"], rng, near)
            elif k == "temperature":
                ids, lg, _ = temperature(ids, lg, False, p["temperature"])
            elif k == "dyn_temp":
                ids, lg, _ = dyn_temp_ref(ids, lg, p["temperature"], p["dynatemp_range"], p["dynatemp_exponent"])
        return ids, lg

    def distribution(self, raw, near):
        r = Rng(0)
        r.s = list(self.rng.s)  # a copy: distribution() changes no state
        ids, lg = self.run(raw, r, near)
        if self.pick_kind == "mirostat":
            ids, lg = mirostat_narrow_ref(ids, lg, self.miro.mu, near)
        return ids, softmax(lg)

    def sample(self, raw, near):
        ids, lg = self.run(raw, self.rng, near)
        if self.pick_kind == "greedy":
            tok = int(ids[cand_order(ids, lg)[0]])
        elif self.pick_kind == "mirostat":
            tok = self.miro.pick(ids, lg, self.rng, near)
        else:
            pr = softmax(lg)
            u = self.rng.uniform()
            if not u_is_safe(pr, u):
                near.gap(0, 0)
            tok = int(ids[pick(pr, u)])
        self.hist.append(tok)
        return tok
