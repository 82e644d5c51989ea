#!/usr/bin/env python3
"""Prefill/decode speed of dianoia vs llama.cpp (via llama-cpp-python) on one GGUF.

Every single measurement runs in a fresh subprocess (clean memory, clean thread
pools). Rounds are interleaved: in each round every (threads, engine) pair is
measured once, with the engine order alternating between rounds. Reported
numbers are medians over rounds.

llama.cpp: low-level llama-cpp-python API. After a warm-up pass (prompt + a few
tokens, then the KV cache is cleared), the prompt is decoded as one llama_decode
batch (n_batch = n_ubatch = 512; longer prompts are split into 512-token
chunks) and then GEN single-token llama_decode calls follow, each fed the
argmax of the previous logits. Only the llama_decode calls are timed.

dianoia: `dianoia bench -m MODEL -t THREADS -p PROMPT_TOKENS -n GEN_TOKENS --json`
must print one JSON line {"prefill_tokens":N,"prefill_seconds":S,
"decode_tokens":N,"decode_seconds":S}. If the binary is missing the engine is
skipped with a message.

Several models (--model A B C) are measured one after the other in one run.
The machine's streaming read bandwidth is measured in the same run (before and
after the models, by build/bench/bench_bandwidth: AVX2 read-only sum over 1 GiB,
1 and 2 threads), and each decode speed is also given as GB/s of weights read
(weight bytes per token x tokens/s, from the GGUF's tensor table) and as a
fraction of the bandwidth at the same thread count: the decode roofline.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = os.path.expanduser("~/.cache/dianoia/SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_DIANOIA = REPO / "build" / "examples" / "dianoia"
DEFAULT_PROBE = REPO / "build" / "bench" / "bench_bandwidth"

# Fixed text used to build the llama.cpp prompt (repeated until long enough).
# Token content does not influence speed; it only has to be deterministic.
PROMPT_TEXT = (
    "The history of computing is a story of abstractions built on abstractions. "
    "Early machines were programmed by rewiring panels; later, stored programs "
    "allowed instructions to live in memory alongside data. Assemblers, compilers "
    "and operating systems followed, each hiding the details of the layer below. "
    "Today a language model running on a laptop multiplies quantized matrices "
    "billions of times per second, yet the programmer who calls it sees only text "
    "going in and text coming out. "
)


# ----------------------------------------------------------------------------
# worker: llama.cpp, runs inside its own subprocess


def llamacpp_worker(model: str, threads: int, n_prompt: int, n_gen: int, warmup: bool) -> dict:
    import ctypes

    import numpy as np
    import llama_cpp as L

    @L.llama_log_callback
    def quiet(level, text, user_data):  # noqa: ARG001
        pass

    L.llama_log_set(quiet, ctypes.c_void_p(0))
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.n_gpu_layers = 0
    t0 = time.perf_counter()
    mdl = L.llama_model_load_from_file(model.encode(), mp)
    if not mdl:
        raise RuntimeError(f"cannot load {model}")
    n_batch = 512
    cp = L.llama_context_default_params()
    cp.n_ctx = ((n_prompt + n_gen + 255) // 256) * 256
    cp.n_batch = n_batch
    cp.n_ubatch = n_batch
    cp.n_seq_max = 1
    cp.n_threads = threads
    cp.n_threads_batch = threads
    ctx = L.llama_init_from_model(mdl, cp)
    if not ctx:
        raise RuntimeError("cannot create context")
    load_s = time.perf_counter() - t0
    vocab = L.llama_model_get_vocab(mdl)
    n_vocab = L.llama_vocab_n_tokens(vocab)

    # deterministic prompt tokens
    text = PROMPT_TEXT
    while True:
        data = text.encode()
        cap = len(data) + 8
        buf = (L.llama_token * cap)()
        n = L.llama_tokenize(vocab, data, len(data), buf, cap, False, False)
        if n >= n_prompt:
            prompt = list(buf[:n_prompt])
            break
        text += PROMPT_TEXT

    batch = L.llama_batch_init(max(n_batch, 1), 0, 1)
    state = {"pos": 0}

    def decode(ids: list[int]) -> float:
        """llama_decode ids (<= n_batch); returns seconds spent in the call."""
        batch.n_tokens = len(ids)
        for i, t in enumerate(ids):
            batch.token[i] = t
            batch.pos[i] = state["pos"] + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = 1 if i == len(ids) - 1 else 0
        t = time.perf_counter()
        rc = L.llama_decode(ctx, batch)
        L.llama_synchronize(ctx)
        dt = time.perf_counter() - t
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        state["pos"] += len(ids)
        return dt

    def argmax_last() -> int:
        p = L.llama_get_logits_ith(ctx, -1)
        return int(np.argmax(np.ctypeslib.as_array(p, shape=(n_vocab,))))

    def prefill() -> float:
        return sum(decode(prompt[i:i + n_batch]) for i in range(0, n_prompt, n_batch))

    def clear():
        L.llama_memory_clear(L.llama_get_memory(ctx), True)
        state["pos"] = 0

    if warmup:
        prefill()
        for _ in range(4):
            decode([argmax_last()])
        clear()

    prefill_s = prefill()
    decode_s = 0.0
    for _ in range(n_gen):
        decode_s += decode([argmax_last()])

    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(mdl)
    return {
        "prefill_tokens": n_prompt,
        "prefill_seconds": prefill_s,
        "decode_tokens": n_gen,
        "decode_seconds": decode_s,
        "load_seconds": load_s,
        "llama_cpp_python_version": L.__version__,
    }


# ----------------------------------------------------------------------------
# roofline: bytes of weights one decoded token reads, and the machine's read bandwidth


def weight_bytes_per_token(model: str) -> int | None:
    """Every tensor is read once per token, except the token embedding when the model has a separate
    output matrix (then one row of it). Tied embeddings are read whole, as the output projection."""
    try:
        from gguf import GGUFReader
    except ImportError:
        return None
    r = GGUFReader(model)
    names = {t.name for t in r.tensors}
    total = 0
    for t in r.tensors:
        if t.name == "token_embd.weight" and "output.weight" in names:
            total += int(t.n_bytes) // int(t.shape[-1] if len(t.shape) > 1 else 1)
        else:
            total += int(t.n_bytes)
    return total


def measure_bandwidth(probe: str, threads: list[int]) -> dict[int, float]:
    """GB/s per thread count (best pass of the probe); {} if the probe is missing or fails."""
    if not (os.path.isfile(probe) and os.access(probe, os.X_OK)):
        print(f"note: bandwidth probe not found at {probe} (build target bench_bandwidth); no roofline",
              file=sys.stderr)
        return {}
    p = subprocess.run([probe, "--mib", "1024", "--threads", ",".join(map(str, threads))],
                       capture_output=True, text=True, timeout=600)
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            out[int(d["threads"])] = float(d["gb_s"])
    return out


# ----------------------------------------------------------------------------
# driver


def parse_json_line(out: str) -> dict:
    for line in reversed(out.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            return json.loads(line)
    raise ValueError("no JSON line in output")


def run_llamacpp(args, threads: int) -> dict:
    cmd = [args.python, str(Path(__file__).resolve()), "--_worker", "llamacpp",
           "--model", args.model, "--threads", str(threads),
           "--prompt-tokens", str(args.prompt_tokens), "--gen-tokens", str(args.gen_tokens)]
    if args.no_warmup:
        cmd.append("--no-warmup")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    if p.returncode != 0:
        raise RuntimeError(f"llama.cpp worker failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return parse_json_line(p.stdout)


def run_dianoia(args, threads: int) -> dict:
    cmd = [args.dianoia, "bench", "-m", args.model, "-t", str(threads),
           "-p", str(args.prompt_tokens), "-n", str(args.gen_tokens), "--json"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    if p.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return parse_json_line(p.stdout)


def usd_per_million(tok_per_s: float, usd_per_hour: float) -> float:
    return usd_per_hour / 3600.0 / tok_per_s * 1e6 if tok_per_s > 0 else float("inf")


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", nargs="+", default=[DEFAULT_MODEL],
                    help="GGUF file(s), measured one after the other (default: %(default)s)")
    ap.add_argument("--bandwidth-probe", default=str(DEFAULT_PROBE),
                    help="read-bandwidth probe binary (default: %(default)s)")
    ap.add_argument("--dianoia", default=str(DEFAULT_DIANOIA), help="dianoia CLI binary (default: %(default)s)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter with llama-cpp-python for the llama.cpp worker (default: this one)")
    ap.add_argument("--engines", default="llamacpp,dianoia", help="comma list of llamacpp,dianoia")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts (default: %(default)s)")
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--usd-per-hour", type=float, default=0.05,
                    help="machine price used for the cost columns (default: %(default)s, "
                         "a 2-vCPU cloud VM; the whole machine is charged whatever the thread count)")
    ap.add_argument("--json-out", help="also write all raw and summary numbers here")
    ap.add_argument("--no-warmup", action="store_true", help="llama.cpp: skip the warm-up pass")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per measurement subprocess")
    ap.add_argument("--_worker", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._worker == "llamacpp":
        res = llamacpp_worker(args.model[0], int(args.threads), args.prompt_tokens, args.gen_tokens,
                              not args.no_warmup)
        print(json.dumps(res))
        return 0

    threads = [int(t) for t in args.threads.split(",") if t]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ("llamacpp", "dianoia"):
            ap.error(f"unknown engine {e}")
    for m in args.model:
        if not os.path.isfile(m):
            ap.error(f"model not found: {m}")

    if "llamacpp" in engines:
        p = subprocess.run([args.python, "-c", "import llama_cpp"], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"note: llama_cpp not importable by {args.python}; skipping llama.cpp", file=sys.stderr)
            engines.remove("llamacpp")
    if "dianoia" in engines:
        exe = args.dianoia if os.sep in args.dianoia else shutil.which(args.dianoia)
        if not exe or not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            print(f"note: dianoia CLI not found at {args.dianoia}; skipping dianoia "
                  "(build it, or pass --dianoia PATH)", file=sys.stderr)
            engines.remove("dianoia")
        else:
            args.dianoia = exe
    if not engines:
        print("error: no engine left to benchmark", file=sys.stderr)
        return 1

    print(f"load before the run: {open('/proc/loadavg').read().strip()}", file=sys.stderr)
    bw_before = measure_bandwidth(args.bandwidth_probe, threads)
    docs = []
    models = list(args.model)
    for model in models:
        args.model = model
        docs.append(bench_model(args, engines, threads, bw_before))
    bw_after = measure_bandwidth(args.bandwidth_probe, threads)
    bw = {t: max(bw_before.get(t, 0.0), bw_after.get(t, 0.0)) for t in threads}
    if bw_before:
        print("Read bandwidth (AVX2 read-only sum over 1 GiB, best of 7 passes), GB/s: " + ", ".join(
            f"{t} thread{'s' if t > 1 else ''}: {bw_before.get(t, 0):.1f} before, {bw_after.get(t, 0):.1f} after"
            for t in threads) + ". The roofline fractions above divide by the bandwidth measured before the models.\n")
    print(f"load after the run: {open('/proc/loadavg').read().strip()}", file=sys.stderr)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"bandwidth_gb_s": {"before": bw_before, "after": bw_after},
                                                   "models": docs}, indent=1) + "\n", encoding="utf-8")
    return 0


def bench_model(args, engines: list[str], threads: list[int], bw_before: dict[int, float]) -> dict:
    runners = {"llamacpp": run_llamacpp, "dianoia": run_dianoia}
    raw: dict[tuple[str, int], list[dict]] = {(e, t): [] for e in engines for t in threads}
    failed: set[str] = set()
    for r in range(args.rounds):
        order = engines if r % 2 == 0 else list(reversed(engines))
        for t in threads:
            for e in order:
                if e in failed:
                    continue
                load_before = os.getloadavg()[0]
                try:
                    res = runners[e](args, t)
                except (RuntimeError, ValueError, subprocess.TimeoutExpired) as ex:
                    print(f"warning: {e} failed, dropping it: {ex}", file=sys.stderr)
                    failed.add(e)
                    continue
                res["loadavg_1min_before"] = round(load_before, 2)
                raw[(e, t)].append(res)
                print(f"round {r + 1}/{args.rounds} {e:8s} t={t}: "
                      f"prefill {res['prefill_tokens'] / res['prefill_seconds']:8.1f} tok/s, "
                      f"decode {res['decode_tokens'] / res['decode_seconds']:7.1f} tok/s "
                      f"(1-min load avg before: {load_before:.2f})", file=sys.stderr)

    summary = []
    for t in threads:
        for e in engines:
            runs = raw[(e, t)]
            if not runs:
                continue
            pfs = [x["prefill_tokens"] / x["prefill_seconds"] for x in runs]
            dcs = [x["decode_tokens"] / x["decode_seconds"] for x in runs]
            pf, dc = statistics.median(pfs), statistics.median(dcs)
            summary.append({"engine": e, "threads": t, "runs": len(runs),
                            "prefill_tok_s": pf, "decode_tok_s": dc,
                            "prefill_tok_s_min_max": [min(pfs), max(pfs)],
                            "decode_tok_s_min_max": [min(dcs), max(dcs)],
                            "usd_per_m_prompt": usd_per_million(pf, args.usd_per_hour),
                            "usd_per_m_generated": usd_per_million(dc, args.usd_per_hour)})
    if not summary:
        print(f"error: no successful measurement for {args.model}", file=sys.stderr)
        return {"model": args.model, "summary": []}
    wbytes = weight_bytes_per_token(args.model)
    for s in summary:
        s["weight_gb_s"] = wbytes * s["decode_tok_s"] / 1e9 if wbytes else None
        b = bw_before.get(s["threads"])
        s["roofline_fraction"] = s["weight_gb_s"] / b if (wbytes and b) else None
    base = {(s["threads"]): s for s in summary if s["engine"] == "llamacpp"}
    for s in summary:
        b = base.get(s["threads"])
        s["prefill_ratio"] = s["prefill_tok_s"] / b["prefill_tok_s"] if b else None
        s["decode_ratio"] = s["decode_tok_s"] / b["decode_tok_s"] if b else None

    names = {"llamacpp": "llama.cpp", "dianoia": "dianoia"}
    max_load = max((x["loadavg_1min_before"] for runs in raw.values() for x in runs), default=0.0)
    print(f"Model: `{os.path.basename(args.model)}`, prompt {args.prompt_tokens} tokens, "
          f"{args.gen_tokens} generated tokens, median of {args.rounds} interleaved rounds. "
          f"CPU: {cpu_name()} ({os.cpu_count()} logical CPUs). "
          f"Cost assumes the whole machine at ${args.usd_per_hour:g}/hour serving one stream. "
          f"Max 1-min load average seen before a measurement: {max_load:.2f} "
          f"(anything well above the thread count means other work competed for the CPUs).\n")
    if wbytes:
        print(f"Weights read per decoded token: {wbytes / 1e6:.1f} MB.\n")
    print("| engine | threads | prefill tok/s | decode tok/s | prefill ratio dianoia/llama.cpp "
          "| decode ratio dianoia/llama.cpp | decode GB/s of weights | % of read bandwidth "
          "| $ per 1M prompt tokens | $ per 1M generated tokens |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def ratio(x):
        return "—" if x is None else f"{x:.2f}"

    def opt(x, fmt):
        return "—" if x is None else format(x, fmt)

    for s in summary:
        show = s["engine"] != "llamacpp"
        print(f"| {names[s['engine']]} | {s['threads']} | {s['prefill_tok_s']:.1f} | {s['decode_tok_s']:.1f} "
              f"| {ratio(s['prefill_ratio']) if show else '1.00'} | {ratio(s['decode_ratio']) if show else '1.00'} "
              f"| {opt(s['weight_gb_s'], '.2f')} | {opt(s['roofline_fraction'] and 100 * s['roofline_fraction'], '.0f')} "
              f"| {s['usd_per_m_prompt']:.4f} | {s['usd_per_m_generated']:.4f} |")
    print()

    doc = {
        "model": args.model,
        "prompt_tokens": args.prompt_tokens,
        "gen_tokens": args.gen_tokens,
        "rounds": args.rounds,
        "usd_per_hour": args.usd_per_hour,
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "summary": summary,
        "raw": [{"engine": e, "threads": t, "runs": runs} for (e, t), runs in raw.items()],
        "weight_bytes_per_token": wbytes,
    }
    return doc


if __name__ == "__main__":
    sys.exit(main())
