#!/usr/bin/env python3
"""Self-consistency with and without confidence (DeepConf) on generated multi-step arithmetic.

Generates problems with known answers (a chain of 3-4 integer operations, seeded), asks the model for
N samples per problem through `dianoia run --samples N --vote confidence --json`, and reports accuracy
and generated tokens for:
  * plain majority voting (recomputed here from the same samples' answers, \\boxed{} else last number),
  * DeepConf offline (the run's own confidence-weighted vote over the top eta% of samples),
  * DeepConf online (a second run: warm-up, early stops, consensus stop).
Same seeds for every problem in both runs, so majority and offline see identical samples.

  python3 tools/deepconf_eval.py --cli build/examples/dianoia --model M.gguf --problems 12 --samples 8
  python3 tools/deepconf_eval.py --print-problems 5      # just the problems
CPU-heavy: run it under `nice -n 19`.
"""
import argparse
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter


def make_problems(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        steps = rng.choice([3, 4])
        value = rng.randint(2, 20)
        words = [f"Start with {value}."]
        for _ in range(steps):
            op = rng.choice(["add", "sub", "mul"])
            if op == "add":
                k = rng.randint(2, 30)
                value += k
                words.append(f"Add {k}.")
            elif op == "sub":
                k = rng.randint(1, 15)
                value -= k
                words.append(f"Subtract {k}.")
            else:
                k = rng.randint(2, 5)
                value *= k
                words.append(f"Multiply by {k}.")
        q = " ".join(words) + " What is the result? Work it out step by step, then give the final answer as \\boxed{N}."
        out.append({"question": q, "answer": str(value)})
    return out


def extract(text):
    b = text.rfind("\\boxed{")
    if b >= 0:
        depth, i = 1, b + 7
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    return text[b + 7:i].strip()
            i += 1
    nums = re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)
    return nums[-1].replace(",", "") if nums else None


def run(cli, model, q, n, seed, extra, ctx):
    cmd = [cli, "run", "-m", model, "-c", str(ctx), "-p", q, "--samples", str(n), "--vote", "confidence", "--json",
           "--seed", str(seed)] + extra
    t0 = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"dianoia failed: {res.stderr}")
    content, done, vote = {}, {}, None
    for line in res.stdout.splitlines():
        ev = json.loads(line)
        if ev["type"] == "content":
            content[ev["sample"]] = content.get(ev["sample"], "") + ev["text"]
        elif ev["type"] == "done":
            done[ev["sample"]] = ev
        elif ev["type"] == "vote":
            vote = ev
    return content, done, vote, time.time() - t0


def majority(answers):
    got = [a for a in answers if a is not None]
    if not got:
        return None
    counts = Counter(got)
    best = max(counts.values())
    return next(a for a in got if counts[a] == best)  # ties: the earliest answer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/examples/dianoia")
    ap.add_argument("--model")
    ap.add_argument("--problems", type=int, default=12)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=192)
    ap.add_argument("--temp", type=float, default=0.7)
    ap.add_argument("--window", type=int, default=32, help="confidence window (the paper's 2048 exceeds these traces)")
    ap.add_argument("--keep", type=float, default=50, help="eta, percent: offline top share kept")
    ap.add_argument("--online-keep", type=float, default=90, help="eta for online: 90 = DeepConf-high")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--consensus", type=float, default=0.95)
    ap.add_argument("--print-problems", type=int, default=0)
    a = ap.parse_args()
    if a.print_problems:
        for p in make_problems(a.print_problems, a.seed):
            print(p["answer"], "|", p["question"])
        return
    probs = make_problems(a.problems, a.seed)
    ctx = a.samples * a.max_tokens + 256
    common = ["-n", str(a.max_tokens), "--temp", str(a.temp), "--conf-window", str(a.window)]
    tot = {"majority": [0, 0], "offline": [0, 0], "online": [0, 0]}  # correct, tokens
    secs = {"offline": 0.0, "online": 0.0}
    for i, p in enumerate(probs):
        seed = a.seed * 1000 + i
        content, done, vote, s_off = run(a.cli, a.model, p["question"], a.samples, seed,
                                         common + ["--conf-keep", str(a.keep)], ctx)
        toks = sum(d["reasoning_tokens"] + d["content_tokens"] for d in done.values())
        answers = [extract(content.get(k, "")) for k in range(a.samples)]
        maj = majority(answers)
        off = vote["winner"]
        c2, d2, v2, s_on = run(a.cli, a.model, p["question"], a.samples, seed,
                               common + ["--conf-mode", "online", "--conf-keep", str(a.online_keep),
                                         "--conf-warmup", str(a.warmup), "--conf-consensus", str(a.consensus)], ctx)
        toks_on = sum(d["reasoning_tokens"] + d["content_tokens"] for d in d2.values())
        on = v2["winner"]
        early = sum(1 for d in d2.values() if d["stop_reason"] == "low_confidence")
        for name, got, t in (("majority", maj, toks), ("offline", off, toks), ("online", on, toks_on)):
            tot[name][0] += got == p["answer"]
            tot[name][1] += t
        secs["offline"] += s_off
        secs["online"] += s_on
        print(f"[{i}] answer {p['answer']}: samples {answers} | majority {maj} | offline {off} | online {on} "
              f"({len(d2)} samples, {early} stopped early; {toks} vs {toks_on} tokens)", flush=True)
    n = len(probs)
    print(f"\n{n} problems, {a.samples} samples each, temperature {a.temp}, window {a.window}")
    for name in ("majority", "offline", "online"):
        c, t = tot[name]
        print(f"{name:9s} accuracy {c}/{n} = {100.0 * c / n:.0f}%   tokens generated {t}")
    print(f"wall time: offline run (also majority) {secs['offline']:.0f} s, online run {secs['online']:.0f} s")


if __name__ == "__main__":
    main()
